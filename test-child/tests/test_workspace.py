"""The Developer workspace runs real commands: process groups, timeouts, output caps, scrubbed environments."""

from __future__ import annotations

import signal
import time
import tracemalloc
from pathlib import Path

import pytest

from osorganicai.developer.workspace import (
    CommandResult,
    StreamCapture,
    Workspace,
    fit_output,
    scrubbed_environment,
    secret_values,
)

SOURCE_ENVIRONMENT = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": "/home/developer",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "GITHUB_TOKEN": "ghp_faketoken1234567890",
    "OPENAI_API_KEY": "sk-fake-openai-key-0987654321",
    "DATABASE_URL": "postgresql://app:hunter2hunter2@db.example:5432/app",
    "MY_SECRET": "shh-this-is-secret",
    "AWS_ACCESS_KEY_ID": "AKIAFAKEFAKEFAKE",
    "SENTRY_DSN": "https://abcdef123456@sentry.example/1",
    "PYTHONPATH": "/opt/lib",
    "PIP_INDEX_URL": "https://user:pypi-password@pypi.example/simple",
    "RANDOM_RUNNER_VARIABLE": "not-needed-by-commands",
}
SECRETS = (
    "ghp_faketoken1234567890",
    "sk-fake-openai-key-0987654321",
    "hunter2hunter2",
    "shh-this-is-secret",
    "AKIAFAKEFAKEFAKE",
    "abcdef123456",
    "pypi-password",
)


def make_workspace(root: Path, *, timeout: float = 10.0, max_output_chars: int = 4000) -> Workspace:
    return Workspace(root, command_timeout_seconds=timeout, max_output_chars=max_output_chars, environment=SOURCE_ENVIRONMENT)


def process_is_gone(pid: int) -> bool:
    """Gone or a zombie: a killed process nobody has reaped yet is dead, whatever `kill -0` says."""
    status = Path(f"/proc/{pid}/status")
    try:
        state = next(line for line in status.read_text().splitlines() if line.startswith("State:"))
    except (FileNotFoundError, ProcessLookupError):
        return True
    return "Z" in state.split()[1]


def wait_until_gone(pid: int, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process_is_gone(pid):
            return True
        time.sleep(0.05)
    return process_is_gone(pid)


def test_command_runs_in_root_with_exit_code_and_both_streams(tmp_path: Path) -> None:
    (tmp_path / "marker.txt").write_text("here\n")
    result = make_workspace(tmp_path).run("cat marker.txt; echo oops >&2; exit 3")

    assert (result.exit_code, result.stdout, result.stderr, result.timed_out) == (3, "here\n", "oops\n", False)
    assert result.for_model() == "exit code: 3\nstdout:\nhere\nstderr:\noops"


def test_a_command_killed_by_a_signal_says_which(tmp_path: Path) -> None:
    result = make_workspace(tmp_path).run("kill -KILL $$")

    assert result.exit_code == -9 and result.for_model().startswith("exit code: -9 (killed by SIGKILL)")


def test_stdin_is_empty_so_a_prompt_cannot_wait(tmp_path: Path) -> None:
    result = make_workspace(tmp_path, timeout=5).run("read answer; echo got:$answer:$?")

    assert result.stdout == "got::1\n"
    assert result.duration_seconds < 3


def test_timeout_kills_the_command_and_its_grandchildren(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    # The grandchild ignores SIGTERM, so only the group-wide SIGKILL after the grace period ends it.
    command = f"(trap '' TERM; exec sleep 1000) & echo $! > {pid_file}; sleep 1000"
    started = time.monotonic()
    result = make_workspace(tmp_path, timeout=1).run(command)

    assert result.timed_out and result.exit_code is None
    assert time.monotonic() - started < 6
    assert result.for_model().startswith("timed out after 1.")
    assert "every process it started were killed" in result.for_model()
    assert wait_until_gone(int(pid_file.read_text()))


def test_background_process_holding_the_pipe_does_not_hang_the_run(tmp_path: Path) -> None:
    pid_file = tmp_path / "background.pid"
    started = time.monotonic()
    result = make_workspace(tmp_path, timeout=30).run(f"sleep 1000 & echo $! > {pid_file}; echo started")

    assert time.monotonic() - started < 3
    assert (result.exit_code, result.stdout, result.timed_out) == (0, "started\n", False)
    assert wait_until_gone(int(pid_file.read_text()))


def test_a_command_that_closes_its_pipes_still_runs_to_its_end(tmp_path: Path) -> None:
    result = make_workspace(tmp_path).run("exec >&- 2>&-; sleep 0.5; touch finished")

    assert result.exit_code == 0
    assert (tmp_path / "finished").exists()


def test_fifty_megabytes_of_output_reach_the_model_capped_with_head_and_tail(tmp_path: Path) -> None:
    command = "echo FIRST-LINE; head -c 50000000 /dev/zero | tr '\\0' x; echo; echo LAST-LINE; echo warning >&2"
    tracemalloc.start()
    try:
        result = make_workspace(tmp_path, timeout=60, max_output_chars=5000).run(command)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    text = result.for_model()
    assert len(text) <= 5000
    assert result.stdout.startswith("FIRST-LINE\nxxx")
    assert result.stdout.rstrip().endswith("xxx\nLAST-LINE")
    assert result.stderr == "warning\n"
    marker = f"\n[... {result.stdout_dropped_chars} characters left out ...]\n"
    total = len("FIRST-LINE\n") + 50_000_000 + len("\nLAST-LINE\n")
    assert result.stdout_dropped_chars == total - (len(result.stdout) - len(marker))
    assert f"[... {result.stdout_dropped_chars} characters left out ...]" in text
    assert result.stdout_dropped_chars > 49_990_000
    # Memory stays bounded by the caps, not by the 50 MB the command printed.
    assert peak < 2_000_000


def test_output_that_fits_is_kept_whole_and_long_output_of_both_streams_shares_the_cap(tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path, max_output_chars=2000)
    whole = workspace.run("seq 1 100")
    assert whole.stdout == "".join(f"{n}\n" for n in range(1, 101)) and whole.stdout_dropped_chars == 0

    both = workspace.run("seq 1 5000; seq 1 5000 >&2")
    assert len(both.for_model()) <= 2000
    assert both.stdout.startswith("1\n2\n") and both.stdout.endswith("4999\n5000\n")
    assert both.stderr.startswith("1\n2\n") and both.stderr.endswith("4999\n5000\n")
    assert both.stdout_dropped_chars > 0 and both.stderr_dropped_chars > 0


def test_utf8_is_decoded_with_replacement_and_cuts_never_split_a_character(tmp_path: Path) -> None:
    result = make_workspace(tmp_path, max_output_chars=1000).run("printf 'bad:\\xff\\n'; printf 'é%.0s' $(seq 1 3000)")

    assert result.stdout.startswith("bad:\ufffd\n")
    assert "\ufffd" not in result.stdout[6:]
    assert result.stdout.rstrip().endswith("é")


def test_stream_capture_counts_dropped_characters_not_bytes() -> None:
    capture = StreamCapture(head_limit=4, tail_limit=4)
    capture.add("abcdéééééwxyz".encode())

    head, tail = capture.texts()
    assert (head, tail, capture.dropped_chars) == ("abcd", "wxyz", 5)
    assert fit_output(head, tail, capture.dropped_chars, 1000) == ("abcd\n[... 5 characters left out ...]\nwxyz", 5)


def test_env_output_holds_no_secret(tmp_path: Path) -> None:
    result = make_workspace(tmp_path).run("env; cat /proc/self/environ | tr '\\0' '\\n'")

    assert result.exit_code == 0
    for secret in SECRETS:
        assert secret not in result.stdout
    for name in ("GITHUB_TOKEN", "OPENAI_API_KEY", "DATABASE_URL", "MY_SECRET", "SENTRY_DSN", "RANDOM_RUNNER_VARIABLE"):
        assert f"{name}=" not in result.stdout
    for line in ("PYTHONPATH=/opt/lib", "LC_ALL=C.UTF-8", "GIT_TERMINAL_PROMPT=0", "PAGER=cat", "GIT_PAGER=cat", "NO_COLOR=1"):
        assert line in result.stdout.splitlines()


def test_an_allowlisted_name_that_looks_secret_is_dropped() -> None:
    environment = scrubbed_environment({"PATH": "/bin", "LC_API_KEY": "x" * 20, "HOME": "/home/u"})

    assert "LC_API_KEY" not in environment
    assert environment["HOME"] == "/home/u"


def test_secret_values_lists_values_worth_redacting_longest_first() -> None:
    values = secret_values({**SOURCE_ENVIRONMENT, "SHORT_TOKEN": "abc", "GH_TOKEN": SOURCE_ENVIRONMENT["GITHUB_TOKEN"]})

    assert values[0] == SOURCE_ENVIRONMENT["DATABASE_URL"]
    assert "abc" not in values
    assert values.count(SOURCE_ENVIRONMENT["GITHUB_TOKEN"]) == 1
    assert set(values) == {
        *(
            SOURCE_ENVIRONMENT[name]
            for name in ("GITHUB_TOKEN", "OPENAI_API_KEY", "DATABASE_URL", "MY_SECRET", "AWS_ACCESS_KEY_ID", "SENTRY_DSN")
        ),
        "hunter2hunter2",  # the password inside DATABASE_URL
        "pypi-password",  # inside PIP_INDEX_URL, whose name says nothing
    }
    assert [len(value) for value in values] == sorted((len(value) for value in values), reverse=True)


def test_for_model_shows_empty_streams_plainly() -> None:
    result = CommandResult("true", 0, "", "", False, 0.01, 0, 0)

    assert result.for_model() == "exit code: 0\nstdout: (empty)\nstderr: (empty)"


def test_bad_settings_are_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="max_output_chars"):
        Workspace(tmp_path, command_timeout_seconds=1, max_output_chars=10)
    with pytest.raises(ValueError, match="not a directory"):
        Workspace(tmp_path / "missing", command_timeout_seconds=1, max_output_chars=4000)


def test_a_command_that_ignores_sigterm_is_killed_after_the_grace_period(tmp_path: Path) -> None:
    started = time.monotonic()
    result = make_workspace(tmp_path, timeout=0.5).run("trap '' TERM; sleep 1000; echo survived")

    assert result.timed_out and "survived" not in result.stdout
    assert time.monotonic() - started < 5


class Interrupted(Exception):
    pass


def test_an_interrupted_run_kills_the_command_group_before_raising(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"

    def interrupt(signal_number: int, frame: object) -> None:
        raise Interrupted

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 1.0)
    try:
        with pytest.raises(Interrupted):
            make_workspace(tmp_path, timeout=60).run(f"sleep 1000 & echo $! > {pid_file}; sleep 1000")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

    assert wait_until_gone(int(pid_file.read_text()))


def test_a_process_that_left_the_group_with_setsid_is_still_killed(tmp_path: Path) -> None:
    pid_file = tmp_path / "daemon.pid"
    started = time.monotonic()
    result = make_workspace(tmp_path).run(f"setsid sleep 1000 > /dev/null 2>&1 & echo $! > {pid_file}; echo started")

    assert result.exit_code == 0 and time.monotonic() - started < 3
    assert wait_until_gone(int(pid_file.read_text()))
