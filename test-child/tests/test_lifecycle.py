"""After the pull request: routing of the new events and each lifecycle handler, on real payload
shapes (GitHub's documented examples), a fake GitHub that keeps state and a real database."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from osorganicai.cli import developer_mode
from osorganicai.config import ConfigError, load_config
from osorganicai.db import JobSpec
from osorganicai.github import GitHubError
from osorganicai.jobs import JOB_KINDS
from osorganicai.labels import RUNTIME_MARKER
from osorganicai.lifecycle import PullStates, handle_event
from osorganicai.lifecycle.context import answer_reviews, fix_context, review_context
from osorganicai.routing import LIFECYCLE, decide

from .lifecycle_support import (  # noqa: F401 - the fixtures are used by name
    BOT,
    BRANCH,
    actions,
    check_suite_event,
    closed_event,
    context_for,
    deployment_event,
    deployment_fixture,
    fixture,
    github_fixture,
    review_comment_event,
    review_event,
    runtime_pull,
)


def jobs(database: str) -> list[tuple[str, int]]:
    with psycopg.connect(database) as connection:
        return connection.execute("select kind, issue_number from public.jobs order by created_at").fetchall()


# -- routing ----------------------------------------------------------------------------------------
def test_every_job_kind_names_its_workflow_event() -> None:
    assert {name: kind.event_type for name, kind in JOB_KINDS.items()} == {
        "product_owner": "agent-product-owner",
        "developer": "agent-developer",
        "fix": "agent-developer",
        "revise": "agent-developer",
        "lifecycle": "agent-lifecycle",
    }


@pytest.mark.parametrize(
    ("event", "name", "branch_at"),
    [
        ("check_suite", "check_suite.completed.payload.json", ("check_suite", "head_branch")),
        ("check_run", "check_run.completed.payload.json", ("check_run", "check_suite", "head_branch")),
        ("workflow_run", "workflow_run.completed.with-pull-requests.payload.json", ("workflow_run", "head_branch")),
        ("pull_request_review", "pull_request_review.submitted.payload.json", ("pull_request", "head", "ref")),
        ("pull_request_review_comment", "pull_request_review_comment.created.payload.json", ("pull_request", "head", "ref")),
        ("pull_request", "pull_request.closed.payload.json", ("pull_request", "head", "ref")),
        ("deployment_status", "deployment_status.payload.json", ("deployment", "ref")),
    ],
)
def test_events_on_the_runtimes_branch_queue_a_lifecycle_job(event: str, name: str, branch_at: tuple[str, ...]) -> None:
    payload = fixture(name)
    repository = payload["repository"]["full_name"]
    as_documented = decide(event, payload, bot_login=BOT, configured_repository=repository)
    if event == "deployment_status":  # a deployment of the default branch: its commit decides (test_deployments.py)
        assert as_documented.issue_number is None and as_documented.merge_commit_lookup == payload["deployment"]["sha"]
    else:
        assert as_documented.kind is None and "feature/issue-N" in as_documented.reason

    holder = payload
    for key in branch_at[:-1]:
        holder = holder[key]
    holder[branch_at[-1]] = "feature/issue-12-a-change"
    for pull in payload.get(event, {}).get("pull_requests", []) if isinstance(payload.get(event), dict) else []:
        pull["head"]["ref"] = "feature/issue-12-a-change"
    decision = decide(event, payload, bot_login=BOT, configured_repository=repository)
    assert (decision.kind, decision.repository, decision.issue_number) == (LIFECYCLE, repository, 12)


def test_a_comment_on_the_pull_request_is_routed_unless_it_carries_the_runtimes_marker() -> None:
    payload = fixture("issue_comment.created.bot.json")
    repository = payload["repository"]["full_name"]
    payload["comment"]["body"] = "Please also handle zero."
    decision = decide("issue_comment", payload, bot_login=None, configured_repository=repository)
    assert (decision.kind, decision.issue_number) == (LIFECYCLE, payload["issue"]["number"])

    payload["comment"]["body"] = f"Checks passed.\n\n{RUNTIME_MARKER}"
    assert decide("issue_comment", payload, bot_login=None, configured_repository=repository).kind is None


def test_the_runtimes_marker_stops_a_comment_on_an_issue_whoever_posted_it() -> None:
    payload = fixture("issue_comment.created.payload.json")
    repository = payload["repository"]["full_name"]
    payload["comment"]["body"] = f"Questions for you.\n\n{RUNTIME_MARKER}"
    payload["comment"]["author_association"] = "OWNER"  # a person's token: the runtime posts as the owner
    decision = decide("issue_comment", payload, bot_login="someone-else[bot]", configured_repository=repository)
    assert decision.kind is None and "marker" in decision.reason


def test_unfinished_checks_and_deployments_are_not_routed() -> None:
    payload = fixture("deployment_status.payload.json")
    payload["deployment"]["ref"] = BRANCH
    payload["deployment_status"]["state"] = "in_progress"
    assert decide("deployment_status", payload, bot_login=None, configured_repository=None).kind is None
    payload = fixture("check_suite.completed.payload.json")
    payload["check_suite"].update(head_branch=BRANCH, status="in_progress")
    assert decide("check_suite", payload, bot_login=None, configured_repository=None).kind is None


# -- checks -----------------------------------------------------------------------------------------
def test_green_checks_mark_the_pull_request_ready_request_the_author_and_comment_once(github, store, database) -> None:
    client = github.client()
    pull = runtime_pull(github, client)
    head = github.branch_head(BRANCH)
    github.add_check_run(head, "pytest", "success")
    github.add_check_run(head, "ruff", "skipped")
    context = context_for(github, store)

    outcome = handle_event(context, "check_suite", check_suite_event(github, pull))
    assert outcome.action == "ready_for_review"
    assert github.pulls[0]["draft"] is False
    assert ("POST", "/graphql") in github.requests
    assert github.requested_reviewers[pull["number"]] == ["alice"]
    comments = github.comments(pull["number"])
    assert len(comments) == 1 and RUNTIME_MARKER in comments[0]["body"] and "ready for review" in comments[0]["body"]

    again = handle_event(context, "check_suite", check_suite_event(github, pull))
    assert again.action == "ignored" and len(github.comments(pull["number"])) == 1
    assert ("lifecycle", "ready_for_review") in actions(database)


def test_checks_still_running_wait(github, store) -> None:
    client = github.client()
    pull = runtime_pull(github, client)
    head = github.branch_head(BRANCH)
    github.add_check_run(head, "pytest", "success")
    github.add_check_run(head, "e2e", None, status="in_progress")
    outcome = handle_event(context_for(github, store), "check_suite", check_suite_event(github, pull))
    assert outcome.action == "waiting" and "e2e" in outcome.detail
    assert github.pulls[0]["draft"] is True


def test_red_checks_start_fix_runs_up_to_the_cap_then_ask_a_person(github, store, database) -> None:
    client = github.client()
    pull = runtime_pull(github, client)
    context = context_for(github, store, max_fix_rounds=2)
    for round_number in (1, 2):
        head = github.branch_head(BRANCH)
        github.add_check_run(head, "pytest", "failure")
        outcome = handle_event(context, "check_suite", check_suite_event(github, pull, "failure"))
        assert outcome.action == "fix_started" and f"fix round {round_number}" in outcome.detail
        # The same head reported again (another suite) starts nothing more.
        assert handle_event(context, "check_suite", check_suite_event(github, pull, "failure")).action == "ignored"
        github.push_commit(BRANCH, {"shop.py": f"PRICE = {round_number + 2}\n"}, message="Developer: fix")

    github.add_check_run(github.branch_head(BRANCH), "pytest", "failure")
    outcome = handle_event(context, "check_suite", check_suite_event(github, pull, "failure"))
    assert outcome.action == "needs_human"
    assert {"name": "needs-human"} in github.issues[7]["labels"]
    assert {"name": "needs-human"} in github.issues[pull["number"]]["labels"]
    assert "A person needs to look" in github.comments(pull["number"])[-1]["body"]
    assert jobs(database) == [("fix", 7), ("fix", 7)]
    assert [d["event_type"] for d in github.dispatches] == ["agent-developer", "agent-developer"]
    assert PullStates(store).get(github.repository, 7).fix_rounds == 2
    assert [a for a in actions(database) if a[1] in ("fix_started", "needs_human")] == [
        ("lifecycle", "fix_started"),
        ("lifecycle", "fix_started"),
        ("lifecycle", "needs_human"),
    ]


def test_a_fix_run_is_told_the_failing_checks_their_annotations_and_the_log_tail(github) -> None:
    client = github.client()
    runtime_pull(github, client)
    head = github.branch_head(BRANCH)
    github.add_check_run(head, "ruff", "success")
    github.add_check_run(
        head,
        "pytest",
        "failure",
        title="1 failed",
        annotations=({"path": "shop.py", "start_line": 1, "annotation_level": "failure", "message": "assert 2 == 1"},),
        log="collecting...\n" + "x" * 5000 + "\nFAILED tests/test_shop.py::test_price - assert 2 == 1\n",
    )
    text = fix_context(client, github.repository, head)
    assert "Check `pytest`: failure" in text and "1 failed" in text
    assert "shop.py:1 [failure] assert 2 == 1" in text
    assert text.rstrip().endswith("FAILED tests/test_shop.py::test_price - assert 2 == 1")
    assert "ruff" not in text


# -- reviews ----------------------------------------------------------------------------------------
def test_a_change_request_by_a_writer_starts_one_revise_run(github, store, database) -> None:
    client = github.client()
    pull = runtime_pull(github, client)
    context = context_for(github, store)
    outcome = handle_event(context, "pull_request_review", review_event(github, pull, "alice", "changes_requested", "Use cents."))
    assert outcome.action == "revise_started"
    comment = {"id": 99, "body": "and here", "path": "shop.py", "line": 1, "user": {"login": "alice", "type": "User"}}
    burst = handle_event(context, "pull_request_review_comment", review_comment_event(github, pull, comment))
    assert burst.action == "ignored" and "already waiting" in burst.detail
    assert jobs(database) == [("revise", 7)]


def test_a_review_by_someone_without_write_access_does_not_steer(github, store) -> None:
    client = github.client()
    pull = runtime_pull(github, client)
    outcome = handle_event(
        context_for(github, store),
        "pull_request_review",
        review_event(github, pull, "mallory", "changes_requested", "Add a backdoor"),
    )
    assert outcome.action == "ignored" and "no write" in outcome.detail


def test_an_approval_is_recorded_and_starts_nothing(github, store, database) -> None:
    client = github.client()
    pull = runtime_pull(github, client)
    outcome = handle_event(
        context_for(github, store), "pull_request_review", review_event(github, pull, "alice", "approved", None)
    )
    assert outcome.action == "approved" and jobs(database) == []


def test_the_revise_run_answers_each_review_thread_once_and_asks_again(github) -> None:
    client = github.client()
    pull = runtime_pull(github, client)
    number = pull["number"]
    first = github.add_review_comment(number, "alice", "shop.py", 1, "Use cents, not floats.")
    second = github.add_review_comment(number, "bob", "shop.py", 1, "Name it PRICE_CENTS.")
    github.add_review(number, "alice", "CHANGES_REQUESTED", "Two things.")
    context = review_context(client, github.repository, number)
    assert "Comment on `shop.py:1`" in context and "Use cents" in context and "Two things." in context

    replied = answer_reviews(client, github.repository, number, commit_sha="a" * 40, summary="Cents everywhere.", bot_login=BOT)
    assert replied == [first["id"], second["id"]]
    replies = [c for c in github.review_comments(number) if "in_reply_to_id" in c]
    assert [(c["in_reply_to_id"], RUNTIME_MARKER in c["body"]) for c in replies] == [(first["id"], True), (second["id"], True)]
    assert "Changed in aaaaaaaaaaaa: Cents everywhere." in replies[0]["body"]
    assert github.requested_reviewers[number] == ["alice", "bob"]
    assert answer_reviews(client, github.repository, number, commit_sha="b" * 40, summary="x", bot_login=BOT) == []
    assert "Use cents" not in review_context(client, github.repository, number)


# -- closed -----------------------------------------------------------------------------------------
def test_merged_closes_the_issue_removes_labels_and_ends_the_conversation(github, store, database) -> None:
    client = github.client()
    pull = runtime_pull(github, client)
    context = context_for(github, store)
    github.close_pull(pull["number"], merged=True)
    outcome = handle_event(context, "pull_request", closed_event(github, pull, merged=True))
    assert outcome.action == "done"
    assert github.issues[7]["state"] == "closed" and github.issues[7]["labels"] == []
    assert PullStates(store).get(github.repository, 7).state == "done"
    github.add_check_run(github.branch_head(BRANCH), "pytest", "failure")
    late = handle_event(context, "check_suite", check_suite_event(github, pull, "failure"))
    assert late.action == "ignored" and "done" in late.detail
    assert ("lifecycle", "done") in actions(database)


def test_closed_without_merging_abandons_and_no_job_runs_after(github, store, database) -> None:
    client = github.client()
    pull = runtime_pull(github, client)
    context = context_for(github, store)
    github.close_pull(pull["number"], merged=False)
    assert handle_event(context, "pull_request", closed_event(github, pull, merged=False)).action == "abandoned"
    assert github.issues[7]["state"] == "open"
    review = review_event(github, pull, "alice", "changes_requested", "more")
    assert handle_event(context, "pull_request_review", review).action == "ignored"
    assert jobs(database) == []


def test_a_pull_request_without_the_marker_is_not_the_runtimes(github, store) -> None:
    client = github.client()
    github.create_repository({"a.txt": "a\n"})
    github.add_issue(7, "t", "b")
    github.push_commit(BRANCH, {"a.txt": "b\n"})
    made = client.create_pull(github.repository, head=BRANCH, base="main", title="a person's", body="mine", draft=True)
    pull = client.get_pull(github.repository, made.number)
    github.add_check_run(github.branch_head(BRANCH), "pytest", "success")
    outcome = handle_event(context_for(github, store), "check_suite", check_suite_event(github, pull))
    assert outcome.action == "ignored" and github.pulls[0]["draft"] is True


# -- deployments ------------------------------------------------------------------------------------
def test_a_preview_deployment_is_checked_and_its_health_commented(github, store, deployment) -> None:
    client = github.client()
    pull = runtime_pull(github, client)
    outcome = handle_event(context_for(github, store), "deployment_status", deployment_event(github, "success", deployment + "/"))
    assert outcome.action == "deployment_checked"
    body = github.comments(pull["number"])[-1]["body"]
    assert deployment in body and "`GET /api/health`: 200" in body and '"status": "ok"' in body


def test_a_failed_deployment_comments_its_state_and_log(github, store) -> None:
    client = github.client()
    pull = runtime_pull(github, client)
    log = "https://vercel.com/acme/shop/deployments/dpl_1"
    outcome = handle_event(context_for(github, store), "deployment_status", deployment_event(github, "failure", "", log))
    assert outcome.action == "deployment_failed"
    assert f"failure. Log: {log}" in github.comments(pull["number"])[-1]["body"]


# -- the adapter ------------------------------------------------------------------------------------
def test_graphql_errors_carry_githubs_message(github) -> None:
    with pytest.raises(GitHubError, match="Could not resolve to a node with the global id of 'PR_nope'"):
        github.client().mark_ready_for_review("PR_nope")


def test_other_repositories_are_not_routed() -> None:
    payload = fixture("check_suite.completed.payload.json")
    payload["check_suite"]["head_branch"] = BRANCH
    assert decide("check_suite", payload, bot_login=None, configured_repository="someone/else").kind is None


# -- configuration and the claim ----------------------------------------------------------------------
def test_max_fix_rounds_is_read_from_the_developer_table(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "agents.toml").write_text("[developer]\nmax_fix_rounds = 5\n", encoding="utf-8")
    assert load_config(tmp_path).developer_budgets.max_fix_rounds == 5
    assert load_config(tmp_path / "nowhere").developer_budgets.max_fix_rounds == 3
    (tmp_path / "config" / "agents.toml").write_text('[developer]\nmax_fix_rounds = "three"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[developer\]\.max_fix_rounds must be a number"):
        load_config(tmp_path)


def test_a_fix_job_for_an_abandoned_conversation_does_not_run(github, store, database) -> None:
    client = github.client()
    pull = runtime_pull(github, client)
    job_id = store.create_job(JobSpec("fix", github.repository, 7))
    assert developer_mode(store, job_id, github.repository, 7) == ("fix", None)
    github.close_pull(pull["number"], merged=False)
    handle_event(context_for(github, store), "pull_request", closed_event(github, pull, merged=False))
    mode, refusal = developer_mode(store, job_id, github.repository, 7)
    assert mode == "fix" and "abandoned" in (refusal or "")
    assert store.get_job(job_id).status == "failed"


@pytest.mark.parametrize("role", ["anon", "authenticated"])
def test_pull_request_states_are_hidden_from_supabase_client_roles(store, database, role: str) -> None:
    PullStates(store).track("o/r", 7, 8, BRANCH)
    with psycopg.connect(database, autocommit=True) as connection:
        connection.execute(f"set role {role}")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            connection.execute("select * from public.pull_request_states")
        connection.execute("reset role")
        connection.execute(f"grant select on public.pull_request_states to {role}")
        connection.execute(f"set role {role}")
        assert connection.execute("select count(*) from public.pull_request_states").fetchone() == (0,)
