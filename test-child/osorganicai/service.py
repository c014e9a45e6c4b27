"""The dependencies of the HTTP endpoints, built lazily from the environment.

A serverless instance builds them on its first request and keeps them while it stays warm;
tests pass their own. Nothing heavy is imported until a request needs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .settings import Settings

if TYPE_CHECKING:
    from .db import Store
    from .github import GitHubClient

# GitHub waits 10 s for an answer: the webhook's own GitHub calls must be quick and not retry.
WEBHOOK_GITHUB_TIMEOUT_SECONDS = 3.0


class Service:
    def __init__(
        self,
        settings: Settings | None = None,
        store: Store | None = None,
        github: GitHubClient | None = None,
    ) -> None:
        self._settings = settings
        self._store = store
        self._github = github

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = Settings.from_env()
        return self._settings

    def store(self) -> Store:
        """The database; raises MissingSettingError naming DATABASE_URL when unset."""
        if self._store is None:
            from .db import Store

            self._store = Store(self.settings.require("DATABASE_URL"), max_connections=2)
        return self._store

    def github(self) -> GitHubClient | None:
        """A fast-failing GitHub client, or None when no credentials are configured."""
        if self._github is None and self.settings.has_github_credentials():
            from .github import GitHubClient

            self._github = GitHubClient.from_settings(
                self.settings, timeout=WEBHOOK_GITHUB_TIMEOUT_SECONDS, max_attempts=1, max_rate_limit_wait=0
            )
        return self._github
