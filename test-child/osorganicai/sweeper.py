"""One sweeper run, the same from the Vercel cron (`cron.py`, `GET /api/cron/sweep`) and from the
scheduled workflow (`python -m osorganicai sweep`, `cli.py`): dispatch the pending jobs and fail the
stuck ones (`jobs.sweep`, recorded as the sweeper's action), ask GitHub to redeliver the webhook's
failed deliveries that were never stored (`redelivery.py`), and say whether the agents are paused
(`interventions.pause_state`: while they are, nothing is dispatched, which is why a sweep may
dispatch nothing). A redelivery that cannot run is reported, not raised: the next run tries again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from .db import Store, StoreError, SweepReport
from .github import GitHubClient
from .interventions import PauseState, pause_state
from .jobs import sweep
from .redelivery import RedeliveryReport, redeliver_failed
from .settings import InvalidSettingError, Settings

DATABASE_UNAVAILABLE = "database unavailable: the next sweep retries"
log = logging.getLogger("osorganicai.sweeper")


@dataclass(frozen=True)
class SweeperRun:
    jobs: SweepReport
    redelivery: RedeliveryReport
    paused: PauseState | None  # None: the database could not say

    def as_json(self) -> dict[str, object]:
        """The cron's answer: the jobs by outcome, the deliveries asked for again, the pause switch."""
        return {
            "dispatched": [str(job) for job in self.jobs.dispatched],
            "failed_dispatch": [str(job) for job in self.jobs.failed_dispatch],
            "abandoned": [str(job) for job in self.jobs.abandoned],
            "timed_out": [str(job) for job in self.jobs.timed_out],
            "redelivered": self.redelivery.redelivered,
            "redelivery_problem": self.redelivery.problem,
            "paused": None if self.paused is None else self.paused.paused,
            "paused_by": self.paused.changed_by if self.paused and self.paused.paused else None,
            "paused_since": self._paused_since(),
        }

    def _paused_since(self) -> str | None:
        if self.paused is None or not self.paused.paused or self.paused.changed_at is None:
            return None
        return self.paused.changed_at.isoformat()

    def summary(self) -> list[str]:
        """The workflow's log: what was dispatched, what was redelivered, whether the agents are paused."""
        jobs = self.jobs
        lines = [
            f"sweep: {len(jobs.dispatched)} dispatched, {len(jobs.failed_dispatch)} failed to dispatch, "
            f"{len(jobs.abandoned)} given up, {len(jobs.timed_out)} timed out",
            f"redelivery: {len(self.redelivery.redelivered)} failed webhook deliveries asked for again"
            + (f"; {self.redelivery.problem}" if self.redelivery.problem else ""),
            f"agents: {describe_pause(self.paused)}",
        ]
        return lines


def describe_pause(state: PauseState | None) -> str:
    if state is None:
        return "pause switch not read (database unavailable)"
    if not state.paused:
        return "running"
    since = f" since {state.changed_at:%Y-%m-%d %H:%M} UTC" if state.changed_at else ""
    return f"paused by {state.changed_by or 'someone'}{since}: nothing is dispatched until they resume"


def run_sweeper(store: Store, github: GitHubClient, settings: Settings, *, limit: int, source: str) -> SweeperRun:
    """The jobs swept (a database that fails raises `StoreError`), then the redelivery and the pause switch."""
    jobs = sweep(store, github, limit=limit, source=source)
    return SweeperRun(jobs, redeliver(store, github, settings), read_pause(store))


def redeliver(store: Store, github: GitHubClient, settings: Settings) -> RedeliveryReport:
    """The failed webhook deliveries asked for again; a step that cannot run says why in `problem`."""
    try:
        repository = settings.repository
    except InvalidSettingError as error:
        return RedeliveryReport(problem=str(error))
    if repository is None:
        return RedeliveryReport(problem="GITHUB_REPOSITORY is not set")
    try:
        return redeliver_failed(store, github, repository, settings.get("GITHUB_WEBHOOK_ID"))
    except StoreError as error:
        log.error("redelivery: %s", error)
        return RedeliveryReport(problem=DATABASE_UNAVAILABLE)


def read_pause(store: Store) -> PauseState | None:
    try:
        return pause_state(store)
    except StoreError as error:
        log.error("pause switch: %s", error)
        return None
