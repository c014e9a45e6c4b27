"""The Developer workflow as its three jobs run it: `claim`, `developer` (the model's tool loop, with
a read-only token) and `publish` (the write token), each a real `python -m osorganicai` process,
against a scripted model server and a fake GitHub backed by a real bare git repository.

Run twice on one issue: one branch, one pull request, one status comment, and a person's commit
pushed to the branch between the runs survives."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg

from osorganicai.proposal import read_proposal

from .developer_support import BUGGY_LINE, FIXED_LINE, shop_files
from .fake_github_git import FakeGitHubGit
from .fake_models import OPENAI_KEY, Exchange, Say, ScriptedModel

CHILD_ROOT = Path(__file__).resolve().parent.parent
BOT = "osorganic-bot[bot]"
CHECKS = (
    '[developer]\nmodel = "gpt-4o-mini"\n'
    '[[developer.checks]]\nname = "pytest"\ncommand = "python -m pytest -q -p no:cacheprovider"\ntimeout_s = 120\n'
)


def run_command(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "osorganicai", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def job_environment(github: FakeGitHubGit, **extra: str) -> dict[str, str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GITHUB_", "LLM_", "OPENAI_", "ANTHROPIC_", "DATABASE_"))
    }
    environment.update(
        {
            "GITHUB_REPOSITORY": github.repository,
            "GITHUB_API_URL": github.url,
            "OSORGANIC_BOT_LOGIN": BOT,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{environment.get('PATH', '')}",
            "PYTHONPATH": str(CHILD_ROOT),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    environment.update(extra)
    return environment


def a_shop(github: FakeGitHubGit) -> None:
    github.create_repository(shop_files(CHECKS))
    github.add_issue(7, "Discounts raise the price", "apply_discount adds the percentage.", labels=("ready-for-dev",))
    github.add_comment(7, "This issue is ready for development. Refined description:\n\n- [ ] 10% off 100 is 90", BOT)


def claim(github: FakeGitHubGit, workdir: Path) -> dict[str, str]:
    completed = run_command("claim", "--issue", "7", env=job_environment(github, GITHUB_TOKEN=github.token), cwd=workdir)
    assert completed.returncode == 0, completed.stderr
    return dict(line.split("=", 1) for line in completed.stdout.splitlines())


def develop(github: FakeGitHubGit, model: ScriptedModel, checkout: Path, out: Path) -> subprocess.CompletedProcess[str]:
    environment = job_environment(
        github, GITHUB_TOKEN=github.token, LLM_PROVIDER="openai", OPENAI_API_KEY=OPENAI_KEY, OPENAI_BASE_URL=model.base_url
    )
    return run_command("developer", "--issue", "7", "--out", str(out), "--checkout", str(checkout), env=environment, cwd=checkout)


def publish(github: FakeGitHubGit, out: Path, database: str, workdir: Path) -> subprocess.CompletedProcess[str]:
    environment = job_environment(github, GITHUB_TOKEN=github.token, DATABASE_URL=database)
    return run_command("publish", "--from", str(out), env=environment, cwd=workdir)


def test_two_runs_make_one_branch_one_pull_request_one_comment_and_keep_a_persons_commit(tmp_path, database) -> None:
    with FakeGitHubGit(tmp_path / "github", bot_login=BOT) as github:
        a_shop(github)

        # Run 1: from the default branch.
        outputs = claim(github, tmp_path)
        assert outputs == {"proceed": "true", "branch": ""}
        first_checkout = github.clone(tmp_path / "run1")
        fix = [
            Say([("str_replace", {"path": "shop/pricing.py", "old_str": BUGGY_LINE, "new_str": FIXED_LINE})]),
            Say([("finish", {"summary": "Take the discount off.", "title": "Take discounts off the price"})]),
        ]
        with ScriptedModel("openai", fix, model="gpt-4o-mini") as model:
            developed = develop(github, model, first_checkout, tmp_path / "proposal1")
        assert developed.returncode == 0, developed.stderr
        published = publish(github, tmp_path / "proposal1", database, tmp_path)
        assert published.returncode == 0, published.stderr

        branch = "feature/issue-7-discounts-raise-the-price"
        first_head = github.branch_head(branch)
        assert first_head is not None
        assert FIXED_LINE.encode() in github.branch_files(branch)["shop/pricing.py"][1]

        # A person pushes a commit to the branch.
        persons_commit = github.push_commit(branch, {"NOTES.md": "Reviewed by a person.\n"}, message="Add review notes")

        # Run 2: the claim names the issue's branch; the run starts from its head.
        outputs = claim(github, tmp_path)
        assert outputs == {"proceed": "true", "branch": branch}
        second_checkout = github.clone(tmp_path / "run2", branch=outputs["branch"])

        def add_a_test(exchange: Exchange) -> Say:
            return Say(
                [
                    (
                        "create_file",
                        {
                            "path": "tests/test_discount.py",
                            "content": "from shop.pricing import apply_discount\n\n\n"
                            "def test_ten_percent_off() -> None:\n    assert apply_discount(100.0, 10.0) == 90.0\n",
                        },
                    )
                ]
            )

        more = [add_a_test, Say([("finish", {"summary": "Take the discount off, with a test."})])]
        with ScriptedModel("openai", more, model="gpt-4o-mini") as model:
            developed = develop(github, model, second_checkout, tmp_path / "proposal2")
        assert developed.returncode == 0, developed.stderr
        proposal = read_proposal(tmp_path / "proposal2")
        assert proposal.base_commit == persons_commit and proposal.base_branch == branch
        published = publish(github, tmp_path / "proposal2", database, tmp_path)
        assert published.returncode == 0, published.stderr

        second_head = github.branch_head(branch)
        assert github.bare.is_ancestor(persons_commit, second_head) and second_head != persons_commit
        files = github.branch_files(branch)
        assert files["NOTES.md"][1] == b"Reviewed by a person.\n" and "tests/test_discount.py" in files
        assert sorted(github.bare.branches("feature/")) == [branch]
        assert len(github.pulls) == 1 and github.pulls[0]["draft"] is True
        assert "Fixes #7" in github.pulls[0]["body"]
        runtime_comments = [comment for comment in github.comments(7) if comment["user"]["login"] == BOT]
        assert len(runtime_comments) == 2  # the Product Owner's, and one status comment edited in place

    with psycopg.connect(database) as connection:
        rows = connection.execute("select status, branch from code_generations order by id").fetchall()
    assert [row[1] for row in rows] == [branch, branch] and len(rows) == 2
