"""The Developer loop driven by a scripted model over HTTP (OpenAI and Anthropic wire formats)
against a real git checkout: edits by diff, checks after `finish`, budgets, signals, secrets."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from osorganicai.proposal import read_proposal

from .developer_support import (
    BUGGY_LINE,
    FIXED_LINE,
    PRICING_LINES,
    DeveloperRun,
    git,
    make_project,
    ready_issue,
    write_config,
)
from .fake_models import Exchange, Say, ScriptedModel
from .support import FakeGitHub

WIRES = ["openai", "anthropic"]
MODEL = {"openai": "gpt-4o-mini", "anthropic": "claude-sonnet-4-5"}
SECRETS = {
    "GITHUB_TOKEN": "ghs_readonlytokenvalue1234567890",
    "OPENAI_API_KEY": "sk-proj-secretvalue-abcdefghijklmnop",
    "ANTHROPIC_API_KEY": "sk-ant-secretvalue-abcdefghijklmnop",
    "DATABASE_URL": "postgresql://postgres:db-password-123456@db.example.com:6543/postgres",
    "MY_SERVICE_SECRET": "another-secret-value-987654321",
}


@pytest.fixture
def developer_run(tmp_path: Path, settings) -> Iterator[DeveloperRun]:
    github = FakeGitHub()
    ready_issue(github)
    server, url = github.serve()
    try:
        yield DeveloperRun(make_project(tmp_path / "checkout"), tmp_path / "proposal", github, url, settings)
    finally:
        server.shutdown()
        server.server_close()


def bash(command: str) -> tuple[str, dict[str, str]]:
    return ("bash", {"command": command})


def finish(summary: str = "Take the discount off the price.", title: str | None = None) -> tuple[str, dict[str, str]]:
    arguments = {"summary": summary}
    if title:
        arguments["title"] = title
    return ("finish", arguments)


def the_fix() -> list[Say]:
    return [
        Say([("search", {"query": "apply_discount percentage discount"})]),
        Say([("view", {"path": "shop/pricing.py", "start_line": 1490, "end_line": 1510})]),
        Say([("str_replace", {"path": "shop/pricing.py", "old_str": BUGGY_LINE, "new_str": FIXED_LINE})]),
        Say(
            [
                (
                    "create_file",
                    {
                        "path": "tests/test_discount.py",
                        "content": "from shop.pricing import apply_discount\n\n\n"
                        "def test_discount_takes_the_percentage_off() -> None:\n"
                        "    assert apply_discount(100.0, 10.0) == 90.0\n",
                    },
                )
            ]
        ),
        Say([bash("python -m pytest -q -p no:cacheprovider 2>&1 | tail -3")]),
        Say([finish(title="Take discounts off the price")]),
    ]


@pytest.mark.parametrize("wire", WIRES)
def test_one_line_fix_in_a_3000_line_file_keeps_every_other_line(developer_run: DeveloperRun, tmp_path, wire) -> None:
    config = write_config(tmp_path / "cfg", model=MODEL[wire])
    before = (developer_run.checkout / "shop" / "pricing.py").read_text().splitlines()
    with ScriptedModel(wire, the_fix(), model=MODEL[wire]) as model:
        result = developer_run.run(model.provider(), config)
        exchanges = model.exchanges()

    assert result.outcome == "ready" and result.exit_code == 0
    after = (developer_run.checkout / "shop" / "pricing.py").read_text().splitlines()
    assert len(before) == len(after) == PRICING_LINES
    changed = [number for number, (old, new) in enumerate(zip(before, after, strict=True)) if old != new]
    assert len(changed) == 1 and after[changed[0]] == FIXED_LINE
    # The patch holds that one line and the new test, nothing else.
    stat = git(developer_run.checkout, "apply", "--numstat", str(developer_run.out / "change.patch"))
    assert sorted(stat.splitlines()) == ["1\t1\tshop/pricing.py", "5\t0\ttests/test_discount.py"]
    proposal = read_proposal(developer_run.out)
    assert proposal.status == "ready" and proposal.title == "Take discounts off the price"
    assert proposal.base_commit == git(developer_run.checkout, "rev-parse", "HEAD").strip()
    assert proposal.branch == "feature/issue-7-discounts-raise-the-price" and proposal.base_branch == "main"
    assert [(check.name, check.passed) for check in proposal.checks] == [("ruff check", True), ("pytest", True)]
    assert proposal.usage.steps == 6 and proposal.usage.input_tokens == 6000 and proposal.usage.cost_usd > 0
    assert {touched.path for touched in proposal.files} == {"shop/pricing.py", "tests/test_discount.py"}
    # The model saw the issue, the refined description, and the module in the repository map.
    first = exchanges[0].last_user_text
    assert "apply_discount(100, 10) == 90" in first and "shop/pricing.py" in first
    # Search found the function by content, with its line number.
    assert "apply_discount" in exchanges[1].tool_results[0] and "shop/pricing.py" in exchanges[1].tool_results[0]
    assert "passed" in exchanges[5].tool_results[0]
    transcript = [json.loads(line) for line in (developer_run.out / "transcript.jsonl").read_text().splitlines()]
    assert [entry["kind"] for entry in transcript].count("model") == 6
    assert transcript[-1]["kind"] == "timings" and transcript[-1]["steps"] == 6


@pytest.mark.parametrize("wire", WIRES)
def test_failing_checks_after_finish_go_back_to_the_model(developer_run: DeveloperRun, tmp_path, wire) -> None:
    config = write_config(tmp_path / "cfg", model=MODEL[wire])
    seen: list[str] = []

    def fix_after_reading_the_failure(exchange: Exchange) -> Say:
        seen.append(exchange.tool_results[0])
        return Say([("str_replace", {"path": "shop/extra.py", "old_str": "import os\n", "new_str": ""})])

    script = [
        Say([("create_file", {"path": "shop/extra.py", "content": "import os\n\n\ndef extra() -> int:\n    return 1\n"})]),
        Say([finish()]),
        fix_after_reading_the_failure,
        Say([finish()]),
    ]
    with ScriptedModel(wire, script, model=MODEL[wire]) as model:
        result = developer_run.run(model.provider(), config)

    assert result.outcome == "ready"
    assert "ruff check: failed" in seen[0] and "F401" in seen[0] and "`os` imported but unused" in seen[0]
    proposal = read_proposal(developer_run.out)
    assert proposal.check_rounds == 2
    assert [(check.round, check.name, check.passed) for check in proposal.checks] == [
        (1, "ruff check", False),
        (1, "pytest", True),
        (2, "ruff check", True),
        (2, "pytest", True),
    ]


def test_checks_still_failing_are_proposed_as_failing(developer_run: DeveloperRun, tmp_path) -> None:
    config = write_config(tmp_path / "cfg", developer="max_check_rounds = 2")
    broken_test = "def test_broken() -> None:\n    assert 1 == 2\n"
    script = [Say([("create_file", {"path": "tests/test_broken.py", "content": broken_test})]), Say([finish()]), Say([finish()])]
    with ScriptedModel("openai", script, model="gpt-4o-mini") as model:
        result = developer_run.run(model.provider(), config)

    assert result.outcome == "checks_failing" and result.exit_code == 4
    proposal = read_proposal(developer_run.out)
    assert proposal.status == "checks_failing" and not proposal.checks_passed and proposal.check_rounds == 2
    assert "pytest" in proposal.remaining
    assert "tests/test_broken.py" in developer_run.patch()


def endless_exploration(exchange: Exchange) -> Say:
    return Say([bash("echo more >> notes.txt && wc -l notes.txt")], input_tokens=5000, output_tokens=500)


@pytest.mark.parametrize(
    ("budget", "settings_line", "model_name"),
    [
        ("max_steps", "max_steps = 3", "gpt-4o-mini"),
        ("max_tokens", "max_tokens = 12000", "gpt-4o-mini"),
        ("max_cost_usd", "max_cost_usd = 0.05", "gpt-4.1"),
    ],
)
def test_each_budget_stops_the_loop_and_keeps_the_work(developer_run, tmp_path, budget, settings_line, model_name) -> None:
    config = write_config(tmp_path / "cfg", developer=settings_line, model=model_name)
    with ScriptedModel("openai", [endless_exploration] * 50, model=model_name) as model:
        result = developer_run.run(model.provider(), config)
        requests = len(model.requests)

    assert result.outcome == "budget_exhausted" and result.exit_code == 3
    proposal = read_proposal(developer_run.out)
    assert proposal.budget_exhausted == budget and "The checks never ran" in proposal.remaining
    assert proposal.usage.steps == requests < 50
    # The work done before the budget ran out is in the patch.
    assert "+more" in developer_run.patch() and proposal.files[0].path == "notes.txt"


def test_the_minutes_budget_stops_the_loop(developer_run: DeveloperRun, tmp_path) -> None:
    config = write_config(tmp_path / "cfg", developer="max_minutes = 0.01")  # 0.6 s
    with ScriptedModel("openai", [Say([bash("echo started > progress.txt; sleep 1")])] * 5) as model:
        result = developer_run.run(model.provider(), config)
    proposal = read_proposal(developer_run.out)
    assert result.outcome == "budget_exhausted" and proposal.budget_exhausted == "max_minutes"
    assert "progress.txt" in developer_run.patch()


def test_sigterm_stops_a_running_command_and_keeps_the_work(developer_run: DeveloperRun, tmp_path) -> None:
    config = write_config(tmp_path / "cfg")
    script = [
        Say([bash("echo partial > partial.txt")]),
        Say([bash("sleep 600 & echo $! > sleeper.pid; wait")]),
        Say([finish()]),
    ]
    timer = threading.Timer(1.5, lambda: os.kill(os.getpid(), signal.SIGTERM))
    with ScriptedModel("openai", script) as model:
        timer.start()
        started = time.monotonic()
        result = developer_run.run(model.provider(), config)
        elapsed = time.monotonic() - started
    timer.cancel()

    assert elapsed < 30
    proposal = read_proposal(developer_run.out)
    assert result.outcome == "budget_exhausted" and proposal.budget_exhausted == "interrupted"
    assert "SIGTERM" in proposal.remaining
    assert "partial.txt" in developer_run.patch()
    sleeper = int((developer_run.checkout / "sleeper.pid").read_text())
    time.sleep(0.2)
    assert not Path(f"/proc/{sleeper}").exists() or "Z" in Path(f"/proc/{sleeper}/stat").read_text().split()[2]


@pytest.mark.parametrize("wire", WIRES)
def test_no_secret_reaches_the_model_or_the_transcript(developer_run: DeveloperRun, tmp_path, wire) -> None:
    config = write_config(tmp_path / "cfg", model=MODEL[wire])
    environment = {**os.environ, **SECRETS}
    script = [Say([bash("env; cat /proc/self/environ | tr '\\0' '\\n'")]), Say([finish()])]
    with ScriptedModel(wire, script, model=MODEL[wire]) as model:
        developer_run.run(model.provider(), config, environment=environment)
        env_output = model.exchanges()[1].tool_results[0]

    assert "PATH=" in env_output
    transcript = (developer_run.out / "transcript.jsonl").read_text()
    for name, value in SECRETS.items():
        assert value not in env_output and f"{name}=" not in env_output, name
        assert value not in transcript, name


def test_command_timeout_and_output_cap(developer_run: DeveloperRun, tmp_path) -> None:
    config = write_config(tmp_path / "cfg", developer="command_timeout_s = 1\nmax_output_chars = 2000")
    script = [
        Say([bash("sleep 30")]),
        Say([bash("head -c 50000000 /dev/zero | tr '\\0' 'x'; echo; echo THE-END")]),
        Say([finish()]),
    ]
    with ScriptedModel("openai", script) as model:
        started = time.monotonic()
        developer_run.run(model.provider(), config)
        elapsed = time.monotonic() - started
        timed_out, flood = (exchange.tool_results[0] for exchange in model.exchanges()[1:3])

    assert elapsed < 20 and "timed out" in timed_out
    assert len(flood) <= 2000 + 200 and "THE-END" in flood and "left out" in flood


def test_malformed_tool_calls_get_error_results_and_silence_is_bounded(developer_run: DeveloperRun, tmp_path) -> None:
    config = write_config(tmp_path / "cfg", developer="max_replies_without_tool = 2")
    script = [
        Say([("rm_rf", {"path": "/"})]),
        Say([("bash", "{not json")]),
        Say([("bash", {"cmd": "ls"})]),
        Say(text="I think I am done."),
        Say(text="Really done."),
        Say(text="Done, I said."),
    ]
    with ScriptedModel("anthropic", script, model="claude-sonnet-4-5") as model:
        result = developer_run.run(model.provider(), config)
        results = [exchange.tool_results for exchange in model.exchanges()]
        texts = [exchange.last_user_text for exchange in model.exchanges()]

    assert "unknown tool" in results[1][0].lower() and "bash" in results[1][0]
    assert "json" in results[2][0].lower()
    assert "command" in results[3][0]
    assert "finish" in texts[4] and "finish" in texts[5]
    assert result.outcome == "failed" and "without calling a tool" in result.detail


def test_provider_failure_keeps_the_partial_work(developer_run: DeveloperRun, tmp_path) -> None:
    config = write_config(tmp_path / "cfg")

    def then_the_provider_breaks(exchange: Exchange) -> Say:
        model.fail_next(503, times=20, message="overloaded")
        return Say([bash("echo second >> kept.txt")])

    model = ScriptedModel("openai", [Say([bash("echo kept > kept.txt")]), then_the_provider_breaks, Say([finish()])])
    with model:
        result = developer_run.run(model.provider(), config)

    proposal = read_proposal(developer_run.out)
    assert result.outcome == "failed" and result.exit_code == 1
    assert "provider failed" in (proposal.error or "") and "overloaded" in (proposal.error or "")
    assert "+kept" in developer_run.patch() and "+second" in developer_run.patch()


def test_writes_outside_the_checkout_never_reach_the_patch(developer_run: DeveloperRun, tmp_path) -> None:
    config = write_config(tmp_path / "cfg")
    outside = tmp_path / "outside.txt"
    script = [
        Say([bash(f"echo escaped > ../outside-relative.txt; echo escaped > {outside}; echo inside > inside.txt")]),
        Say([("create_file", {"path": "../sneaky.py", "content": "x = 1\n"})]),
        Say([("create_file", {"path": str(tmp_path / "abs.py"), "content": "x = 1\n"})]),
        Say([finish()]),
    ]
    with ScriptedModel("openai", script) as model:
        developer_run.run(model.provider(), config)
        refusals = [exchange.tool_results[0] for exchange in model.exchanges()[2:4]]

    patch = developer_run.patch()
    assert "inside.txt" in patch and "outside" not in patch and "sneaky" not in patch and "abs.py" not in patch
    assert not (tmp_path / "sneaky.py").exists() and not (tmp_path / "abs.py").exists()
    assert "must stay inside the repository" in refusals[0] and "is absolute" in refusals[1]


def test_a_model_commit_and_a_deletion_are_in_the_patch(developer_run: DeveloperRun, tmp_path) -> None:
    config = write_config(tmp_path / "cfg", checks="")
    script = [
        Say([bash("git rm -q tests/test_pricing.py && echo n > new.txt && chmod +x new.txt && ln -s new.txt link")]),
        Say([bash("git add -A && git -c user.name=m -c user.email=m@x commit -qm wip")]),
        Say([finish()]),
    ]
    with ScriptedModel("openai", script) as model:
        developer_run.run(model.provider(), config)
    proposal = read_proposal(developer_run.out)
    changes = {touched.path: touched.change for touched in proposal.files}
    assert changes == {"tests/test_pricing.py": "deleted", "new.txt": "added", "link": "added"}
    patch = developer_run.patch()
    assert "new file mode 100755" in patch and "new file mode 120000" in patch


def test_the_cli_runs_the_offline_developer_end_to_end(developer_run: DeveloperRun, tmp_path) -> None:
    import sys

    (developer_run.checkout / "src").mkdir()
    (developer_run.checkout / "src" / "__init__.py").write_text("")
    git(developer_run.checkout, "add", "-A")
    git(developer_run.checkout, "commit", "-q", "-m", "src package")
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("GITHUB_", "LLM_", "OPENAI_", "ANTHROPIC_"))
    }
    environment.update(
        {
            "GITHUB_TOKEN": "read-only-token",
            "GITHUB_REPOSITORY": "Codertocat/Hello-World",
            "GITHUB_API_URL": developer_run.github_url,
            "OSORGANIC_BOT_LOGIN": "hello-bot[bot]",
            "LLM_PROVIDER": "offline",
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{environment.get('PATH', '')}",
            "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    completed = subprocess.run(
        [sys.executable, "-m", "osorganicai", "developer", "--issue", "7", "--out", str(developer_run.out),
         "--checkout", str(developer_run.checkout)],
        capture_output=True, text=True, env=environment, timeout=300, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    proposal = read_proposal(developer_run.out)
    assert proposal.status == "ready" and proposal.checks_passed
    assert proposal.usage.provider == "offline" and proposal.usage.cost_usd == 0
    assert any(touched.path.startswith("tests/test_issue_7") for touched in proposal.files)


def test_the_cli_refuses_a_folder_that_is_not_a_checkout(tmp_path) -> None:
    import sys

    completed = subprocess.run(
        [sys.executable, "-m", "osorganicai", "developer", "--issue", "7", "--out", str(tmp_path / "o"),
         "--checkout", str(tmp_path)],
        capture_output=True, text=True, timeout=60, check=False,
        cwd=Path(__file__).resolve().parent.parent,
    )  # fmt: skip
    assert completed.returncode == 2
    assert "--checkout" in completed.stderr and "not the root of a git checkout" in completed.stderr
    assert "Traceback" not in completed.stderr


class BrokenProvider:
    """A provider object whose own code fails: the run must still end with a proposal that says why."""

    name = "openai"

    def complete_with_tools(self, request):
        raise RuntimeError("the provider library broke")


def test_an_unexpected_error_ends_as_a_failed_proposal(developer_run: DeveloperRun, tmp_path) -> None:
    result = developer_run.run(BrokenProvider(), write_config(tmp_path / "cfg"))
    assert result.outcome == "failed" and result.exit_code == 1
    proposal = read_proposal(developer_run.out)
    assert proposal.status == "failed" and "RuntimeError: the provider library broke" in (proposal.error or "")
    assert (developer_run.out / "change.patch").read_bytes() == b""


def test_git_run_by_the_runtime_ignores_what_the_model_put_in_git_config(developer_run: DeveloperRun, tmp_path) -> None:
    marker = tmp_path / "ran.txt"
    hook = tmp_path / "hook.sh"
    hook.write_text(f"#!/bin/sh\necho ran >> {marker}\n")
    hook.chmod(0o755)
    script = [
        Say([bash(f"git config core.fsmonitor {hook} && git config core.hooksPath {tmp_path} && echo x > new.txt")]),
        Say([finish()]),
    ]
    with ScriptedModel("openai", script) as model:
        developer_run.run(model.provider(), write_config(tmp_path / "cfg", checks=""))
    assert not marker.exists()
    assert "new.txt" in developer_run.patch()
