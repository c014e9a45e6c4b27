"""What a publication keeps for the console: the diff stat of a real `git diff --binary` patch, the end of
the transcript within its caps, and both in the `publish_*` action of a real publication."""

from __future__ import annotations

import json
from pathlib import Path

from osorganicai.db import Store
from osorganicai.github import GitHubClient
from osorganicai.publishing import summary

from .fake_github_git import FakeGitHubGit
from .test_publish import Runs, client, github, run_publish, runs  # noqa: F401 - the publishing fixtures


def test_the_diff_stat_counts_lines_per_file_of_a_real_patch(github: FakeGitHubGit, runs: Runs) -> None:  # noqa: F811
    checkout = runs.checkout()
    (checkout / "app" / "greet.py").write_text("def greet(name):\n    return f'Hello, {name}!'\n")
    (checkout / "docs" / "unused.txt").unlink()
    (checkout / "docs" / "logo.bin").write_bytes(bytes(range(255, -1, -1)) * 4)
    (checkout / "tests").mkdir()
    (checkout / "tests" / "test_greet.py").write_text("def test_greet():\n    assert True\n\n\n# end\n")
    folder = runs.propose(checkout)
    stat = {entry["path"]: entry for entry in summary.diff_stat((folder / "change.patch").read_bytes())}
    assert stat["app/greet.py"]["added"] == 1 and stat["app/greet.py"]["removed"] == 5
    assert stat["docs/unused.txt"] == {"path": "docs/unused.txt", "added": 0, "removed": 1, "binary": False}
    assert stat["docs/logo.bin"]["binary"] is True
    assert stat["tests/test_greet.py"]["added"] == 5 and stat["tests/test_greet.py"]["removed"] == 0
    assert summary.diff_stat(b"") == [] and summary.diff_stat(b"not a patch\n+++ b/x\n") == []


def test_the_transcript_tail_keeps_the_newest_entries_within_its_caps() -> None:
    lines = [json.dumps({"at": 1.0 + n, "kind": "tool", "name": "bash", "content": "x" * 5_000}) for n in range(400)]
    text = "\n".join([*lines[:10], "not json", "[1, 2]", *lines[10:]]).encode()
    tail = summary.transcript_tail(text)
    assert 0 < len(tail) <= summary.TRANSCRIPT_ENTRIES
    assert tail[-1]["at"] == 400.0 and [entry["at"] for entry in tail] == sorted(entry["at"] for entry in tail)
    assert all(len(entry["content"]) < 2_100 and entry["content"].endswith("(5,000 characters)") for entry in tail)
    assert sum(len(json.dumps(entry, ensure_ascii=False)) for entry in tail) <= summary.TRANSCRIPT_BYTES
    assert summary.transcript_tail(b"") == []


def test_a_publication_records_its_title_summary_diff_stat_and_transcript(
    github: FakeGitHubGit,  # noqa: F811
    client: GitHubClient,  # noqa: F811
    runs: Runs,  # noqa: F811
    store: Store,
) -> None:
    checkout = runs.checkout()
    (checkout / "app" / "greet.py").write_text("def greet(name):\n    return f'Hello, {name}!'\n")
    folder = runs.propose(checkout)
    entries = [{"at": 10.5, "kind": "task", "model": "gpt-4.1-mini"}, {"at": 11.0, "kind": "finish", "summary": "done"}]
    (folder / "transcript.jsonl").write_text("".join(json.dumps(entry) + "\n" for entry in entries))
    assert run_publish(folder, client, store).outcome == "published"
    with store.transaction() as cursor:
        cursor.execute("select payload from public.agent_actions where action_type = 'publish_published'")
        payload = cursor.fetchone()["payload"]
    assert payload["title"] == "Greet people nicely" and payload["summary"].startswith("Greets people by name.")
    assert payload["diff_stat"] == [{"path": "app/greet.py", "added": 1, "removed": 5, "binary": False}]
    assert payload["transcript"] == entries


def test_a_folder_without_its_files_summarises_to_nothing(tmp_path: Path, github: FakeGitHubGit, runs: Runs) -> None:  # noqa: F811
    folder = runs.propose(runs.checkout())
    (folder / "transcript.jsonl").unlink()
    from osorganicai.proposal import read_proposal

    kept = summary.publication_summary(read_proposal(folder), tmp_path / "missing")
    assert kept["diff_stat"] == [] and kept["transcript"] == [] and kept["title"] == "Greet people nicely"
