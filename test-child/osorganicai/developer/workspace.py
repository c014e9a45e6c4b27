"""The checkout the Developer model works in, and the one way its commands run there.

A command runs as `bash -c COMMAND` in the repository root with stdin at /dev/null, in a session
and process group of its own, with a scrubbed environment (an allowlist, minus anything that looks
secret). When the command ends, whatever it left running in its group is killed, and so is any process
that left the group (`setsid`) but still carries the command's marker variable; when it overruns its
timeout, the whole group gets SIGTERM, then SIGKILL. Output is read as it comes, keeping only a
head and a rolling tail of each stream, so memory stays bounded however much a command prints, and
the model is shown at most `max_output_chars` characters with the cut said.
"""

from __future__ import annotations

import contextlib
import os
import re
import selectors
import signal
import subprocess
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# Variables a command may inherit. Everything else (tokens, cloud credentials, runner internals) is dropped.
ALLOWED_VARIABLES = frozenset(
    {
        "PATH",
        "HOME",
        "LANG",
        "LANGUAGE",  # locale fallback list, read with LANG and LC_*
        "TZ",
        "TMPDIR",
        "USER",
        "LOGNAME",
        "SHELL",
        "TERM",
        "VIRTUAL_ENV",
        "PYTHONPATH",
        "PYTHONDONTWRITEBYTECODE",
        "PYTHONUNBUFFERED",  # output ordering only
        "PYTHONIOENCODING",  # output encoding only
        "PYTHONUTF8",  # output encoding only
        "pythonLocation",
        "Python_ROOT_DIR",  # actions/setup-python exports these three so builds find its interpreter
        "Python3_ROOT_DIR",
        "PKG_CONFIG_PATH",
        "CI",
    }
)
ALLOWED_PREFIXES = ("LC_",)
# Every command's processes carry a fresh value of this variable, so those that left its process group
# (`setsid`, a double fork) are still found and killed when it ends.
MARKER_VARIABLE = "OSORGANIC_COMMAND_ID"
# Set for every command: nothing may wait for a password, a pager, or print colour codes.
FIXED_VARIABLES = {"GIT_TERMINAL_PROMPT": "0", "PAGER": "cat", "GIT_PAGER": "cat", "NO_COLOR": "1"}
_SECRET_NAME = re.compile(r"TOKEN|KEY|SECRET|PASSWORD|PASSWD|CREDENTIAL|PRIVATE|DATABASE_URL|_DSN$", re.IGNORECASE)
# A value carrying a password inside a URL (`scheme://user:password@host`) is secret whatever its name.
_CREDENTIAL_URL = re.compile(r"://[^/\s:@]+:([^/\s@]+)@")
MIN_SECRET_LENGTH = 8

READ_CHUNK_BYTES = 64 * 1024
POLL_SECONDS = 0.05
TERMINATE_GRACE_SECONDS = 2.0
# After the command itself exits, how long to keep reading what is already in the pipes.
DRAIN_SECONDS = 0.5
# Room kept in `max_output_chars` for the status line, the section labels and the cut markers.
FRAME_CHARS = 300
MIN_OUTPUT_CHARS = 1000
MARKER_CHARS = 60  # a cut marker line with its newlines


# For git run by the runtime on a checkout the model could write to: nothing a hostile `.git/config`
# sets (fsmonitor, hooks, an external diff, a pager) may make git execute a program.
SAFE_GIT_OPTIONS = (
    "-c", "core.fsmonitor=false",
    "-c", "core.hooksPath=/dev/null",
    "-c", "core.quotePath=false",
    "-c", "diff.external=",
    "-c", "core.pager=cat",
)  # fmt: skip


def looks_secret(name: str) -> bool:
    """Whether an environment variable's name says it holds a secret."""
    return bool(_SECRET_NAME.search(name))


def scrubbed_environment(source: Mapping[str, str]) -> dict[str, str]:
    """The environment a model's command gets: allowlisted names only, none that looks secret."""
    environment = {
        name: value
        for name, value in source.items()
        if (name in ALLOWED_VARIABLES or name.startswith(ALLOWED_PREFIXES))
        and not looks_secret(name)
        and not _CREDENTIAL_URL.search(value)
    }
    environment.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    environment.update(FIXED_VARIABLES)
    return environment


def secret_values(source: Mapping[str, str]) -> list[str]:
    """Values of secret-looking variables, and passwords inside URLs of any variable (at least 8 characters
    each), longest first, for redacting transcripts."""
    values = {value for name, value in source.items() if looks_secret(name)}
    values |= {password for value in source.values() for password in _CREDENTIAL_URL.findall(value)}
    return sorted((value for value in values if len(value) >= MIN_SECRET_LENGTH), key=lambda value: (-len(value), value))


def cut_marker(dropped_chars: int) -> str:
    return f"[... {dropped_chars} characters left out ...]"


@dataclass(frozen=True)
class CommandResult:
    """What one command did. `stdout` and `stderr` are already cut to fit: where characters were
    left out, the text holds a marker line saying how many, between the head and the tail kept."""

    command: str
    exit_code: int | None  # None when the command timed out
    stdout: str
    stderr: str
    timed_out: bool
    duration_seconds: float
    stdout_dropped_chars: int
    stderr_dropped_chars: int

    def for_model(self) -> str:
        if self.timed_out:
            status = f"timed out after {self.duration_seconds:.1f} s: the command and every process it started were killed"
        elif self.exit_code is not None and self.exit_code < 0:
            status = f"exit code: {self.exit_code} (killed by {signal_name(-self.exit_code)})"
        else:
            status = f"exit code: {self.exit_code}"
        return "\n".join([status, _section("stdout", self.stdout), _section("stderr", self.stderr)])


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _section(label: str, text: str) -> str:
    if not text:
        return f"{label}: (empty)"
    return f"{label}:\n{text.rstrip(chr(10))}"


class StreamCapture:
    """One output stream read in chunks: the first bytes, a rolling tail, and a count of what fell between."""

    def __init__(self, head_limit: int, tail_limit: int) -> None:
        self.head_limit = head_limit
        self.tail_limit = tail_limit
        self.head = bytearray()
        self.tail = bytearray()
        self.dropped_chars = 0

    def add(self, chunk: bytes) -> None:
        room = self.head_limit - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        if not chunk:
            return
        self.tail += chunk
        overflow = len(self.tail) - self.tail_limit
        if overflow > 0:
            self.dropped_chars += _utf8_char_count(bytes(self.tail[:overflow]))
            del self.tail[:overflow]

    def texts(self) -> tuple[str, str]:
        """The head and the tail decoded; a character split by a cut is left out, not garbled."""
        head, tail = bytes(self.head), bytes(self.tail)
        if self.dropped_chars:
            head = _without_partial_end(head)
            tail = _without_partial_start(tail)
        return head.decode("utf-8", "replace"), tail.decode("utf-8", "replace")


_CONTINUATION_BYTES = bytes(range(0x80, 0xC0))


def _utf8_char_count(data: bytes) -> int:
    return len(data.translate(None, _CONTINUATION_BYTES))


def _without_partial_start(data: bytes) -> bytes:
    skip = 0
    while skip < min(3, len(data)) and 0x80 <= data[skip] < 0xC0:
        skip += 1
    return data[skip:]


def _without_partial_end(data: bytes) -> bytes:
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte < 0x80:
            return data
        if byte >= 0xC0:
            needed = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return data if back >= needed else data[:-back]
    return data


def fit_output(head: str, tail: str, dropped_chars: int, budget: int) -> tuple[str, int]:
    """Head and tail joined into at most `budget` characters (marker included), and the total left out."""
    if not dropped_chars and len(head) + len(tail) <= budget:
        return head + tail, 0
    if dropped_chars:
        total = len(head) + dropped_chars + len(tail)
        keep_head = min(len(head), budget // 2)
        keep_tail = min(len(tail), max(0, budget - MARKER_CHARS - keep_head))
    else:
        head = tail = head + tail
        total = len(head)
        keep_head = budget // 2
        keep_tail = max(0, budget - MARKER_CHARS - keep_head)
    kept_head, kept_tail = head[:keep_head], tail[len(tail) - keep_tail :]
    left_out = total - keep_head - keep_tail
    return f"{kept_head}\n{cut_marker(left_out)}\n{kept_tail}", left_out


def split_budget(sizes: tuple[int, int], budget: int) -> tuple[int, int]:
    """Characters for stdout and stderr: each gets what it needs up to half, the rest goes to the other."""
    first, second = sizes
    half = budget // 2
    first_share = min(first, max(half, budget - second))
    return first_share, budget - first_share


class Workspace:
    """A repository checkout plus a command runner with a timeout, an output cap and a scrubbed environment."""

    def __init__(
        self,
        root: Path,
        *,
        command_timeout_seconds: float,
        max_output_chars: int,
        environment: Mapping[str, str] | None = None,
    ) -> None:
        if not Path(root).is_dir():
            raise ValueError(f"workspace root `{root}` is not a directory")
        if command_timeout_seconds <= 0:
            raise ValueError(f"command timeout must be positive, got {command_timeout_seconds}")
        if max_output_chars < MIN_OUTPUT_CHARS:
            raise ValueError(f"max_output_chars must be at least {MIN_OUTPUT_CHARS}, got {max_output_chars}")
        self.root = Path(root).resolve()
        self.command_timeout_seconds = command_timeout_seconds
        self.max_output_chars = max_output_chars
        self.environment = scrubbed_environment(os.environ if environment is None else environment)

    def run(self, command: str, *, timeout_seconds: float | None = None) -> CommandResult:
        timeout = self.command_timeout_seconds if timeout_seconds is None else timeout_seconds
        started = time.monotonic()
        marker = uuid.uuid4().hex
        process = subprocess.Popen(  # noqa: S603 - running the model's command is this class's purpose
            ["bash", "-c", command],  # noqa: S607 - bash from the scrubbed PATH
            cwd=self.root,
            env={**self.environment, MARKER_VARIABLE: marker},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        captures = (
            StreamCapture(self.max_output_chars, self.max_output_chars),
            StreamCapture(self.max_output_chars, self.max_output_chars),
        )
        try:
            timed_out = _pump(process, captures, deadline=started + timeout)
        except BaseException:
            # Interrupted (SIGINT, a stop request): the command's session would outlive us, so it goes first.
            _signal_group(process.pid, signal.SIGKILL)
            process.wait()
            raise
        finally:
            kill_marked_processes(marker)
        process.wait()
        duration = time.monotonic() - started
        return self._result(command, process.returncode, captures, timed_out, duration)

    def _result(
        self,
        command: str,
        returncode: int,
        captures: tuple[StreamCapture, StreamCapture],
        timed_out: bool,
        duration: float,
    ) -> CommandResult:
        (out_head, out_tail), (err_head, err_tail) = captures[0].texts(), captures[1].texts()
        sizes = (
            len(out_head) + len(out_tail) + captures[0].dropped_chars,
            len(err_head) + len(err_tail) + captures[1].dropped_chars,
        )
        out_budget, err_budget = split_budget(sizes, self.max_output_chars - FRAME_CHARS)
        stdout, stdout_dropped = fit_output(out_head, out_tail, captures[0].dropped_chars, out_budget)
        stderr, stderr_dropped = fit_output(err_head, err_tail, captures[1].dropped_chars, err_budget)
        return CommandResult(
            command=command,
            exit_code=None if timed_out else returncode,
            stdout=stdout,
            stderr=stderr,
            timed_out=timed_out,
            duration_seconds=duration,
            stdout_dropped_chars=stdout_dropped,
            stderr_dropped_chars=stderr_dropped,
        )


def _pump(process: subprocess.Popen[bytes], captures: tuple[StreamCapture, StreamCapture], *, deadline: float) -> bool:
    """Read both pipes until the command exits, enforcing the deadline; then kill what it left in its group
    and drain the pipes briefly. True when the command timed out."""
    assert process.stdout is not None and process.stderr is not None  # noqa: S101 - Popen was given PIPE
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ, captures[0])
    selector.register(process.stderr, selectors.EVENT_READ, captures[1])
    timed_out = False
    kill_at: float | None = None
    stop_reading_at: float | None = None
    try:
        while stop_reading_at is None or (selector.get_map() and time.monotonic() < stop_reading_at):
            _read_ready(selector)
            if stop_reading_at is not None:
                continue
            now = time.monotonic()
            if _has_exited(process.pid):
                # Background processes would hold the pipes open forever: the whole group goes with the command.
                _signal_group(process.pid, signal.SIGKILL)
                stop_reading_at = now + DRAIN_SECONDS
            elif not timed_out and now >= deadline:
                timed_out = True
                _signal_group(process.pid, signal.SIGTERM)
                kill_at = now + TERMINATE_GRACE_SECONDS
            elif kill_at is not None and now >= kill_at:
                _signal_group(process.pid, signal.SIGKILL)
                kill_at = None
    finally:
        selector.close()
        process.stdout.close()
        process.stderr.close()
    return timed_out


def _read_ready(selector: selectors.BaseSelector) -> None:
    if not selector.get_map():
        time.sleep(POLL_SECONDS)
        return
    for key, _ in selector.select(POLL_SECONDS):
        chunk = os.read(key.fd, READ_CHUNK_BYTES)
        if chunk:
            key.data.add(chunk)
        else:
            selector.unregister(key.fileobj)


def kill_marked_processes(marker: str) -> None:
    """SIGKILL every process whose environment carries this command's marker (Linux `/proc`; elsewhere a no-op)."""
    needle = f"{MARKER_VARIABLE}={marker}".encode()
    try:
        entries = [entry for entry in os.scandir("/proc") if entry.name.isdigit()]
    except OSError:
        return
    for entry in entries:
        try:
            with open(os.path.join(entry.path, "environ"), "rb") as environ:
                marked = needle in environ.read().split(b"\0")
        except OSError:
            continue
        if marked:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(int(entry.name), signal.SIGKILL)


def _has_exited(pid: int) -> bool:
    """Whether the command's own process has exited, leaving it unreaped so its pid (the group id) stays ours."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _signal_group(group_id: int, signal_number: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group_id, signal_number)
