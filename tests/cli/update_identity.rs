//! What an update takes from the new version besides its files: the template's identity (another template is
//! refused unless asked for), its version (recorded even when the render is the same), its new questions (named by
//! `--check`), and secret answers (never replaced by a default).

use crate::update_env::{UpdateEnv, text};

const SECRET: &str = "[questions.api_token]\ntype = \"string\"\ndefault = \"\"\nsecret = true\n";
const TOKEN_FILE: (&str, &[u8]) = (
    "token.txt.tera",
    b"{% if api_token %}token configured{% else %}no token{% endif %}\n",
);

// A source holding another template (a wrong `--from`) is refused before anything is written.
#[test]
fn update_refuses_a_template_with_another_name() {
    let env = UpdateEnv::new();
    env.template("1.0.0", "", &[("a.txt", b"a\n")]).spawn(&[]);
    env.template("2.0.0", "", &[("a.txt", b"b\n")]);
    std::fs::write(
        env.template_dir().join("template.toml"),
        "[template]\nname = \"other-template\"\nversion = \"2.0.0\"\n",
    )
    .unwrap();
    let head = env.head();
    for args in [&["--yes"][..], &["--check"], &["--dry-run"]] {
        let stderr = env.update_expecting(args, 1);
        assert!(
            stderr.contains("the template `other-template`, not `test-template`"),
            "{stderr}"
        );
        assert!(stderr.contains("--switch-template"), "{stderr}");
    }
    assert_eq!(env.head(), head);
    assert_eq!(env.read("a.txt"), "a\n");
    env.update_expecting(&["--yes", "--switch-template"], 0);
    assert_eq!(env.read("a.txt"), "b\n");
    assert!(
        env.read(".osorganic.toml")
            .contains("name = \"other-template\"")
    );
}

// A new version number whose files render the same is still a move: `--check` says behind, update records it.
#[test]
fn update_records_a_version_bump_with_an_identical_render() {
    let env = UpdateEnv::new();
    env.template("1.0.0", "", &[("a.txt", b"a\n")]).spawn(&[]);
    env.template("1.1.0", "", &[("a.txt", b"a\n")]);
    let stderr = env.update_expecting(&["--check"], 1);
    assert!(stderr.contains("test-template 1.0.0 -> 1.1.0"), "{stderr}");
    env.update_expecting(&[], 0);
    assert!(env.read(".osorganic.toml").contains("version = \"1.1.0\""));
    assert_eq!(env.read("a.txt"), "a\n");
    assert_eq!(env.status(), "");
    let stderr = env.update_expecting(&["--check"], 0);
    assert!(
        stderr.contains("already up to date with test-template 1.1.0"),
        "{stderr}"
    );
}

// A new question is what `--check` reports, with its key and exit 1 (not an error because no terminal can ask).
#[test]
fn check_names_a_new_question_with_exit_1() {
    let env = UpdateEnv::new();
    env.template("1.0.0", "", &[("a.txt", b"a\n")]).spawn(&[]);
    let question = "[questions.region]\ntype = \"string\"\ndefault = \"eu\"\n";
    env.template("1.0.0", question, &[("a.txt", b"a\n")]);
    let output = env.update(&["--check", "--json"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("new question `region`"), "{stderr}");
    assert!(stderr.contains("--define region=VALUE"), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["status"], "behind");
    assert_eq!(report["new_questions"], serde_json::json!(["region"]));
    // Answered by `--define`, it is no longer new (and this one changes no file).
    let stderr = env.update_expecting(&["--check", "--define", "region=us"], 0);
    assert!(!stderr.contains("new question"), "{stderr}");
}

// The hint for an unanswered question names what update accepts (it has no `--answers-file`).
#[test]
fn update_hint_for_an_unanswered_question_names_define_and_yes() {
    let env = UpdateEnv::new();
    env.template("1.0.0", "", &[("a.txt", b"a\n")]).spawn(&[]);
    let question = "[questions.region]\ntype = \"string\"\ndefault = \"eu\"\n";
    env.template("2.0.0", question, &[("a.txt", b"b\n")]);
    let stderr = env.update_expecting(&[], 2);
    assert!(stderr.contains("region"), "{stderr}");
    assert!(stderr.contains("--define NAME=VALUE"), "{stderr}");
    assert!(!stderr.contains("--answers-file"), "{stderr}");
}

// `--yes` never puts a secret's default where its answer was: refused with the key named, then given by the
// environment.
#[test]
fn update_never_replaces_a_secret_answer_with_its_default() {
    let env = UpdateEnv::new();
    env.template("1.0.0", SECRET, &[("a.txt", b"a\n"), TOKEN_FILE])
        .spawn(&["--define", "api_token=s3cr3t-value"]);
    env.template("2.0.0", SECRET, &[("a.txt", b"b\n"), TOKEN_FILE]);
    let head = env.head();
    let stderr = env.update_expecting(&["--yes"], 1);
    assert!(stderr.contains("api_token"), "{stderr}");
    assert!(stderr.contains("OSORGANIC_ANSWER_API_TOKEN"), "{stderr}");
    assert_eq!(env.head(), head);
    assert_eq!(env.read("token.txt"), "token configured\n");
    let output = env
        .osorganic(&env.child_dir())
        .env("OSORGANIC_ANSWER_API_TOKEN", "s3cr3t-value")
        .args(["update", "--yes"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(env.read("a.txt"), "b\n");
    assert_eq!(env.read("token.txt"), "token configured\n");
    assert!(!env.read(".osorganic.toml").contains("s3cr3t-value"));
}

// One vocabulary for sources: update takes spawn's `--template`/`--ref` as aliases of `--from`/`--to`, and spawn
// takes `--from`/`--to`.
#[test]
fn update_and_spawn_take_each_others_source_flags() {
    let env = UpdateEnv::new();
    env.template("1.0.0", "", &[("a.txt", b"a\n")]).spawn(&[]);
    env.template("2.0.0", "", &[("a.txt", b"b\n")]);
    let template = env.template_dir().to_string_lossy().into_owned();
    let stderr = env.update_expecting(&["--check", "--template", &template], 1);
    assert!(stderr.contains("test-template 1.0.0 -> 2.0.0"), "{stderr}");
    let help = env
        .osorganic(&env.child_dir())
        .args(["update", "--help"])
        .output()
        .unwrap();
    let help = text(&help.stdout);
    assert!(help.contains("--template"), "{help}");
    let spawned = env
        .osorganic(&env.child_dir())
        .args(["spawn", "other", "--yes", "--dry-run", "--from", &template])
        .output()
        .unwrap();
    assert_eq!(spawned.status.code(), Some(0), "{}", text(&spawned.stderr));
}
