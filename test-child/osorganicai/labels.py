"""Label names and login comparison, shared by the webhook and the agents (import-light)."""

from __future__ import annotations

LABEL_NEEDS_CLARIFICATION = "needs-clarification"
LABEL_READY_FOR_DEV = "ready-for-dev"


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
