"""The provider-neutral LLM interface: requests, responses, errors and per-job budgets."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol


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
    text: str
    input_tokens: int
    output_tokens: int
    model: str


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


# Estimated USD per million tokens (input, output), matched by model-name prefix.
# Unknown models are charged at a deliberately high rate so the cap errs on the safe side.
_PRICES: tuple[tuple[str, float, float], ...] = (
    ("gpt-6-luna", 0.10, 0.50),
    ("claude-sonnet-5", 2.00, 10.00),
    ("claude-opus-5", 4.00, 20.00),
    ("gpt-4o-mini", 0.15, 0.60),
    ("gpt-4.1-nano", 0.10, 0.40),
    ("gpt-4.1-mini", 0.40, 1.60),
    ("gpt-4.1", 2.00, 8.00),
    ("gpt-4o", 2.50, 10.00),
    ("claude-3-5-haiku", 0.80, 4.00),
    ("claude-haiku", 1.00, 5.00),
    ("claude-3-5-sonnet", 3.00, 15.00),
    ("claude-sonnet", 3.00, 15.00),
    ("claude-opus", 15.00, 75.00),
)
_UNKNOWN_PRICE = (5.00, 15.00)


def estimate_cost(provider: str, model: str, input_tokens: int, output_tokens: int) -> float:
    if provider == "offline":
        return 0.0
    input_price, output_price = _UNKNOWN_PRICE
    for prefix, inp, out in _PRICES:
        if model.startswith(prefix):
            input_price, output_price = inp, out
            break
    return (input_tokens * input_price + output_tokens * output_price) / 1_000_000


# Cached input is billed at about a tenth of the input price by both hosted providers.
_CACHED_INPUT_SHARE = 0.1


def estimate_tool_cost(provider: str, response: ToolResponse) -> float:
    """Estimated USD for one tool-calling turn; cached input tokens (part of `input_tokens`) cost a tenth."""
    cached = min(response.cached_input_tokens, response.input_tokens)
    full = estimate_cost(provider, response.model, response.input_tokens - cached, response.output_tokens)
    return full + estimate_cost(provider, response.model, cached, 0) * _CACHED_INPUT_SHARE


@dataclass
class Budget:
    """Caps one job's LLM use: number of calls, estimated cost, wall-clock time."""

    max_calls: int
    max_cost_usd: float
    timeout_seconds: float
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

    def charge(self, provider: str, response: LLMResponse) -> None:
        self.calls += 1
        self.input_tokens += response.input_tokens
        self.output_tokens += response.output_tokens
        self.cost_usd += estimate_cost(provider, response.model, response.input_tokens, response.output_tokens)
