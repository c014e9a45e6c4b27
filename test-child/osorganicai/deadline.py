"""One deadline for a piece of work, which every phase takes its timeout from.

The webhook must answer within GitHub's 10 s, whatever its phases cost together: reading the body,
the permission lookup, the database, the hand-off. It starts a `Deadline` when the request arrives
and runs its phases inside `deadline.active()`; while it is active, `budget(cap)` is the time left,
capped by the phase's own limit (`github.py` bounds each request by it, `db.py` each transaction's
pool wait, statement and lock timeouts). Outside an active deadline `budget(cap)` is `cap`, so jobs
and the CLI keep their usual limits.

The active deadline is a context variable: each request (each worker thread running it) has its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_active: ContextVar[Deadline | None] = ContextVar("osorganicai_deadline", default=None)


class Deadline:
    """A point in time (monotonic) by which the work must be done."""

    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.ends_at = clock() + seconds

    def remaining(self) -> float:
        return max(0.0, self.ends_at - self._clock())

    def budget(self, cap: float) -> float:
        return min(cap, self.remaining())

    def keeping(self, reserve: float) -> Deadline:
        """A deadline `reserve` seconds earlier: a phase that must leave that much for the next."""
        earlier = Deadline(0.0, clock=self._clock)
        earlier.ends_at = self.ends_at - reserve
        return earlier

    @contextmanager
    def active(self) -> Iterator[Deadline]:
        """Make this the deadline `budget` answers from, until the block ends."""
        token = _active.set(self)
        try:
            yield self
        finally:
            _active.reset(token)


def budget(cap: float) -> float:
    """The time a phase may take: `cap`, or less when an active deadline leaves less (0.0 when it has passed)."""
    deadline = _active.get()
    return cap if deadline is None else deadline.budget(cap)
