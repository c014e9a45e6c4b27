"""What a Developer run leaves behind: the patch of the checkout against its base commit, the
list of touched files, and a transcript with secrets redacted.

Git runs here on a checkout the model could write to, so every call disables what a hostile
`.git/config` could make git execute (fsmonitor, hooks, external diff and textconv drivers) and
gets the same scrubbed environment as the model's own commands. The patch is built in a
temporary index: the checkout's own index and HEAD are never changed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..proposal import TouchedFile
from .workspace import SAFE_GIT_OPTIONS

GIT_TIMEOUT_SECONDS = 300
REDACTED = "[REDACTED]"
# Shapes of credentials that must never reach a transcript even when they are not in the environment.
SECRET_PATTERNS = (
    re.compile(r"gh[pousr]_[A-Za-z0-9]{20,}"),
    re.compile(r"github_pat_[A-Za-z0-9_]{20,}"),
    re.compile(r"sk-(?:ant-|proj-)?[A-Za-z0-9_\-]{16,}"),
    re.compile(r"xox[abprs]-[A-Za-z0-9\-]{10,}"),
    re.compile(r"AKIA[0-9A-Z]{16}"),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)", re.DOTALL),
    re.compile(r"(?i)(postgres(?:ql)?://[^:\s/]+:)[^@\s]+(@)"),
)


class RecordError(RuntimeError):
    """Git could not describe the checkout (not a repository, unknown base commit...)."""


def run_git(root: Path, *args: str, environment: Mapping[str, str], index_file: Path | None = None) -> bytes:
    env = dict(environment)
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    env["GIT_OPTIONAL_LOCKS"] = "0"
    if index_file is not None:
        env["GIT_INDEX_FILE"] = str(index_file)
    try:
        result = subprocess.run(  # noqa: S603 - fixed git invocation, arguments are not shell-parsed
            ["git", *SAFE_GIT_OPTIONS, *args],  # noqa: S607 - git from PATH, as in the workflow
            cwd=root,
            env=env,
            capture_output=True,
            timeout=GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise RecordError(f"git {args[0]} failed: {error}") from error
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip()[:500]
        raise RecordError(f"git {args[0]} failed in `{root}`: {message}")
    return result.stdout


def head_commit(root: Path, environment: Mapping[str, str]) -> str:
    return run_git(root, "rev-parse", "--verify", "HEAD^{commit}", environment=environment).decode().strip()


def current_branch(root: Path, environment: Mapping[str, str]) -> str | None:
    try:
        name = run_git(root, "symbolic-ref", "--quiet", "--short", "HEAD", environment=environment).decode().strip()
    except RecordError:
        return None  # detached HEAD
    return name or None


@dataclass(frozen=True)
class Change:
    """The checkout against the base commit: `git diff --binary` bytes and the files it touches."""

    patch: bytes
    files: tuple[TouchedFile, ...]

    @property
    def paths(self) -> list[str]:
        return [touched.path for touched in self.files if touched.change != "deleted"]


def describe_change(root: Path, base_commit: str, environment: Mapping[str, str]) -> Change:
    """Everything the working tree changes against `base_commit`: edits, new files git does not
    ignore, deletions, renames, exec bits and symlinks, committed or not."""
    with tempfile.TemporaryDirectory(prefix="osorganic-index-") as scratch:
        index = Path(scratch) / "index"
        run_git(root, "read-tree", base_commit, environment=environment, index_file=index)
        run_git(root, "add", "--all", "--", ".", environment=environment, index_file=index)
        diff_options = ("--cached", "--no-ext-diff", "--no-textconv", "-M", base_commit)
        patch = run_git(root, "diff", "--binary", "--full-index", *diff_options, "--", environment=environment, index_file=index)
        status = run_git(root, "diff", "--name-status", "-z", *diff_options, "--", environment=environment, index_file=index)
    return Change(patch=patch, files=tuple(_touched_files(status)))


_STATUS = {"A": "added", "M": "modified", "D": "deleted", "T": "type_changed", "R": "renamed", "C": "added"}


def _touched_files(name_status: bytes) -> Iterable[TouchedFile]:
    fields = name_status.decode("utf-8", "surrogateescape").split("\0")
    position = 0
    while position < len(fields) and fields[position]:
        code = fields[position][0]
        if code in {"R", "C"}:
            old_path, new_path = fields[position + 1], fields[position + 2]
            position += 3
            yield TouchedFile(path=new_path, change=_STATUS[code], old_path=old_path if code == "R" else None)
        else:
            yield TouchedFile(path=fields[position + 1], change=_STATUS.get(code, "modified"))
            position += 2


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret value and every credential-shaped string replaced."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        if len(secret) >= 8:
            text = text.replace(secret, REDACTED)
    for pattern in SECRET_PATTERNS:
        text = pattern.sub(lambda match: _redacted_match(match), text)
    return text


def _redacted_match(match: re.Match[str]) -> str:
    if match.re.groups == 2:  # a connection string: keep the user and host, drop the password
        return f"{match.group(1)}{REDACTED}{match.group(2)}"
    return REDACTED


def _redact_value(value: Any, secrets: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {key: _redact_value(item, secrets) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(item, secrets) for item in value]
    return value


class Transcript:
    """`transcript.jsonl`: one JSON object a line for every model turn, tool call, check and event."""

    def __init__(self, path: Path, secrets: Iterable[str], clock: Any = time.time) -> None:
        self.path = path
        self._secrets = tuple(secret for secret in secrets if len(secret) >= 8)
        self._clock = clock
        path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = path.open("a", encoding="utf-8")

    def write(self, kind: str, **fields: Any) -> None:
        entry = {"at": round(self._clock(), 3), "kind": kind, **_redact_value(fields, self._secrets)}
        self._handle.write(json.dumps(entry, ensure_ascii=False, default=str) + "\n")
        self._handle.flush()

    def close(self) -> None:
        if not self._handle.closed:
            os.fsync(self._handle.fileno())
            self._handle.close()
