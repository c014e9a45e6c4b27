"""Which agent, if any, a webhook delivery starts. Pure: no I/O, easy to test.

issues.opened / issues.edited / issue_comment.created -> Product Owner;
issues.labeled with `ready-for-dev` -> Developer; everything else is acknowledged and ignored.
Only people with write or triage access may start an agent: their `author_association` says
so (OWNER, MEMBER, COLLABORATOR), or else the caller looks up their permission.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .labels import LABEL_READY_FOR_DEV, same_login

TRUSTED_ASSOCIATIONS = frozenset({"OWNER", "MEMBER", "COLLABORATOR"})
PRODUCT_OWNER = "product_owner"
DEVELOPER = "developer"


@dataclass(frozen=True)
class Decision:
    kind: str | None  # PRODUCT_OWNER, DEVELOPER or None (ignored)
    reason: str
    repository: str | None = None
    issue_number: int | None = None
    permission_lookup: str | None = None  # login whose permission must be checked first
    verify_permission_of: str | None = None  # login the agent must check before acting (lookup failed)


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


def decide(
    event: str, payload: dict[str, Any], *, bot_login: str | None, configured_repository: str | None
) -> Decision:
    action, repository, number, sender_login = summarise(payload)
    key = f"{event}.{action}" if action else event
    if key not in {"issues.opened", "issues.edited", "issue_comment.created", "issues.labeled"}:
        return Decision(None, f"{key} is not routed")
    if repository is None or number is None:
        return Decision(None, f"{key} without a repository or an issue number")
    if configured_repository and repository.lower() != configured_repository.lower():
        return Decision(None, f"repository {repository} is not GITHUB_REPOSITORY")
    issue = _dict(payload.get("issue"))
    if "pull_request" in issue:
        return Decision(None, "the issue is a pull request")
    if issue.get("state") == "closed":
        return Decision(None, "the issue is closed")

    if key == "issues.labeled":
        if _dict(payload.get("label")).get("name") != LABEL_READY_FOR_DEV:
            return Decision(None, f"label is not {LABEL_READY_FOR_DEV}")
        # GitHub lets only triage-or-higher collaborators (and the runtime's own bot) label issues.
        return Decision(DEVELOPER, f"labelled {LABEL_READY_FOR_DEV}", repository, number)

    if same_login(sender_login, bot_login):
        return Decision(None, "sent by the runtime's own bot account")
    if key == "issue_comment.created":
        comment = _dict(payload.get("comment"))
        author = _dict(comment.get("user"))
        if same_login(author.get("login"), bot_login):
            return Decision(None, "comment written by the runtime's own bot account")
        if author.get("type") == "Bot":
            return Decision(None, "comment written by a bot")
        association = comment.get("author_association")
        actor = author.get("login") or sender_login
    else:
        author = _dict(issue.get("user"))
        # When someone other than the author acts, the payload does not carry their association.
        by_author = bool(sender_login) and same_login(author.get("login"), sender_login)
        association = issue.get("author_association") if by_author else None
        actor = sender_login
    if association in TRUSTED_ASSOCIATIONS:
        return Decision(PRODUCT_OWNER, f"{key} by {association.lower()}", repository, number)
    if not actor:
        return Decision(None, f"{key} without a sender")
    return Decision(PRODUCT_OWNER, f"{key} by {actor}", repository, number, permission_lookup=actor)
