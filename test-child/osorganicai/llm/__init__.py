"""LLM providers behind one interface: `openai` (any OpenAI-compatible server), `anthropic`,
and `offline` (deterministic, no key). Provider modules are imported only when chosen."""

from __future__ import annotations

from ..settings import MissingSettingError, Settings
from .base import (
    Budget,
    BudgetExceededError,
    ChatMessage,
    LLMError,
    LLMProvider,
    LLMRequest,
    LLMResponse,
)
from .structured import StructuredOutputError, ask_structured

DEFAULT_MODELS = {"openai": "gpt-4o-mini", "anthropic": "claude-3-5-sonnet-latest", "offline": "offline"}

__all__ = [
    "DEFAULT_MODELS",
    "Budget",
    "BudgetExceededError",
    "ChatMessage",
    "LLMError",
    "LLMProvider",
    "LLMRequest",
    "LLMResponse",
    "StructuredOutputError",
    "ask_structured",
    "provider_from_settings",
]


def provider_from_settings(settings: Settings, configured: str | None = None) -> LLMProvider:
    """The provider named by LLM_PROVIDER, else by config/agents.toml (`configured`)."""
    if configured and not settings.get("LLM_PROVIDER"):
        settings = Settings({**settings.values, "LLM_PROVIDER": configured})
    provider = settings.llm_provider
    if provider == "offline":
        from .offline import OfflineProvider

        return OfflineProvider()
    if provider == "anthropic":
        from .anthropic import AnthropicProvider

        return AnthropicProvider(settings.require("ANTHROPIC_API_KEY"), settings.get("ANTHROPIC_BASE_URL"))
    from .openai_compat import OpenAICompatibleProvider

    base_url = settings.get("OPENAI_BASE_URL")
    api_key = settings.get("OPENAI_API_KEY")
    if api_key is None and base_url is None:
        raise MissingSettingError("OPENAI_API_KEY")
    return OpenAICompatibleProvider(api_key, base_url)
