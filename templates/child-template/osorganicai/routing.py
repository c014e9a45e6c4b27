"""Which job, if any, a webhook delivery starts. Pure: no I/O, easy to test.

issues.opened / issues.edited / issue_comment.created -> Product Owner;
issues.labeled with `ready-for-dev` -> Developer;
the runtime's own pull request (its `feature/issue-N-*` branch) -> a `lifecycle` job:
check_suite / check_run / workflow_run completed, pull_request_review submitted,
pull_request_review_comment created, issue_comment created on the pull request, pull_request
closed, deployment_status created. The lifecycle job reads the stored delivery, checks the pull
request's hidden marker and the people involved, and acts (`osorganicai/lifecycle/`).
A final deployment_status of any other ref (the default branch) names only a commit: the decision
asks the caller to look that commit up among the runtime's merge commits (`merge_commit_lookup`),
which needs the database, so it happens in the webhook, not here.
Everything else is acknowledged and ignored. The job kinds are `jobs.JOB_KINDS`.
Only people who steer (`steering.steers`: write, maintain or admin, and an issue's author on their
own issue) start the Product Owner. The repository's OWNER and the issue's author are known from
the payload; anyone else (MEMBER and COLLABORATOR included, who may hold only triage or read
access) is looked up by the caller (`Decision.permission_lookup`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .labels import LABEL_READY_FOR_DEV, RUNTIME_MARKER, same_login

TRUSTED_ASSOCIATIONS = frozenset({"OWNER"})  # the repository's owner administers it; MEMBER or COLLABORATOR may be triage
PRODUCT_OWNER = "product_owner"  # the names of jobs.JOB_KINDS (kept here so routing imports nothing heavy)
DEVELOPER = "developer"
LIFECYCLE = "lifecycle"
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
    if key not in {"issues.opened", "issues.edited", "issue_comment.created", "issues.labeled"} | LIFECYCLE_KEYS:
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

    if key == "issues.labeled":
        if _dict(payload.get("label")).get("name") != LABEL_READY_FOR_DEV:
            return Decision(None, f"label is not {LABEL_READY_FOR_DEV}")
        # GitHub lets only triage-or-higher collaborators (and the runtime's own bot) label issues.
        return Decision(DEVELOPER, f"labelled {LABEL_READY_FOR_DEV}", repository, number)

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
    if actor and same_login(issue_author, actor):
        return Decision(PRODUCT_OWNER, f"{key} by the issue's author {actor} on their own issue", repository, number)
    if association in TRUSTED_ASSOCIATIONS:
        return Decision(PRODUCT_OWNER, f"{key} by {association.lower()}", repository, number)
    if not actor:
        return Decision(None, f"{key} without a sender")
    return Decision(PRODUCT_OWNER, f"{key} by {actor}", repository, number, permission_lookup=actor)
