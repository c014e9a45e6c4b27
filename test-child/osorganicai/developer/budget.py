"""What a Developer run has spent and may still spend: steps, tokens, dollars and minutes.

Each budget has a name (the key in `config/agents.toml` `[developer]`); running out raises
`BudgetExhausted` with that name, which the loop turns into a `budget_exhausted` proposal that
keeps the work done so far. Cost comes from the provider's usage fields and the price table
(`llm.pricing`; `cost_of` and `price_of` are re-exported here).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ..config import DeveloperBudgets, ModelPrice
from ..llm.base import ToolResponse
from ..llm.pricing import cost_of, price_of

__all__ = ["BudgetExhausted", "RunBudget", "cost_of", "price_of"]


class BudgetExhausted(Exception):
    """A budget ran out, or the run was asked to stop (`interrupted`)."""

    def __init__(self, name: str, detail: str) -> None:
        self.name = name
        self.detail = detail
        super().__init__(f"{name}: {detail}")


@dataclass
class RunBudget:
    """The running totals of one Developer run, checked before each model turn."""

    limits: DeveloperBudgets
    provider: str
    prices: Mapping[str, ModelPrice] = field(default_factory=dict)
    clock: Callable[[], float] = time.monotonic
    steps: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    started_at: float = -1.0

    def __post_init__(self) -> None:
        if self.started_at < 0:
            self.started_at = self.clock()

    @property
    def minutes(self) -> float:
        return (self.clock() - self.started_at) / 60.0

    def seconds_left(self) -> float:
        return max(0.0, self.limits.max_minutes * 60.0 - (self.clock() - self.started_at))

    def check(self) -> None:
        """Raise `BudgetExhausted` when another model turn would go over a budget."""
        limits = self.limits
        if self.steps >= limits.max_steps:
            raise BudgetExhausted("max_steps", f"{self.steps} model turns used (max_steps = {limits.max_steps})")
        tokens = self.input_tokens + self.output_tokens
        if tokens >= limits.max_tokens:
            raise BudgetExhausted("max_tokens", f"{tokens} tokens used (max_tokens = {limits.max_tokens})")
        if self.cost_usd >= limits.max_cost_usd:
            raise BudgetExhausted("max_cost_usd", f"${self.cost_usd:.4f} spent (max_cost_usd = {limits.max_cost_usd:g})")
        if self.seconds_left() <= 0:
            raise BudgetExhausted("max_minutes", f"{self.minutes:.1f} minutes used (max_minutes = {limits.max_minutes:g})")

    def charge(self, response: ToolResponse) -> None:
        self.steps += 1
        self.input_tokens += response.input_tokens
        self.output_tokens += response.output_tokens
        self.cost_usd += cost_of(self.provider, response, self.prices)

    def describe(self) -> str:
        limits = self.limits
        return (
            f"{self.steps}/{limits.max_steps} steps, {self.input_tokens + self.output_tokens}/{limits.max_tokens} tokens, "
            f"${self.cost_usd:.4f}/${limits.max_cost_usd:g}, {self.minutes:.1f}/{limits.max_minutes:g} minutes"
        )
