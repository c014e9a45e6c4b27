"""Settings read from environment variables, and the error that names a missing one.

Every variable is listed in `.env.example`. Nothing here reads a value until it is asked for,
so a process that only verifies webhook signatures never needs an LLM key, and a missing
setting is reported by name (`MissingSettingError`) where it is used, never as a stack trace.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

LLM_PROVIDERS = ("openai", "anthropic", "offline")

# name -> what it is for; used by the health endpoint and by error messages.
SETTINGS_HELP: dict[str, str] = {
    "GITHUB_WEBHOOK_SECRET": "the secret set on the GitHub webhook",
    "GITHUB_WEBHOOK_SECRET_PREVIOUS": "the previous webhook secret, accepted during a rotation",
    "DATABASE_URL": "the Supabase PostgreSQL connection string (transaction pooler, port 6543)",
    "GITHUB_TOKEN": "a fine-grained personal access token for the repository",
    "GITHUB_APP_ID": "the GitHub App id (instead of GITHUB_TOKEN)",
    "GITHUB_APP_PRIVATE_KEY": "the GitHub App private key, PEM (instead of GITHUB_TOKEN)",
    "GITHUB_APP_INSTALLATION_ID": "the GitHub App installation id (instead of GITHUB_TOKEN)",
    "GITHUB_REPOSITORY": "the repository the agents work on, owner/repo",
    "GITHUB_API_URL": "the GitHub REST API base URL (default https://api.github.com)",
    "OSORGANIC_BOT_LOGIN": "the login the runtime comments as, e.g. my-shop-bot[bot]",
    "LLM_PROVIDER": "openai, anthropic or offline",
    "LLM_MODEL": "the model name; overrides config/agents.toml",
    "OPENAI_API_KEY": "the key for the OpenAI-compatible provider",
    "OPENAI_BASE_URL": "the base URL of an OpenAI-compatible server (Ollama, vLLM...)",
    "ANTHROPIC_API_KEY": "the key for the Anthropic provider",
    "CRON_SECRET": "the bearer token Vercel cron sends to /api/cron/sweep",
    "GITHUB_SERVER_URL": "the GitHub web address people sign in at (default https://github.com)",
    "GITHUB_OAUTH_CLIENT_ID": "the client id of the GitHub OAuth App the console signs people in with",
    "GITHUB_OAUTH_CLIENT_SECRET": "the client secret of the console's GitHub OAuth App",
    "CONSOLE_SESSION_SECRET": "a random string of 32 characters or more that signs the console's session cookies",
}

CONSOLE_SETTINGS = ("GITHUB_OAUTH_CLIENT_ID", "GITHUB_OAUTH_CLIENT_SECRET", "CONSOLE_SESSION_SECRET")
MIN_SESSION_SECRET_LENGTH = 32


class MissingSettingError(RuntimeError):
    """A required environment variable is not set."""

    def __init__(self, name: str, purpose: str = "") -> None:
        self.name = name
        help_text = purpose or SETTINGS_HELP.get(name, "")
        detail = f" ({help_text})" if help_text else ""
        super().__init__(f"missing setting {name}{detail}: set it in the environment, see .env.example")


class InvalidSettingError(RuntimeError):
    """An environment variable is set to a value the runtime cannot use."""

    def __init__(self, name: str, message: str) -> None:
        self.name = name
        super().__init__(f"invalid setting {name}: {message}")


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


@dataclass(frozen=True)
class Settings:
    """A snapshot of the environment. Build with `Settings.from_env()`."""

    values: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        source = os.environ if environ is None else environ
        return cls({name: value for name, value in source.items() if _clean(value) is not None})

    def get(self, name: str, default: str | None = None) -> str | None:
        return _clean(self.values.get(name)) or default

    def require(self, name: str, purpose: str = "") -> str:
        value = self.get(name)
        if value is None:
            raise MissingSettingError(name, purpose)
        return value

    # -- webhook ---------------------------------------------------------------------------
    def webhook_secrets(self) -> list[bytes]:
        """The current secret first, then the previous one during a rotation."""
        current = self.require("GITHUB_WEBHOOK_SECRET")
        secrets = [current.encode()]
        previous = self.get("GITHUB_WEBHOOK_SECRET_PREVIOUS")
        if previous:
            secrets.append(previous.encode())
        return secrets

    # -- github ------------------------------------------------------------------------------
    @property
    def github_api_url(self) -> str:
        return (self.get("GITHUB_API_URL") or "https://api.github.com").rstrip("/")

    @property
    def bot_login(self) -> str | None:
        return self.get("OSORGANIC_BOT_LOGIN")

    @property
    def repository(self) -> str | None:
        value = self.get("GITHUB_REPOSITORY")
        if value is not None and value.count("/") != 1:
            raise InvalidSettingError("GITHUB_REPOSITORY", f"expected owner/repo, got {value!r}")
        return value

    def require_repository(self) -> str:
        value = self.repository
        if value is None:
            raise MissingSettingError("GITHUB_REPOSITORY")
        return value

    @property
    def github_server_url(self) -> str:
        """The GitHub web address (`GITHUB_SERVER_URL`, as Actions names it): where people sign in."""
        return (self.get("GITHUB_SERVER_URL") or "https://github.com").rstrip("/")

    def has_github_credentials(self) -> bool:
        return bool(self.get("GITHUB_TOKEN")) or all(
            self.get(name) for name in ("GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY", "GITHUB_APP_INSTALLATION_ID")
        )

    # -- llm -----------------------------------------------------------------------------------
    @property
    def llm_provider(self) -> str:
        value = self.require("LLM_PROVIDER").lower()
        if value not in LLM_PROVIDERS:
            raise InvalidSettingError("LLM_PROVIDER", f"expected one of {', '.join(LLM_PROVIDERS)}, got {value!r}")
        return value

    @property
    def llm_model(self) -> str | None:
        return self.get("LLM_MODEL")

    # -- console -------------------------------------------------------------------------------
    @property
    def oauth_client_id(self) -> str:
        return self.require("GITHUB_OAUTH_CLIENT_ID")

    @property
    def oauth_client_secret(self) -> str:
        return self.require("GITHUB_OAUTH_CLIENT_SECRET")

    @property
    def console_session_secret(self) -> bytes:
        value = self.require("CONSOLE_SESSION_SECRET")
        if len(value) < MIN_SESSION_SECRET_LENGTH:
            raise InvalidSettingError(
                "CONSOLE_SESSION_SECRET", f"at least {MIN_SESSION_SECRET_LENGTH} characters are needed, got {len(value)}"
            )
        return value.encode()

    def console_missing(self) -> list[str]:
        """Names of the settings the console still needs to sign people in (never their values)."""
        missing = [name for name in CONSOLE_SETTINGS if not self.get(name)]
        secret = self.get("CONSOLE_SESSION_SECRET")
        if secret and len(secret) < MIN_SESSION_SECRET_LENGTH:
            missing.append(f"CONSOLE_SESSION_SECRET (shorter than {MIN_SESSION_SECRET_LENGTH} characters)")
        return missing

    # -- health ------------------------------------------------------------------------------
    def misconfigured(self) -> dict[str, str]:
        """Settings without which the webhook refuses every event: name -> what is wrong (never a value)."""
        problems: dict[str, str] = {}
        try:
            if self.repository is None:
                problems["GITHUB_REPOSITORY"] = "not set: every event is refused; set it to the owner/repo the agents work on"
        except InvalidSettingError:
            problems["GITHUB_REPOSITORY"] = "not owner/repo: every event is refused; set it to the owner/repo the agents work on"
        return problems

    def missing(self) -> list[str]:
        """Names of the settings this deployment still needs (never their values)."""
        missing = [name for name in ("GITHUB_WEBHOOK_SECRET", "DATABASE_URL", "GITHUB_REPOSITORY") if not self.get(name)]
        if not self.has_github_credentials():
            missing.append("GITHUB_TOKEN (or GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY, GITHUB_APP_INSTALLATION_ID)")
        if not self.get("OSORGANIC_BOT_LOGIN"):
            missing.append("OSORGANIC_BOT_LOGIN")
        try:
            provider = self.llm_provider
        except MissingSettingError:
            missing.append("LLM_PROVIDER")
            return missing
        except InvalidSettingError:
            missing.append("LLM_PROVIDER (invalid value)")
        else:
            key = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}.get(provider)
            if key and not self.get(key) and not (provider == "openai" and self.get("OPENAI_BASE_URL")):
                missing.append(key)
        return missing
