use assert_cmd::Command;

#[test]
fn completions_for_bash_name_the_subcommands() {
    let output = Command::cargo_bin("osorganic")
        .unwrap()
        .args(["completions", "bash"])
        .assert()
        .success();
    let script = String::from_utf8(output.get_output().stdout.clone()).unwrap();
    assert!(script.contains("spawn") && script.contains("update") && script.contains("doctor"));
}
