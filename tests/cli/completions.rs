use crate::support::TestEnv;

#[test]
fn completions_for_bash_name_the_subcommands() {
    let output = TestEnv::new()
        .osorganic()
        .args(["completions", "bash"])
        .assert()
        .success();
    let script = String::from_utf8(output.get_output().stdout.clone()).unwrap();
    assert!(script.contains("spawn") && script.contains("update") && script.contains("doctor"));
}
