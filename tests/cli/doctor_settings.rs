//! doctor as a newcomer meets it: `cp .env.example .env && osorganic doctor` reads `.env` (never exporting it),
//! names placeholders and where each setting came from; its fixes keep the user's work; its locations point at
//! the key.

use serde_json::Value;

use crate::support::TestEnv;

/// Variables a deploy could run with (never real secrets).
const DOT_ENV: &str = "GITHUB_WEBHOOK_SECRET=0123456789abcdef0123456789abcdef\n\
DATABASE_URL=postgresql://postgres.ref:pw@aws-0-eu-west-1.pooler.supabase.com:6543/postgres\n\
GITHUB_TOKEN=github_pat_test\n\
GITHUB_REPOSITORY=acme/demo\n\
OSORGANIC_BOT_LOGIN=demo-bot[bot]\n\
LLM_PROVIDER=offline\n\
CRON_SECRET=cron-secret-for-tests\n";

/// The runtime's variables, removed from doctor's own environment so only the child's files count.
const RUNTIME_VARIABLES: &[&str] = &[
    "GITHUB_WEBHOOK_SECRET",
    "DATABASE_URL",
    "GITHUB_TOKEN",
    "GITHUB_REPOSITORY",
    "OSORGANIC_BOT_LOGIN",
    "LLM_PROVIDER",
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "CRON_SECRET",
    "GITHUB_OAUTH_CLIENT_ID",
    "GITHUB_OAUTH_CLIENT_SECRET",
    "CONSOLE_SESSION_SECRET",
    "GITHUB_SERVER_URL",
];

fn spawned() -> TestEnv {
    let env = TestEnv::new();
    env.spawn(&["demo", "--yes"]).success();
    env
}

/// `osorganic doctor --offline --json --path demo`: exit code and report.
fn doctor(env: &TestEnv) -> (i32, Value) {
    let mut command = env.osorganic();
    command.args(["doctor", "--offline", "--json", "--path", "demo"]);
    for name in RUNTIME_VARIABLES {
        command.env_remove(name);
    }
    let output = command.output().unwrap();
    let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "not JSON ({error}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    });
    (output.status.code().unwrap_or(-1), report)
}

fn checks<'a>(report: &'a Value, id: &str) -> Vec<&'a Value> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|check| check["id"] == id)
        .collect()
}

#[test]
fn doctor_reads_dot_env_and_flags_the_example_placeholder() {
    let env = spawned();
    std::fs::copy(env.path("demo/.env.example"), env.path("demo/.env")).unwrap();
    let (code, report) = doctor(&env);
    assert_eq!(code, 1, "{report:#}");
    // The connection string of `.env.example` is a placeholder, pointed at in `.env`.
    let placeholders = checks(&report, "runtime.placeholder");
    assert!(
        placeholders.iter().any(|check| check["status"] == "error"
            && check["file"] == ".env"
            && check["message"]
                .as_str()
                .unwrap()
                .contains("`DATABASE_URL` (from `.env`)")),
        "{report:#}"
    );
    // A secret doctor cannot know is named, with the file to put it in.
    assert!(
        checks(&report, "runtime.env").iter().any(|check| {
            check["message"] == "`GITHUB_WEBHOOK_SECRET` is not set"
                && check["fix"].as_str().unwrap().contains("`.env`")
        }),
        "{report:#}"
    );
    // Real defaults equal to the example (`LLM_PROVIDER=offline`) are not placeholders.
    assert!(
        placeholders
            .iter()
            .all(|check| !check["message"].as_str().unwrap().contains("LLM_PROVIDER")),
        "{report:#}"
    );
}

#[test]
fn doctor_passes_with_settings_in_dot_env_and_says_where_they_came_from() {
    let env = spawned();
    env.write("demo/.env", DOT_ENV);
    let (_, report) = doctor(&env);
    let runtime_errors: Vec<_> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|check| check["group"] == "runtime" && check["status"] == "error")
        .collect();
    assert!(runtime_errors.is_empty(), "{report:#}");
    let origins = checks(&report, "runtime.origins");
    let message = origins[0]["message"].as_str().unwrap();
    assert!(
        message.contains("from `.env`: ") && message.contains("DATABASE_URL"),
        "{message}"
    );
    assert!(
        checks(&report, "runtime.dotenv")[0]["message"]
            .as_str()
            .unwrap()
            .contains("`.env` read"),
        "{report:#}"
    );
}

#[test]
fn an_env_file_given_on_the_command_line_wins_over_dot_env() {
    let env = spawned();
    env.write(
        "demo/.env",
        &DOT_ENV.replace("CRON_SECRET=cron-secret-for-tests\n", ""),
    );
    env.write("deploy.env", "CRON_SECRET=from-the-flag\n");
    let output = env
        .osorganic()
        .args([
            "doctor",
            "--offline",
            "--json",
            "--path",
            "demo",
            "--env-file",
            "deploy.env",
        ])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let message = checks(&report, "runtime.origins")[0]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.contains("from `deploy.env`: CRON_SECRET"),
        "{message}"
    );
}

#[test]
fn every_fix_doctor_prints_keeps_the_users_work() {
    let env = spawned();
    // Break the child in the ways whose fixes used to discard files: a missing vercel.json and
    // requirements.txt, a binary migration, an invalid record.
    std::fs::remove_file(env.path("demo/vercel.json")).unwrap();
    std::fs::remove_file(env.path("demo/requirements.txt")).unwrap();
    std::fs::write(
        env.path("demo/supabase/migrations/20250201000000_blob.sql"),
        [0u8, 159, 146, 150, 0, 1],
    )
    .unwrap();
    let record = env.read("demo/.osorganic.toml");
    env.write(
        "demo/.osorganic.toml",
        &record.replacen("[answers]", "[answers]\nproject_name = 3", 1),
    );
    let (_, report) = doctor(&env);
    let fixes: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|check| check["fix"].as_str())
        .collect();
    assert!(fixes.len() > 3, "{report:#}");
    for fix in fixes {
        for discarding in ["git checkout --", "git rm ", "git reset --hard", "rm -"] {
            assert!(!fix.contains(discarding), "`{fix}` could throw work away");
        }
    }
}

#[test]
fn max_duration_is_pointed_at_in_its_own_function() {
    // Regression: the line was the first `maxDuration` of the file, in another function.
    let env = spawned();
    let text = env.read("demo/vercel.json");
    let broken = text.replacen("\"maxDuration\": 10", "\"maxDuration\": 900", 1);
    assert_ne!(text, broken);
    env.write("demo/vercel.json", &broken);
    let wanted = broken
        .lines()
        .position(|line| line.contains("\"maxDuration\": 900"))
        .unwrap()
        + 1;
    let (_, report) = doctor(&env);
    let errors: Vec<_> = checks(&report, "vercel.max-duration")
        .into_iter()
        .filter(|check| check["status"] == "error")
        .collect();
    assert_eq!(errors.len(), 1, "{report:#}");
    assert_eq!(errors[0]["line"], wanted, "{report:#}");
}

#[test]
fn doctor_reports_who_owns_the_childs_files() {
    let env = spawned();
    let (_, report) = doctor(&env);
    let ownership = checks(&report, "template.ownership");
    let message = ownership[0]["message"].as_str().unwrap();
    assert!(
        message.contains("managed (`osorganicai/**`)")
            && message.contains("seeded (`src/agents/**`)")
            && message.contains("merged three-way"),
        "{message}"
    );
    assert_eq!(ownership[0]["status"], "ok");
}

#[cfg(unix)]
#[test]
fn an_unreadable_dot_env_is_an_error_not_fine() {
    // A link to itself cannot be read, even by root (whom file modes do not stop).
    let env = spawned();
    std::os::unix::fs::symlink(".env", env.path("demo/.env")).unwrap();
    let (code, report) = doctor(&env);
    assert_eq!(code, 1, "{report:#}");
    let dot_env = checks(&report, "runtime.dotenv");
    assert_eq!(dot_env[0]["status"], "error", "{report:#}");
    assert_eq!(dot_env[0]["file"], ".env");
    let fix = dot_env[0]["fix"].as_str().unwrap();
    assert!(
        !fix.contains("git checkout") && !fix.contains("git rm"),
        "{fix}"
    );
}

#[test]
fn a_half_set_up_console_sign_in_is_an_error_naming_what_is_missing() {
    let env = spawned();
    env.write(
        "demo/.env",
        &format!("{DOT_ENV}GITHUB_OAUTH_CLIENT_ID=Ov23liExample\n"),
    );
    let (code, report) = doctor(&env);
    assert_eq!(code, 1, "{report:#}");
    let console = checks(&report, "runtime.console");
    assert_eq!(console[0]["status"], "error", "{report:#}");
    assert!(
        console[0]["message"]
            .as_str()
            .unwrap()
            .contains("`GITHUB_OAUTH_CLIENT_SECRET`, `CONSOLE_SESSION_SECRET` not"),
        "{report:#}"
    );

    env.write(
        "demo/.env",
        &format!(
            "{DOT_ENV}GITHUB_OAUTH_CLIENT_ID=Ov23liExample\nGITHUB_OAUTH_CLIENT_SECRET=s3cret\n\
             CONSOLE_SESSION_SECRET=0123456789abcdef0123456789abcdef\n"
        ),
    );
    let (_, report) = doctor(&env);
    assert_eq!(
        checks(&report, "runtime.console")[0]["status"],
        "ok",
        "{report:#}"
    );
}

/// The newcomer's path: spawn, `cp .env.example .env`, doctor. The answers are already in `.env.example`, so what
/// is left are the secrets osorganic cannot know, each named with the file to put it in.
#[test]
fn a_spawned_child_followed_through_its_next_steps_lacks_only_its_secrets() {
    let env = TestEnv::new();
    env.spawn(&[
        "demo",
        "--yes",
        "--define",
        "github_repository=acme/demo",
        "--define",
        "llm_provider=anthropic",
    ])
    .success();
    let example = env.read("demo/.env.example");
    for line in [
        "GITHUB_REPOSITORY=acme/demo",
        "OSORGANIC_BOT_LOGIN=demo-bot[bot]",
        "LLM_PROVIDER=anthropic",
    ] {
        assert!(
            example.lines().any(|text| text == line),
            "{line} in:\n{example}"
        );
    }
    env.write("demo/.env", &example);

    let (code, report) = doctor(&env);

    assert_eq!(code, 1, "{report:#}");
    let errors: Vec<&Value> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|check| check["status"] == "error")
        .collect();
    let secrets = [
        "GITHUB_WEBHOOK_SECRET",
        "DATABASE_URL",
        "GITHUB_TOKEN",
        "ANTHROPIC_API_KEY",
        "CRON_SECRET",
    ];
    for error in &errors {
        let message = error["message"].as_str().unwrap();
        assert!(
            secrets
                .iter()
                .any(|name| message.contains(&format!("`{name}`"))),
            "an error that is not a secret: {error:#}"
        );
        assert!(
            error["fix"].as_str().unwrap().contains("`.env`"),
            "the fix names the file: {error:#}"
        );
    }
    assert_eq!(errors.len(), secrets.len(), "{errors:#?}");
}
