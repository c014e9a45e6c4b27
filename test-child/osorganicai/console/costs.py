"""What the agents cost: tokens and dollars per day, per agent, per model and per issue, and the
month's budget left (pure: the rows come from `queries.cost_rows`, today's date from the caller).

Two records carry costs and neither double counts the other: each Product Owner model call is an
`llm_call` action (its payload holds the tokens and the dollars), and each Developer run is a
`code_generations` row with the run's totals. The monthly cap is `[console] monthly_budget_usd` in
`config/agents.toml`; without it no budget is shown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

DEFAULT_DAYS = 30
TOP_ISSUES = 20


@dataclass(frozen=True)
class CostRow:
    """Spending of one agent with one model on one issue on one day (already summed by the database)."""

    day: date
    agent: str
    model: str
    issue_number: int | None
    input_tokens: int
    output_tokens: int
    cost_usd: Decimal


@dataclass(frozen=True)
class Total:
    key: str
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: Decimal = Decimal(0)

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def plus(self, row: CostRow) -> Total:
        return Total(
            self.key, self.input_tokens + row.input_tokens, self.output_tokens + row.output_tokens, self.cost_usd + row.cost_usd
        )


@dataclass(frozen=True)
class Budget:
    monthly_usd: Decimal
    spent_usd: Decimal

    @property
    def left_usd(self) -> Decimal:
        return self.monthly_usd - self.spent_usd

    @property
    def used_share(self) -> float:
        return float(self.spent_usd / self.monthly_usd) if self.monthly_usd > 0 else 1.0


@dataclass(frozen=True)
class CostSummary:
    first_day: date
    last_day: date
    per_day: list[Total]  # every day of the window, oldest first, zero when nothing was spent
    per_agent: list[Total]  # most expensive first
    per_model: list[Total]
    per_issue: list[Total]  # the TOP_ISSUES most expensive issues
    total: Total
    month_spent_usd: Decimal
    budget: Budget | None


def window_start(today: date, days: int = DEFAULT_DAYS) -> date:
    """The first day the summary needs: the window's, or the month's first when earlier."""
    return min(today - timedelta(days=days - 1), today.replace(day=1))


def summarise(
    rows: Iterable[CostRow], *, today: date, monthly_budget_usd: float | Decimal | None = None, days: int = DEFAULT_DAYS
) -> CostSummary:
    rows = list(rows)
    first_day = today - timedelta(days=days - 1)
    in_window = [row for row in rows if first_day <= row.day <= today]
    month_start = today.replace(day=1)
    month_spent = sum((row.cost_usd for row in rows if month_start <= row.day <= today), Decimal(0))
    per_day = {
        first_day + timedelta(days=offset): Total((first_day + timedelta(days=offset)).isoformat()) for offset in range(days)
    }
    for row in in_window:
        per_day[row.day] = per_day[row.day].plus(row)
    budget = None
    if monthly_budget_usd is not None:
        budget = Budget(Decimal(str(monthly_budget_usd)), month_spent)
    return CostSummary(
        first_day=first_day,
        last_day=today,
        per_day=[per_day[day] for day in sorted(per_day)],
        per_agent=_grouped(in_window, lambda row: row.agent),
        per_model=_grouped(in_window, lambda row: row.model or "unknown"),
        per_issue=_grouped(in_window, lambda row: f"#{row.issue_number}" if row.issue_number else "no issue")[:TOP_ISSUES],
        total=_sum("all", in_window),
        month_spent_usd=month_spent,
        budget=budget,
    )


def _grouped(rows: list[CostRow], key: Callable[[CostRow], str]) -> list[Total]:
    groups: dict[str, Total] = {}
    for row in rows:
        name = key(row)
        groups[name] = groups.get(name, Total(name)).plus(row)
    return sorted(groups.values(), key=lambda total: (-total.cost_usd, -total.tokens, total.key))


def _sum(key: str, rows: list[CostRow]) -> Total:
    total = Total(key)
    for row in rows:
        total = total.plus(row)
    return total
