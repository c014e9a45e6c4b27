"""Label names, the runtime's hidden comment marker and login comparison, shared by the webhook
and the agents (import-light)."""

from __future__ import annotations

LABEL_NEEDS_CLARIFICATION = "needs-clarification"
LABEL_READY_FOR_DEV = "ready-for-dev"
LABEL_NEEDS_HUMAN = "needs-human"
LABEL_AGENT_DRAFT = "agent-draft"  # a pull request opened ready because the plan has no drafts
RUNTIME_LABELS = (LABEL_NEEDS_CLARIFICATION, LABEL_READY_FOR_DEV, LABEL_NEEDS_HUMAN, LABEL_AGENT_DRAFT)
# A person with write access adding one of these engages with an issue: its author steers from then on (`steering.py`).
ENGAGING_LABELS = frozenset({LABEL_NEEDS_CLARIFICATION, LABEL_READY_FOR_DEV})

# Every comment, reply and pull request body the runtime writes carries this hidden marker, so its own
# text is recognised whichever account posted it (an App, a bot user, or a person's token).
RUNTIME_MARKER = "<!-- osorganic:runtime -->"


def is_runtime_text(body: object) -> bool:
    return isinstance(body, str) and RUNTIME_MARKER in body


def with_marker(body: str) -> str:
    return body if RUNTIME_MARKER in body else f"{body.rstrip()}\n\n{RUNTIME_MARKER}"


def same_login(left: str | None, right: str | None) -> bool:
    """Logins compared case-insensitively, with or without the `[bot]` suffix.

    A GitHub App comments as `name[bot]`; a token-based bot account comments as a plain `User`
    named `name`. Either matches a configured `name[bot]` or `name`.
    """
    if not left or not right:
        return False

    def normal(login: str) -> str:
        login = login.strip().lower()
        return login[: -len("[bot]")] if login.endswith("[bot]") else login

    return normal(left) == normal(right)
