"""What a model call costs: the configured price table (`config/agents.toml` `[prices]`) first, then the
runtime's own table of published list prices, matched by the longest model-name prefix.

Prices are USD per million tokens. Cached input tokens are part of `input_tokens` and billed at the
price's `cached_input` (a tenth of the input price in the runtime's own table, as both hosted providers
bill cache reads). A model no table knows is charged at a deliberately high rate, so a cap errs on the safe side.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from ..config import ModelPrice

CACHED_INPUT_SHARE = 0.1


def _listed(input_price: float, output_price: float) -> ModelPrice:
    return ModelPrice(input=input_price, output=output_price, cached_input=input_price * CACHED_INPUT_SHARE)


BUILTIN_PRICES: dict[str, ModelPrice] = {
    "gpt-6-luna": _listed(0.10, 0.50),
    "claude-sonnet-5": _listed(2.00, 10.00),
    "claude-opus-5": _listed(4.00, 20.00),
    "gpt-4o-mini": _listed(0.15, 0.60),
    "gpt-4.1-nano": _listed(0.10, 0.40),
    "gpt-4.1-mini": _listed(0.40, 1.60),
    "gpt-4.1": _listed(2.00, 8.00),
    "gpt-4o": _listed(2.50, 10.00),
    "claude-3-5-haiku": _listed(0.80, 4.00),
    "claude-haiku": _listed(1.00, 5.00),
    "claude-3-5-sonnet": _listed(3.00, 15.00),
    "claude-sonnet": _listed(3.00, 15.00),
    "claude-opus": _listed(15.00, 75.00),
}
UNKNOWN_MODEL_PRICE = _listed(5.00, 15.00)


class Usage(Protocol):
    """What a provider reports about one call (LLMResponse and ToolResponse both fit)."""

    @property
    def model(self) -> str: ...

    @property
    def input_tokens(self) -> int: ...

    @property
    def output_tokens(self) -> int: ...

    @property
    def cached_input_tokens(self) -> int: ...


def price_of(model: str, prices: Mapping[str, ModelPrice]) -> ModelPrice | None:
    """The price of `model` in `prices`: the longest prefix of its name in the table, if any."""
    matches = [prefix for prefix in prices if model.startswith(prefix)]
    return prices[max(matches, key=len)] if matches else None


def price_for(model: str, prices: Mapping[str, ModelPrice] | None = None) -> ModelPrice:
    """The configured price of `model`, else the runtime's listed price, else the high unknown-model rate."""
    return price_of(model, prices or {}) or price_of(model, BUILTIN_PRICES) or UNKNOWN_MODEL_PRICE


def cost_of(provider: str, usage: Usage, prices: Mapping[str, ModelPrice] | None = None) -> float:
    """USD for one call; the offline provider costs nothing."""
    if provider == "offline":
        return 0.0
    price = price_for(usage.model, prices)
    cached = max(0, min(usage.cached_input_tokens, usage.input_tokens))
    cached_price = price.input if price.cached_input is None else price.cached_input
    uncached = usage.input_tokens - cached
    return (uncached * price.input + cached * cached_price + usage.output_tokens * price.output) / 1_000_000


def estimate_cost(provider: str, model: str, input_tokens: int, output_tokens: int) -> float:
    """USD for uncached tokens of `model` at the runtime's own prices."""
    if provider == "offline":
        return 0.0
    price = price_for(model)
    return (input_tokens * price.input + output_tokens * price.output) / 1_000_000


def estimate_tool_cost(provider: str, response: Usage) -> float:
    """USD for one tool-calling turn at the runtime's own prices, cached input at its cached price."""
    return cost_of(provider, response, None)
