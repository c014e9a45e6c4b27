"""Which job, if any, a webhook delivery starts. Pure: no I/O, easy to test.

issues.opened / issues.edited / issue_comment.created -> Product Owner;
issues.labeled with `ready-for-dev` -> Developer;
issues.labeled with `needs-clarification`, issues.assigned -> no job, a writer's engagement;
the runtime's own pull request (its `feature/issue-N-*` branch) -> a `lifecycle` job:
check_suite / check_run / workflow_run completed, pull_request_review submitted,
pull_request_review_comment created, issue_comment created on the pull request, pull_request
closed, deployment_status created. The lifecycle job reads the stored delivery, checks the pull
request's hidden marker and the people involved, and acts (`osorganicai/lifecycle/`).
A final deployment_status of any other ref (the default branch) names only a commit: the decision
asks the caller to look that commit up among the runtime's merge commits (`merge_commit_lookup`),
which needs the database, so it happens in the webhook, not here.
Everything else is acknowledged and ignored. The job kinds are `jobs.JOB_KINDS`.
Only people who steer (`steering.steers`) start paid work: write, maintain or admin permission, and
an issue's author without it on their own issue once someone with write access has engaged with the
issue. The repository's OWNER is known from the payload; anyone else (MEMBER and COLLABORATOR
included, who may hold only triage or read access) is looked up by the caller
(`Decision.permission_lookup`). The `ready-for-dev` label starts the Developer only when the runtime
added it or the person who did has write access (triage may label issues). An event by the issue's
author asks the caller whether a writer has engaged (`Decision.needs_writer_engagement`); an act of
a writer on an issue (a comment, an edit, a runtime label, an assignment: `Decision.engagement`) is
recorded as that engagement once their access is known. issues.labeled with `needs-clarification`
and issues.assigned start nothing; they are routed only to be recorded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .labels import ENGAGING_LABELS, LABEL_READY_FOR_DEV, RUNTIME_MARKER, same_login

TRUSTED_ASSOCIATIONS = frozenset({"OWNER"})  # the repository's owner administers it; MEMBER or COLLABORATOR may be triage
PRODUCT_OWNER = "product_owner"  # the names of jobs.JOB_KINDS (kept here so routing imports nothing heavy)
DEVELOPER = "developer"
LIFECYCLE = "lifecycle"
ISSUE_KEYS = frozenset({"issues.opened", "issues.edited", "issue_comment.created", "issues.labeled", "issues.assigned"})
ENGAGEMENT_OF_KEY = {  # what a writer's event on someone else's issue is, as an engagement
    "issue_comment.created": "commented",
    "issues.edited": "edited the issue",
    "issues.opened": "opened the issue",
}
ISSUE_BRANCH = re.compile(r"^feature/issue-([1-9][0-9]{0,9})-")
COMMIT_SHA = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")  # SHA-1, or SHA-256 repositories
CHECK_EVENTS = {"check_suite": "check_suite", "check_run": "check_run", "workflow_run": "workflow_run"}
LIFECYCLE_KEYS = frozenset(
    {
        "check_suite.completed",
        "check_run.completed",
        "workflow_run.completed",
        "pull_request_review.submitted",
        "pull_request_review_comment.created",
        "pull_request.closed",
        "deployment_status.created",
    }
)


@dataclass(frozen=True)
class Decision:
    kind: str | None  # PRODUCT_OWNER, DEVELOPER, LIFECYCLE or None (ignored)
    reason: str
    repository: str | None = None
    issue_number: int | None = None
    permission_lookup: str | None = None  # login whose permission must be checked first
    verify_permission_of: str | None = None  # login the agent must check before acting (lookup failed)
    merge_commit_lookup: str | None = None  # a deployed commit whose issue the caller must find first
    actor: str | None = None  # who acted on the issue
    engagement: str | None = None  # what the actor did that engages a writer with the issue, in words
    permission: str | None = None  # the actor's permission once known ("owner" from the payload)
    needs_writer_engagement: bool = False  # the actor is the issue's author: without write access they need one


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def summarise(payload: dict[str, Any]) -> tuple[str | None, str | None, int | None, str | None]:
    """(action, repository full name, issue number, sender login), each None when absent."""
    action = payload.get("action") if isinstance(payload.get("action"), str) else None
    repository = _dict(payload.get("repository")).get("full_name")
    number = _dict(payload.get("issue")).get("number")
    sender = _dict(payload.get("sender")).get("login")
    return (
        action,
        repository if isinstance(repository, str) else None,
        number if isinstance(number, int) and not isinstance(number, bool) else None,
        sender if isinstance(sender, str) else None,
    )


def issue_of_branch(branch: Any) -> int | None:
    """N for the runtime's branch `feature/issue-N-*`, else None."""
    match = ISSUE_BRANCH.match(branch) if isinstance(branch, str) else None
    return int(match.group(1)) if match else None


def lifecycle_branch(event: str, payload: dict[str, Any]) -> Any:
    """The branch a pull-request-lifecycle event is about, as its payload names it."""
    if event in CHECK_EVENTS:
        subject = _dict(payload.get(CHECK_EVENTS[event]))
        branch = subject.get("head_branch") or _dict(subject.get("check_suite")).get("head_branch")
        if issue_of_branch(branch) is None:  # a fork's or a detached run: its pull requests name the branch
            heads = [_dict(_dict(pull).get("head")).get("ref") for pull in subject.get("pull_requests") or []]
            branch = next((head for head in heads if issue_of_branch(head)), branch)
        return branch
    if event == "deployment_status":
        return _dict(payload.get("deployment")).get("ref")
    return _dict(_dict(payload.get("pull_request")).get("head")).get("ref")


def decide_lifecycle(key: str, event: str, payload: dict[str, Any], repository: str) -> Decision:
    """A `lifecycle` job for the runtime's pull request, found by its branch (the job checks its marker)."""
    final_states = {"success", "failure", "error"}
    if event == "deployment_status" and _dict(payload.get("deployment_status")).get("state") not in final_states:
        return Decision(None, "deployment_status is not final")
    if event in CHECK_EVENTS and _dict(payload.get(CHECK_EVENTS[event])).get("status") not in (None, "completed"):
        return Decision(None, f"{event} is not completed")
    issue = issue_of_branch(lifecycle_branch(event, payload))
    if issue is None and event == "deployment_status":
        sha = _dict(payload.get("deployment")).get("sha")
        if isinstance(sha, str) and COMMIT_SHA.fullmatch(sha):
            reason = f"{key} of {sha[:12]}, not a runtime branch: a lifecycle job if it is a runtime merge commit"
            return Decision(LIFECYCLE, reason, repository, merge_commit_lookup=sha)
    if issue is None:
        return Decision(None, f"{key} is not about a feature/issue-N branch of the runtime")
    comment = _dict(payload.get("comment")) or _dict(payload.get("review"))
    if RUNTIME_MARKER in str(comment.get("body") or ""):
        return Decision(None, "the runtime's own comment (it carries the runtime's marker)")
    return Decision(LIFECYCLE, f"{key} on the runtime's branch for issue #{issue}", repository, issue)


def decide(event: str, payload: dict[str, Any], *, bot_login: str | None, configured_repository: str | None) -> Decision:
    action, repository, number, sender_login = summarise(payload)
    key = f"{event}.{action}" if action else event
    if key not in ISSUE_KEYS | LIFECYCLE_KEYS:
        return Decision(None, f"{key} is not routed")
    if repository is not None and configured_repository and repository.lower() != configured_repository.lower():
        return Decision(None, f"repository {repository} is not GITHUB_REPOSITORY")
    if key in LIFECYCLE_KEYS:
        if repository is None:
            return Decision(None, f"{key} without a repository")
        return decide_lifecycle(key, event, payload, repository)
    if repository is None or number is None:
        return Decision(None, f"{key} without a repository or an issue number")
    issue = _dict(payload.get("issue"))
    if "pull_request" in issue:
        if key != "issue_comment.created":
            return Decision(None, "the issue is a pull request")
        if RUNTIME_MARKER in str(_dict(payload.get("comment")).get("body") or ""):
            return Decision(None, "the runtime's own comment (it carries the runtime's marker)")
        # The payload does not name the pull request's branch: the job reads the pull request.
        return Decision(LIFECYCLE, f"{key} on pull request #{number}", repository, number)
    if issue.get("state") == "closed":
        return Decision(None, "the issue is closed")

    if key in {"issues.labeled", "issues.assigned"}:
        return decide_issue_triage(key, payload, repository, number, sender_login, bot_login)

    issue_author = _dict(issue.get("user")).get("login")
    # The runtime's own comments are known by their marker, not by their author: with a person's token
    # the runtime comments as that person, who must still be heard.
    if key == "issue_comment.created":
        comment = _dict(payload.get("comment"))
        if RUNTIME_MARKER in str(comment.get("body") or ""):
            return Decision(None, "the runtime's own comment (it carries the runtime's marker)")
        author = _dict(comment.get("user"))
        if author.get("type") == "Bot" and not same_login(author.get("login"), bot_login):
            return Decision(None, "comment written by a bot")
        association = comment.get("author_association")
        actor = author.get("login") or sender_login
    else:
        # When someone other than the author acts, the payload does not carry their association.
        association = issue.get("author_association") if same_login(issue_author, sender_login) else None
        actor = sender_login
    if not actor:
        return Decision(None, f"{key} without a sender")
    is_author = same_login(issue_author, actor)
    engagement = None if is_author else ENGAGEMENT_OF_KEY.get(key)
    if association in TRUSTED_ASSOCIATIONS:
        reason = f"{key} by {actor}, the repository's {association.lower()}"
        return Decision(PRODUCT_OWNER, reason, repository, number, actor=actor, engagement=engagement, permission="owner")
    if is_author:
        reason = f"{key} by the issue's author {actor} on their own issue"
        return Decision(
            PRODUCT_OWNER, reason, repository, number, permission_lookup=actor, actor=actor, needs_writer_engagement=True
        )
    reason = f"{key} by {actor}"
    return Decision(PRODUCT_OWNER, reason, repository, number, permission_lookup=actor, actor=actor, engagement=engagement)


def decide_issue_triage(
    key: str, payload: dict[str, Any], repository: str, number: int, sender: str | None, bot_login: str | None
) -> Decision:
    """A label or an assignment: `ready-for-dev` starts the Developer; it, `needs-clarification` and an
    assignment by a person with write access engage them with the issue (the caller looks them up)."""
    if key == "issues.labeled":
        label = _dict(payload.get("label")).get("name")
        if label not in ENGAGING_LABELS:
            return Decision(None, f"label is not one of the runtime's ({', '.join(sorted(ENGAGING_LABELS))})")
        how, kind = f"labelled {label}", DEVELOPER if label == LABEL_READY_FOR_DEV else None
    else:
        how, kind = "assigned the issue", None
    if not sender:
        return Decision(None, f"{key} without a sender")
    if same_login(sender, bot_login):
        if kind is None:
            return Decision(None, f"the runtime's own act ({how})")
        return Decision(kind, f"{how} by the runtime", repository, number)
    # Triage may label and assign issues too: only a lookup tells whether the sender has write access.
    return Decision(kind, f"{how} by {sender}", repository, number, permission_lookup=sender, actor=sender, engagement=how)
