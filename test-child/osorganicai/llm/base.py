"""The provider-neutral LLM interface: requests, responses, errors and per-job budgets (priced by `pricing`)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..config import ModelPrice
from .pricing import cost_of


class LLMError(RuntimeError):
    """The provider failed to answer (after its retries)."""


class BudgetExceededError(LLMError):
    """A job hit its cap on LLM calls, estimated cost or time."""


@dataclass(frozen=True)
class ChatMessage:
    role: str  # "user" or "assistant"
    content: str


@dataclass(frozen=True)
class LLMRequest:
    system: str
    messages: list[ChatMessage]
    model: str
    max_tokens: int
    temperature: float
    schema_name: str
    json_schema: dict[str, Any]
    # Plain facts about the job for the deterministic offline provider; never sent to a model.
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ToolSpec:
    """A tool offered to the model: its name, what it does, and a JSON Schema for its arguments."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True)
class ToolCall:
    """One tool call the model asked for. `arguments` is the raw JSON text it sent: the caller parses it,
    so arguments that are not JSON become an error result for the model, not a crash."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class AssistantTurn:
    """What the model said in one turn: text and the tool calls it asked for, in order."""

    text: str
    tool_calls: tuple[ToolCall, ...] = ()


@dataclass(frozen=True)
class ToolResult:
    """The runtime's answer to one tool call."""

    call_id: str
    name: str
    content: str
    is_error: bool = False


@dataclass(frozen=True)
class ToolResultsTurn:
    """The results of every tool call of the previous assistant turn, then optional text from the runtime."""

    results: tuple[ToolResult, ...]
    text: str = ""


# A conversation with tools: it opens with a user ChatMessage, then alternates assistant and user sides.
Turn = ChatMessage | AssistantTurn | ToolResultsTurn


@dataclass(frozen=True)
class ToolRequest:
    system: str
    messages: list[Turn]
    tools: list[ToolSpec]
    model: str
    max_tokens: int
    temperature: float | None
    # Seconds the caller can still wait, retries included; None waits as long as the provider's own limits.
    deadline_seconds: float | None = None
    # Plain facts about the job for the deterministic offline provider; never sent to a model.
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ToolResponse:
    """One model turn with tools. `stop_reason` is provider-neutral: `tool_use` (it asked for tools),
    `end_turn` (it answered in text), `max_tokens` (cut at the length cap), `refusal`, or `content_filter`."""

    text: str
    tool_calls: tuple[ToolCall, ...]
    stop_reason: str
    input_tokens: int
    output_tokens: int
    model: str
    cached_input_tokens: int = 0

    def as_turn(self) -> AssistantTurn:
        return AssistantTurn(self.text, self.tool_calls)


@dataclass(frozen=True)
class LLMResponse:
    """One structured answer. `stop_reason` is provider-neutral, as in ToolResponse: `end_turn` (answered),
    `max_tokens` (cut at the length cap), `refusal` (`text` is the model's refusal) or `content_filter`."""

    text: str
    input_tokens: int
    output_tokens: int
    model: str
    stop_reason: str = "end_turn"
    cached_input_tokens: int = 0


def token_count(value: Any) -> int:
    """A token count from a provider's usage field: a non-negative whole number, else 0 (never a crash)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1e15:
        return 0
    return int(value)


class LLMProvider(Protocol):
    name: str

    def complete(self, request: LLMRequest) -> LLMResponse: ...

    def complete_with_tools(self, request: ToolRequest) -> ToolResponse: ...


# Model names that belong to one provider, so a name configured for the other is never sent.
_OPENAI_MODEL = re.compile(r"^(gpt-|chatgpt-|o[1-9]($|-)|text-|davinci)", re.IGNORECASE)
_ANTHROPIC_MODEL = re.compile(r"^claude-", re.IGNORECASE)


def model_fits(provider: str, model: str | None) -> bool:
    """Whether `model` can be a model of `provider`: no OpenAI name for Anthropic, no Claude name for OpenAI."""
    if not model:
        return False
    if provider == "anthropic":
        return not _OPENAI_MODEL.match(model)
    if provider == "openai":
        return not _ANTHROPIC_MODEL.match(model)
    return True


@dataclass
class Budget:
    """Caps one job's LLM use: number of calls, estimated cost, wall-clock time. Cost comes from `prices`
    (config/agents.toml `[prices]`), else the runtime's own table."""

    max_calls: int
    max_cost_usd: float
    timeout_seconds: float
    prices: Mapping[str, ModelPrice] = field(default_factory=dict)
    clock: Callable[[], float] = time.monotonic
    calls: int = 0
    cost_usd: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    started_at: float = field(default=-1.0)

    def __post_init__(self) -> None:
        if self.started_at < 0:
            self.started_at = self.clock()

    def remaining_seconds(self) -> float:
        return self.timeout_seconds - (self.clock() - self.started_at)

    def check(self) -> None:
        if self.calls >= self.max_calls:
            raise BudgetExceededError(f"job budget exhausted: {self.calls} LLM calls (max {self.max_calls})")
        if self.cost_usd >= self.max_cost_usd:
            raise BudgetExceededError(f"job budget exhausted: ${self.cost_usd:.4f} estimated (max ${self.max_cost_usd:.2f})")
        if self.remaining_seconds() <= 0:
            raise BudgetExceededError(f"job budget exhausted: {self.timeout_seconds:.0f}s elapsed")

    def charge(self, provider: str, response: LLMResponse) -> float:
        """Count one answered call and return its cost in USD."""
        cost = cost_of(provider, response, self.prices)
        self.calls += 1
        self.input_tokens += response.input_tokens
        self.output_tokens += response.output_tokens
        self.cost_usd += cost
        return cost
