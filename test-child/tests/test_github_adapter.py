"""The GitHub adapter's contract edges: a refused draft, a pull request that cannot open, a POST whose
answer is lost, a truncated tree. Against the fake GitHub backed by a real bare repository."""

from __future__ import annotations

import pytest

from osorganicai.github import GitHubError, GitHubUnavailableError
from osorganicai.publishing import PublishPolicy, publish

from .test_publish import BOT, REPOSITORY, edit_greeting, github, runs

__all__ = ["github", "runs"]


def test_a_refused_draft_becomes_a_normal_pull_request_labelled_agent_draft(github, runs) -> None:
    github.refuse_drafts = True
    checkout = runs.checkout()
    edit_greeting(checkout)
    result = publish(
        runs.propose(checkout), repository=REPOSITORY, github=github.client(), store=None, policy=PublishPolicy(), bot_login=BOT
    )
    assert result.outcome == "published"
    [pull] = github.pulls
    assert pull["draft"] is False and github.issues[pull["number"]]["labels"] == [{"name": "agent-draft"}]


def test_the_branch_of_a_pull_request_that_failed_to_open_is_deleted(github, runs) -> None:
    github.refuse_pulls = "Protected branch: pull requests need a linked issue"
    checkout = runs.checkout()
    edit_greeting(checkout)
    with pytest.raises(GitHubError, match="Protected branch"):
        publish(
            runs.propose(checkout),
            repository=REPOSITORY,
            github=github.client(),
            store=None,
            policy=PublishPolicy(),
            bot_login=BOT,
        )
    assert github.bare.branches("feature/") == {}
    assert any(method == "DELETE" and "/git/refs/heads/feature/" in path for method, path in github.requests)


def test_a_comment_whose_answer_was_lost_is_not_posted_twice(github) -> None:
    github.add_issue(3, "t", "b")
    github.lose_answers = 1
    comment = github.client().create_comment(REPOSITORY, 3, "hello")
    assert comment["body"] == "hello" and [c["body"] for c in github.comments(3)] == ["hello"]


def test_a_post_without_a_landing_check_is_not_retried(github) -> None:
    github.lose_answers = 1
    with pytest.raises(GitHubUnavailableError, match="502"):
        github.client().dispatch(REPOSITORY, "agent-developer", {"issue": 1})
    assert [path for method, path in github.requests if method == "POST"] == [f"/repos/{REPOSITORY}/dispatches"]


def test_a_truncated_tree_is_listed_folder_by_folder(github) -> None:
    files = {f"pkg{n}/mod{m}.py": f"# {n}.{m}\n" for n in range(3) for m in range(4)}
    head = github.push_commit("wide", files, parent=None)
    github.max_tree_entries = 5
    client = github.client()
    _, truncated = client.tree_entries(REPOSITORY, head)
    assert truncated
    assert sorted(entry["path"] for entry in client.tree(REPOSITORY, head)) == sorted(files)
