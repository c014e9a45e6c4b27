//! `osorganic doctor` on a freshly spawned child: it passes with its variables set, and each way of
//! breaking the child shows up as the matching finding, naming the file, in both outputs.

use std::path::PathBuf;

use serde_json::Value;

use crate::support::{TestEnv, stderr_of, stdout_of};
use crate::update_env::UpdateEnv;

/// Values for every variable a child's runtime needs (never real secrets).
const ENV_FILE: &str = "GITHUB_WEBHOOK_SECRET=0123456789abcdef0123456789abcdef\n\
DATABASE_URL=postgresql://postgres.ref:pw@aws-0-eu-west-1.pooler.supabase.com:6543/postgres\n\
GITHUB_TOKEN=github_pat_test\n\
GITHUB_REPOSITORY=acme/demo\n\
OSORGANIC_BOT_LOGIN=demo-bot[bot]\n\
LLM_PROVIDER=openai\n\
OPENAI_API_KEY=sk-test\n\
CRON_SECRET=cron-secret-for-tests\n";

/// A spawned child `demo` in the work folder and an env file `demo.env` beside it.
struct Child {
    env: TestEnv,
}

impl Child {
    fn spawn() -> Self {
        let env = TestEnv::new();
        env.spawn(&["demo", "--yes"]).success();
        env.write("demo.env", ENV_FILE);
        Self { env }
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.env.path("demo").join(relative)
    }

    fn write(&self, relative: &str, text: &str) -> &Self {
        self.env.write(&format!("demo/{relative}"), text);
        self
    }

    fn edit(&self, relative: &str, from: &str, to: &str) -> &Self {
        let text = self.env.read(&format!("demo/{relative}"));
        assert!(text.contains(from), "`{relative}` has no `{from}`");
        self.write(relative, &text.replacen(from, to, 1))
    }

    fn set_env(&self, line: &str) -> &Self {
        let name = line.split('=').next().unwrap_or_default();
        let kept: Vec<&str> = ENV_FILE
            .lines()
            .filter(|existing| !existing.starts_with(&format!("{name}=")))
            .collect();
        self.env
            .write("demo.env", &format!("{}\n{line}\n", kept.join("\n")));
        self
    }

    /// `osorganic doctor --offline --path demo --env-file demo.env [--json]`: exit code, stdout.
    fn doctor(&self, json: bool) -> (i32, String) {
        let mut command = self.env.osorganic();
        command.args([
            "doctor",
            "--offline",
            "--path",
            "demo",
            "--env-file",
            "demo.env",
        ]);
        if json {
            command.arg("--json");
        }
        command.timeout(std::time::Duration::from_secs(30));
        let assert = command.assert();
        let code = assert.get_output().status.code().unwrap_or(-1);
        (code, stdout_of(&assert))
    }

    fn report(&self) -> Value {
        let (_, stdout) = self.doctor(true);
        serde_json::from_str(&stdout)
            .unwrap_or_else(|error| panic!("--json is not JSON ({error}): {stdout}"))
    }

    /// The child fails doctor with an error `id` naming `file`, in the human and the JSON report.
    fn expect_error(&self, id: &str, file: &str) {
        self.expect("error", id, file);
    }

    fn expect(&self, status: &str, id: &str, file: &str) {
        let (code, human) = self.doctor(false);
        let wanted_code = if status == "error" { 1 } else { code };
        assert_eq!(code, wanted_code, "exit status for {id}:\n{human}");
        let mark = format!("  {status:<5} ");
        assert!(
            human
                .lines()
                .any(|line| line.starts_with(&mark) && line.contains(&format!("({file}"))),
            "no `{status}` line naming `{file}` for {id}:\n{human}"
        );
        let report = self.report();
        let checks = report["checks"].as_array().expect("a checks array");
        assert!(
            checks.iter().any(|check| check["id"] == id
                && check["status"] == status
                && check["file"] == file),
            "no {status} `{id}` on `{file}` in:\n{report:#}"
        );
        if status == "error" {
            assert!(report["summary"]["error"].as_u64().unwrap_or(0) > 0);
        }
    }
}

#[test]
fn doctor_passes_a_fresh_child_with_its_variables_set() {
    let child = Child::spawn();
    let (code, human) = child.doctor(false);
    assert_eq!(code, 0, "{human}");
    for group in [
        "Project", "Template", "Vercel", "Supabase", "GitHub", "Runtime", "Tools",
    ] {
        assert!(
            human.lines().any(|line| line == group),
            "no `{group}` group:\n{human}"
        );
    }
    assert!(human.contains("ready to deploy"), "{human}");
    // Values are never printed.
    assert!(
        !human.contains("sk-test") && !human.contains("0123456789abcdef"),
        "{human}"
    );
    let report = child.report();
    assert_eq!(report["summary"]["error"], 0, "{report:#}");
    let checks = report["checks"].as_array().unwrap();
    for check in checks {
        for key in ["id", "group", "status", "message"] {
            assert!(check.get(key).is_some(), "{key} missing in {check}");
        }
    }
}

#[test]
fn doctor_outside_a_child_exits_2() {
    let env = TestEnv::new();
    let assert = env
        .osorganic()
        .args(["doctor", "--path", "."])
        .assert()
        .code(2);
    assert!(
        stderr_of(&assert).contains("not an osorganic child"),
        "{}",
        stderr_of(&assert)
    );
}

#[test]
fn doctor_with_an_unreadable_record_exits_2() {
    let child = Child::spawn();
    child.write(".osorganic.toml", "name = [unclosed\n");
    let (code, _) = child.doctor(false);
    assert_eq!(code, 2);
}

// Project

#[test]
fn doctor_reports_conflict_markers() {
    let child = Child::spawn();
    child.edit(
        "README.md",
        "\n",
        "\n<<<<<<< child\nmine\n=======\ntheirs\n>>>>>>> template@0.2.0\n",
    );
    child.expect_error("project.conflicts", "README.md");
}

#[test]
fn doctor_reports_an_unfinished_update() {
    let child = Child::spawn();
    let head = child.env.git(&child.path(""), &["rev-parse", "HEAD"]);
    std::fs::write(child.path(".git/MERGE_HEAD"), format!("{head}\n")).unwrap();
    let (code, human) = child.doctor(false);
    assert_eq!(code, 1, "{human}");
    assert!(human.contains("an unfinished merge"), "{human}");
    let report = child.report();
    assert!(
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == "project.update" && c["status"] == "error")
    );
}

// An update that stopped on conflicts: doctor names osorganic's update, the conflicted file, and both ways out.
#[test]
fn doctor_reports_an_unfinished_osorganic_update() {
    let env = UpdateEnv::new();
    env.template("1.0.0", "", &[("a.txt", b"one\ntwo\n")])
        .spawn(&[]);
    env.write("a.txt", "mine\ntwo\n").commit("edit");
    env.template("2.0.0", "", &[("a.txt", b"theirs\ntwo\n")]);
    env.update_expecting(&[], 1);
    let output = env
        .osorganic(&env.child_dir())
        .args(["doctor", "--json", "--offline"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let check = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|check| check["id"] == "project.update")
        .cloned()
        .unwrap();
    assert_eq!(check["status"], "error", "{check:#}");
    assert!(
        check["message"]
            .as_str()
            .unwrap()
            .contains("osorganic update"),
        "{check:#}"
    );
    assert_eq!(check["file"], "a.txt");
    let fix = check["fix"].as_str().unwrap();
    assert!(
        fix.contains("git commit") && fix.contains("osorganic update --abort"),
        "{fix}"
    );
    env.update_expecting(&["--abort"], 0);
    let after = env
        .osorganic(&env.child_dir())
        .args(["doctor", "--json", "--offline"])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&after.stdout).unwrap();
    assert!(
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|check| check["id"] == "project.update" && check["status"] == "ok"),
        "{report:#}"
    );
}

#[test]
fn doctor_warns_about_uncommitted_changes() {
    let child = Child::spawn();
    child.write("notes.txt", "scratch\n");
    let (code, _) = child.doctor(false);
    assert_eq!(code, 0);
    let report = child.report();
    let check = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "project.uncommitted")
        .cloned();
    assert_eq!(check.unwrap()["status"], "warn");
}

#[test]
fn doctor_reports_a_missing_template() {
    let child = Child::spawn();
    child.edit(
        ".osorganic.toml",
        "source = \"embedded\"\nkind = \"embedded\"",
        "source = \"/nowhere/template\"\nkind = \"path\"",
    );
    child.expect_error("project.template", ".osorganic.toml");
}

/// `doctor --json --offline` in a child of a folder template: the `template.drift` check.
fn drift_of(env: &UpdateEnv) -> Value {
    let output = env
        .osorganic(&env.child_dir())
        .args(["doctor", "--json", "--offline"])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).expect("a JSON report");
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|check| check["id"] == "template.drift")
        .cloned()
        .expect("a template.drift check")
}

/// doctor warns about drift exactly when `update --check` exits 1, and says the same versions.
fn assert_doctor_agrees_with_update_check(env: &UpdateEnv, behind: bool) {
    let update_check = env.update(&["--check"]);
    let drift = drift_of(env);
    let code = update_check.status.code();
    assert_eq!(code, Some(if behind { 1 } else { 0 }), "{update_check:?}");
    let status = if behind { "warn" } else { "ok" };
    assert_eq!(drift["status"], status, "{drift:#}");
}

#[test]
fn doctor_reports_drift_exactly_when_update_check_is_behind() {
    let env = UpdateEnv::new();
    env.template("1.0.0", "", &[("a.txt", b"old\n")]).spawn(&[]);
    assert_doctor_agrees_with_update_check(&env, false);
    env.template("2.0.0", "", &[("a.txt", b"new\n")]);
    assert_doctor_agrees_with_update_check(&env, true);
    let message = drift_of(&env)["message"].as_str().unwrap().to_string();
    assert!(message.contains("1.0.0 -> 2.0.0"), "{message}");
    assert_eq!(drift_of(&env)["file"], ".osorganic.toml");
}

// A new version number that renders the same files is nothing to update, for both.
// A new version number is a move to record even when it renders the same files: both say behind.
#[test]
fn doctor_sees_drift_when_a_new_version_renders_the_same() {
    let env = UpdateEnv::new();
    env.template("1.0.0", "", &[("a.txt", b"same\n")])
        .spawn(&[]);
    env.template("1.0.1", "", &[("a.txt", b"same\n")]);
    assert_doctor_agrees_with_update_check(&env, true);
}

#[test]
fn doctor_writes_nothing_into_the_childs_repository() {
    let env = UpdateEnv::new();
    env.template("1.0.0", "", &[("a.txt", b"old\n")]).spawn(&[]);
    env.template("2.0.0", "", &[("a.txt", b"new\n")]);
    let objects = env.git(&["count-objects", "-v"]);
    assert_eq!(drift_of(&env)["status"], "warn");
    assert_eq!(env.git(&["count-objects", "-v"]), objects);
}

// Vercel

#[test]
fn doctor_reports_vercel_json_that_is_not_json() {
    let child = Child::spawn();
    child.write("vercel.json", "{\n  \"functions\": {\n    oops\n}\n");
    child.expect_error("vercel.json", "vercel.json");
}

#[test]
fn doctor_reports_builds_together_with_functions() {
    let child = Child::spawn();
    child.edit(
        "vercel.json",
        "\"functions\": {",
        "\"builds\": [{ \"src\": \"api/*.py\", \"use\": \"@vercel/python\" }],\n  \"functions\": {",
    );
    child.expect_error("vercel.builds-functions", "vercel.json");
}

#[test]
fn doctor_reports_routes_mixed_with_rewrites() {
    let child = Child::spawn();
    child.edit(
        "vercel.json",
        "\"functions\": {",
        "\"routes\": [{ \"src\": \"/a\", \"dest\": \"/api/health\" }],\n  \"rewrites\": [{ \"source\": \"/b\", \"destination\": \"/api/health\" }],\n  \"functions\": {",
    );
    child.expect_error("vercel.routes-mixed", "vercel.json");
}

#[test]
fn doctor_reports_a_functions_pattern_matching_no_file() {
    let child = Child::spawn();
    child.edit("vercel.json", "\"api/health.py\"", "\"api/healthz.py\"");
    child.expect_error("vercel.functions", "vercel.json");
}

#[test]
fn doctor_reports_max_duration_beyond_the_plan() {
    let child = Child::spawn();
    child.edit("vercel.json", "\"maxDuration\": 15", "\"maxDuration\": 301");
    child.expect_error("vercel.max-duration", "vercel.json");
}

#[test]
fn doctor_flags_memory_ignored_under_fluid_compute() {
    let child = Child::spawn();
    child.edit(
        "vercel.json",
        "\"maxDuration\": 15,",
        "\"maxDuration\": 15,\n      \"memory\": 1024,",
    );
    child.expect("warn", "vercel.memory", "vercel.json");
}

#[test]
fn doctor_reports_retired_secret_references() {
    let child = Child::spawn();
    child.edit(
        "vercel.json",
        "\"functions\": {",
        "\"env\": { \"DATABASE_URL\": \"@database-url\" },\n  \"functions\": {",
    );
    child.expect_error("vercel.secret-refs", "vercel.json");
}

#[test]
fn doctor_reports_a_cron_path_without_a_function() {
    let child = Child::spawn();
    child.edit(
        "vercel.json",
        "\"path\": \"/api/cron/sweep\"",
        "\"path\": \"/api/cron/sweeper\"",
    );
    child.expect_error("vercel.crons", "vercel.json");
}

// A rewrite to `/api/jobs/:path*` with no function under `api/jobs/`; a cron reaching a function through a
// parameterised rewrite is followed and passes.
#[test]
fn doctor_follows_rewrites_with_parameters() {
    let child = Child::spawn();
    child.edit(
        "vercel.json",
        "\"crons\": [",
        "\"rewrites\": [{ \"source\": \"/jobs/:job\", \"destination\": \"/api/cron/:job\" }, { \"source\": \"/v1/:path*\", \"destination\": \"/api/jobs/:path*\" }],\n  \"crons\": [",
    );
    child.edit(
        "vercel.json",
        "\"path\": \"/api/cron/sweep\"",
        "\"path\": \"/jobs/sweep\"",
    );
    child.expect_error("vercel.rewrites", "vercel.json");
    let report = child.report();
    let checks = report["checks"].as_array().unwrap();
    let status_of = |id: &str, needle: &str| {
        checks
            .iter()
            .find(|check| check["id"] == id && check["message"].as_str().unwrap().contains(needle))
            .map(|check| check["status"].clone())
    };
    assert_eq!(
        status_of("vercel.rewrites", "/api/jobs/:path*"),
        Some("error".into()),
        "{report:#}"
    );
    assert_eq!(
        status_of("vercel.rewrites", "/api/cron/:job"),
        Some("ok".into()),
        "{report:#}"
    );
    assert_eq!(
        status_of("vercel.crons", "/api/cron/sweep"),
        Some("ok".into()),
        "{report:#}"
    );
}

#[test]
fn doctor_reports_a_python_version_vercel_does_not_run() {
    let child = Child::spawn();
    child.write(".python-version", "3.11\n");
    child.expect_error("vercel.python", ".python-version");
}

// Supabase

#[test]
fn doctor_reports_a_migration_that_does_not_parse() {
    let child = Child::spawn();
    child.write(
        "supabase/migrations/20250201000000_broken.sql",
        "create tabel public.notes (id int);\n",
    );
    child.expect_error(
        "supabase.sql",
        "supabase/migrations/20250201000000_broken.sql",
    );
}

#[test]
fn doctor_reports_a_migration_named_out_of_pattern() {
    let child = Child::spawn();
    child.write("supabase/migrations/add_notes.sql", "select 1;\n");
    child.expect_error(
        "supabase.migration-names",
        "supabase/migrations/add_notes.sql",
    );
}

#[test]
fn doctor_reports_a_table_without_row_level_security() {
    let child = Child::spawn();
    child.write(
        "supabase/migrations/20250201000000_notes.sql",
        "create table public.notes (id bigint primary key);\nrevoke all on table public.notes from anon, authenticated;\n",
    );
    child.expect_error(
        "supabase.rls",
        "supabase/migrations/20250201000000_notes.sql",
    );
}

#[test]
fn doctor_reports_default_grants_left_to_api_roles() {
    let child = Child::spawn();
    child.write(
        "supabase/migrations/20250201000000_notes.sql",
        "create table public.notes (id bigint primary key);\nalter table public.notes enable row level security;\n",
    );
    child.expect_error(
        "supabase.grants",
        "supabase/migrations/20250201000000_notes.sql",
    );
}

#[test]
fn doctor_reports_a_runtime_column_dropped() {
    let child = Child::spawn();
    child.write(
        "supabase/migrations/20250201000000_drop.sql",
        "alter table public.jobs drop column attempts;\n",
    );
    child.expect_error(
        "supabase.runtime-schema",
        "supabase/migrations/20250101000000_init.sql",
    );
}

#[test]
fn doctor_warns_about_a_direct_database_port() {
    let child = Child::spawn();
    child.set_env("DATABASE_URL=postgresql://postgres:pw@db.abcdef.supabase.co:5432/postgres");
    let report = child.report();
    let check = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "supabase.database-url")
        .cloned();
    assert_eq!(check.unwrap()["status"], "warn");
    let (code, human) = child.doctor(false);
    assert_eq!(code, 0, "{human}");
    assert!(
        human.contains("uses port 5432") && !human.contains(":pw@"),
        "{human}"
    );
}

// GitHub

#[test]
fn doctor_reports_a_workflow_that_is_not_yaml() {
    let child = Child::spawn();
    child.write(".github/workflows/broken.yml", "on: [push\njobs:\n  a: {\n");
    child.expect_error("github.workflows", ".github/workflows/broken.yml");
}

#[test]
fn doctor_reports_a_workflow_without_jobs() {
    let child = Child::spawn();
    child.write(".github/workflows/empty.yml", "name: empty\non: push\n");
    child.expect_error("github.workflows", ".github/workflows/empty.yml");
}

#[test]
fn doctor_reports_ci_without_pytest() {
    let child = Child::spawn();
    child.edit(
        ".github/workflows/ci.yml",
        "name: Ruff and pytest",
        "name: Ruff and tests",
    );
    child.edit(
        ".github/workflows/ci.yml",
        "run: pytest",
        "run: python -m unittest",
    );
    child.expect_error("github.ci", ".github/workflows/ci.yml");
}

#[test]
fn doctor_reports_an_undocumented_workflow_secret() {
    let child = Child::spawn();
    child.write(
        ".github/workflows/extra.yml",
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo \"$T\"\n        env:\n          T: ${{ secrets.UNDOCUMENTED_TOKEN }}\n",
    );
    child.expect_error("github.secrets", ".github/workflows/extra.yml");
}

// Runtime

#[test]
fn doctor_reports_an_unset_variable() {
    let child = Child::spawn();
    child.set_env("CRON_SECRET=");
    child.expect_error("runtime.env", ".env.example");
}

#[test]
fn doctor_reports_a_short_webhook_secret() {
    let child = Child::spawn();
    child.set_env("GITHUB_WEBHOOK_SECRET=short");
    let (code, human) = child.doctor(false);
    assert_eq!(code, 1, "{human}");
    assert!(
        human.contains("`GITHUB_WEBHOOK_SECRET` has 5 characters") && !human.contains("short\n"),
        "{human}"
    );
    let report = child.report();
    assert!(
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == "runtime.webhook-secret" && c["status"] == "error")
    );
}

// A local python3 older than `requires-python`: a warning naming pyproject.toml (a stub python3 stands in).
#[cfg(unix)]
#[test]
fn doctor_warns_when_the_local_python_is_older_than_the_childs_minimum() {
    use std::os::unix::fs::PermissionsExt;
    let child = Child::spawn();
    let stub = child.env.path("bin/python3");
    child
        .env
        .write("bin/python3", "#!/bin/sh\necho Python 3.9.18\n");
    std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        child.env.path("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let doctor = |json: bool| {
        let mut command = child.env.osorganic();
        command.env("PATH", &path).args([
            "doctor",
            "--offline",
            "--path",
            "demo",
            "--env-file",
            "demo.env",
        ]);
        if json {
            command.arg("--json");
        }
        stdout_of(&command.assert())
    };
    let human = doctor(false);
    assert!(
        human.lines().any(|line| line.starts_with("  warn ")
            && line.contains("3.9.18")
            && line.contains("(pyproject.toml")),
        "{human}"
    );
    let report: Value = serde_json::from_str(&doctor(true)).unwrap();
    let check = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|check| check["id"] == "runtime.python")
        .cloned()
        .unwrap();
    assert_eq!(check["status"], "warn", "{check:#}");
    assert_eq!(check["file"], "pyproject.toml");
}

#[test]
fn doctor_reports_an_import_missing_from_requirements() {
    let child = Child::spawn();
    // After the first import, outside the module docstring.
    child.edit("api/health.py", "\nimport ", "\nimport yaml\nimport ");
    child.expect_error("runtime.requirements", "api/health.py");
}

// Bad input: reported, never a crash or a hang.

#[test]
fn doctor_reports_a_binary_file_named_like_a_migration() {
    let child = Child::spawn();
    std::fs::write(
        child.path("supabase/migrations/20250201000000_blob.sql"),
        [0u8, 159, 146, 150, 0, 1],
    )
    .unwrap();
    child.expect_error(
        "supabase.sql",
        "supabase/migrations/20250201000000_blob.sql",
    );
}

#[test]
fn doctor_reports_a_50_mb_workflow_without_reading_it() {
    let child = Child::spawn();
    let file = std::fs::File::create(child.path(".github/workflows/huge.yml")).unwrap();
    file.set_len(50 * 1024 * 1024).unwrap();
    child.expect_error("github.workflows", ".github/workflows/huge.yml");
    let (_, human) = child.doctor(false);
    assert!(human.contains("50.0 MB"), "{human}");
}

#[cfg(unix)]
#[test]
fn doctor_reports_a_symlink_loop_without_hanging() {
    let child = Child::spawn();
    std::os::unix::fs::symlink("loop.yml", child.path(".github/workflows/loop.yml")).unwrap();
    std::os::unix::fs::symlink("..", child.path("api/parent")).unwrap();
    child.expect("warn", "project.links", ".github/workflows/loop.yml");
}

#[test]
fn doctor_passes_the_committed_test_child() {
    let env = TestEnv::new();
    env.write("test-child.env", ENV_FILE);
    let test_child = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test-child");
    let test_child = test_child.to_string_lossy();
    let assert = env
        .osorganic()
        .args([
            "doctor",
            "--offline",
            "--json",
            "--env-file",
            "test-child.env",
            "--path",
            test_child.as_ref(),
        ])
        .assert();
    let report: Value = serde_json::from_str(&stdout_of(&assert)).expect("a JSON report");
    assert_eq!(report["summary"]["error"], 0, "{report:#}");
    assert_eq!(assert.get_output().status.code(), Some(0));
}
