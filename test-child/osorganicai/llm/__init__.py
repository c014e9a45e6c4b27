"""LLM providers behind one interface: `openai` (any OpenAI-compatible server), `anthropic`,
and `offline` (deterministic, no key). Provider modules are imported only when chosen."""

from __future__ import annotations

from ..settings import MissingSettingError, Settings
from .base import (
    AssistantTurn,
    Budget,
    BudgetExceededError,
    ChatMessage,
    LLMError,
    LLMProvider,
    LLMRequest,
    LLMResponse,
    ToolCall,
    ToolRequest,
    ToolResponse,
    ToolResult,
    ToolResultsTurn,
    ToolSpec,
    Turn,
    model_fits,
)
from .pricing import cost_of, estimate_tool_cost, price_of
from .structured import (
    CallRecord,
    ContentFilteredError,
    ModelRefusedError,
    OutputTruncatedError,
    StructuredOutputError,
    UnusableAnswerError,
    ask_structured,
)

# Current models (Anthropic's models overview; OpenAI's deprecations page names gpt-6-luna as
# the replacement of gpt-4o-mini and gpt-4.1-mini).
DEFAULT_MODELS = {"openai": "gpt-6-luna", "anthropic": "claude-sonnet-5-5", "offline": "offline"}

__all__ = [
    "DEFAULT_MODELS",
    "AssistantTurn",
    "Budget",
    "BudgetExceededError",
    "CallRecord",
    "ChatMessage",
    "ContentFilteredError",
    "LLMError",
    "LLMProvider",
    "LLMRequest",
    "LLMResponse",
    "ModelRefusedError",
    "OutputTruncatedError",
    "StructuredOutputError",
    "ToolCall",
    "ToolRequest",
    "ToolResponse",
    "ToolResult",
    "ToolResultsTurn",
    "ToolSpec",
    "Turn",
    "UnusableAnswerError",
    "ask_structured",
    "cost_of",
    "estimate_tool_cost",
    "model_for",
    "price_of",
    "provider_from_settings",
]


def model_for(provider: str, *candidates: str | None) -> str:
    """The first candidate (e.g. LLM_MODEL, then the agent's configured model) that is a model of
    `provider`, else the provider's default: a config written for OpenAI never sends a GPT name to Anthropic."""
    if provider == "offline":
        return "offline"
    for candidate in candidates:
        if candidate and model_fits(provider, candidate):
            return candidate
    return DEFAULT_MODELS[provider]


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
