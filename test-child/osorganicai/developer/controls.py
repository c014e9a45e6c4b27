"""What a person changes while a Developer run works: the pause switch and the job's raised budget.

The loop asks `ControlPoll.poll()` before each step; it reads the controls (one small query, given as
`read`) at most every `interval_seconds`, so a run notices a pause or a raise within a few seconds of
its next step and costs the database nothing in between. A read that fails is skipped: the run goes
on under what it read last (its claim already checked the switch), and the next read waits twice as
long, up to MAX_POLL_SECONDS, so a database that is down does not slow the run. `raised_budgets` is
what a budget factor does to the `[developer]` budgets.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from ..config import DeveloperBudgets

CONTROL_POLL_SECONDS = 5.0
MAX_POLL_SECONDS = 60.0
# The develop job's `timeout-minutes` (30, in developer-agent.yml) less a margin: a raised
# `max_minutes` stays under it, so the loop still stops first and keeps its work.
MAX_RAISED_MINUTES = 28.0
PAUSED = "paused"  # the name the loop's stop carries, like a budget's

log = logging.getLogger("osorganicai.developer.controls")


@dataclass(frozen=True)
class ControlState:
    paused: bool
    paused_by: str | None = None
    budget_factor: float = 1.0


@dataclass
class ControlPoll:
    read: Callable[[], ControlState]
    interval_seconds: float = CONTROL_POLL_SECONDS
    clock: Callable[[], float] = time.monotonic
    reads: int = 0
    failures: int = 0
    _failures_in_a_row: int = field(default=0, repr=False)
    _last_read_at: float | None = field(default=None, repr=False)

    def poll(self) -> ControlState | None:
        """The controls when a read is due (the first call always is) and succeeds; None otherwise."""
        now = self.clock()
        if self._last_read_at is not None and now - self._last_read_at < self._interval():
            return None
        self._last_read_at = now
        try:
            state = self.read()
        except Exception as error:  # noqa: BLE001 - the database is down or slow: the run goes on
            self.failures += 1
            self._failures_in_a_row += 1
            log.warning("the pause switch could not be read (%s): going on", error.__class__.__name__)
            return None
        self.reads += 1
        self._failures_in_a_row = 0
        return state

    def _interval(self) -> float:
        return min(self.interval_seconds * 2**self._failures_in_a_row, max(self.interval_seconds, MAX_POLL_SECONDS))


def raised_budgets(limits: DeveloperBudgets, factor: float) -> DeveloperBudgets:
    """The spend budgets (steps, tokens, dollars, minutes) times `factor`; minutes stay under the job's timeout."""
    if factor <= 1:
        return limits
    return replace(
        limits,
        max_steps=int(limits.max_steps * factor),
        max_tokens=int(limits.max_tokens * factor),
        max_cost_usd=limits.max_cost_usd * factor,
        max_minutes=max(limits.max_minutes, min(limits.max_minutes * factor, MAX_RAISED_MINUTES)),
    )
