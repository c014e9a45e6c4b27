"""What a publication keeps of its proposal for people to read later (the console's Issue page):
the title and summary, the diff stat of the patch, and the end of the run's transcript.

The transcript was redacted when it was written (`developer.record.Transcript`); the console
redacts again when it shows it. Everything here is capped so one `agent_actions` row stays small:
the newest TRANSCRIPT_ENTRIES entries, each text cut to TRANSCRIPT_TEXT_CHARS, TRANSCRIPT_BYTES in all.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..proposal import PATCH_FILE, TRANSCRIPT_FILE, Proposal

SUMMARY_CHARS = 4_000
DIFF_STAT_FILES = 200
TRANSCRIPT_ENTRIES = 150
TRANSCRIPT_TEXT_CHARS = 2_000
TRANSCRIPT_BYTES = 150_000


def publication_summary(proposal: Proposal, folder: Path | None) -> dict[str, Any]:
    """`title`, `summary`, `diff_stat` and `transcript` for the publication's action payload."""
    patch = _read(folder / PATCH_FILE) if folder else None
    transcript = _read(folder / TRANSCRIPT_FILE) if folder else None
    return {
        "title": proposal.title,
        "summary": proposal.summary[:SUMMARY_CHARS],
        "diff_stat": diff_stat(patch or b""),
        "transcript": transcript_tail(transcript or b""),
    }


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def diff_stat(patch: bytes) -> list[dict[str, Any]]:
    """Per file of a `git diff` patch: its path, lines added and removed, and whether it is binary."""
    files: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    in_hunk = False
    for raw in patch.split(b"\n"):
        if raw.startswith(b"diff --git "):
            header = raw.decode("utf-8", "replace")
            current = {"path": header.rsplit(" b/", 1)[-1], "added": 0, "removed": 0, "binary": False}
            files.append(current)
            in_hunk = False
        elif current is None:
            continue
        elif raw.startswith(b"@@"):
            in_hunk = True
        elif not in_hunk and raw.startswith(b"+++ b/"):
            current["path"] = raw[6:].decode("utf-8", "replace")
        elif not in_hunk and raw.startswith((b"GIT binary patch", b"Binary files")):
            current["binary"] = True
        elif in_hunk and raw.startswith(b"+"):
            current["added"] += 1
        elif in_hunk and raw.startswith(b"-"):
            current["removed"] += 1
    return files[:DIFF_STAT_FILES]


def transcript_tail(text: bytes) -> list[dict[str, Any]]:
    """The newest entries of `transcript.jsonl`, texts cut, within TRANSCRIPT_BYTES; unreadable lines skipped."""
    entries: list[dict[str, Any]] = []
    size = 0
    for line in reversed(text.decode("utf-8", "replace").splitlines()):
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if not isinstance(entry, dict):
            continue
        entry = _cut(entry)
        size += len(json.dumps(entry, ensure_ascii=False))
        if size > TRANSCRIPT_BYTES or len(entries) >= TRANSCRIPT_ENTRIES:
            break
        entries.append(entry)
    return list(reversed(entries))


def _cut(value: Any) -> Any:
    if isinstance(value, str):
        return value if len(value) <= TRANSCRIPT_TEXT_CHARS else value[:TRANSCRIPT_TEXT_CHARS] + f"… ({len(value):,} characters)"
    if isinstance(value, dict):
        return {key: _cut(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_cut(item) for item in value[:50]]
    return value
