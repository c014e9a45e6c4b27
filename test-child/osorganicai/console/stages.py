"""Where an issue stands, from what the runtime recorded about it (pure: no database, no clock).

Every record that moves an issue becomes an `Event` (when, which stage it leads to, why): the
Product Owner's and the lifecycle's `agent_actions`, the jobs created and failed, the Developer's
publications in `code_generations`, and the end of its pull request in `pull_request_states`.
Folded in time order, the last event that changes the stage decides it; the stage's age runs
from the event that entered it. The stages, in the order an issue usually meets them:

asking -> ready -> developing -> PR draft | CI -> in review -> merged -> deployed,
with `abandoned` (the pull request closed unmerged) and `needs a person` (a failure, a refusal,
fix rounds used up) possible at any point.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

ASKING = "asking"
READY = "ready"
DEVELOPING = "developing"
PR_DRAFT = "PR draft"
CI = "CI"
IN_REVIEW = "in review"
MERGED = "merged"
DEPLOYED = "deployed"
ABANDONED = "abandoned"
NEEDS_PERSON = "needs a person"
STAGES = (ASKING, READY, DEVELOPING, PR_DRAFT, CI, IN_REVIEW, MERGED, DEPLOYED, ABANDONED, NEEDS_PERSON)
FINISHED_STAGES = frozenset({MERGED, DEPLOYED, ABANDONED})

DEVELOPER_KINDS = frozenset({"developer", "fix", "revise"})
PUBLISHED_STATUSES = frozenset({"published", "opened"})
UNPUBLISHED_STATUSES = frozenset({"commented", "refused", "conflict", "failed", "rejected"})

# (agent, action_type) -> the stage the action leads to. Actions not listed do not move an issue.
ACTION_STAGES: dict[tuple[str, str], str] = {
    ("product_owner", "asked_questions"): ASKING,
    ("product_owner", "marked_ready"): READY,
    ("product_owner", "analysis_failed"): NEEDS_PERSON,
    ("lifecycle", "ready_for_review"): IN_REVIEW,
    ("lifecycle", "approved"): IN_REVIEW,
    ("lifecycle", "needs_human"): NEEDS_PERSON,
    ("lifecycle", "fix_started"): DEVELOPING,
    ("lifecycle", "revise_started"): DEVELOPING,
    ("lifecycle", "done"): MERGED,
    ("lifecycle", "deployed"): DEPLOYED,  # the merge commit deployed from the default branch
    ("lifecycle", "abandoned"): ABANDONED,
}
# A failed deployment needs a person only once the pull request is merged (a failing preview is the
# pull request's business); a checked preview (`deployment_checked`) moves nothing.
AFTER_MERGE_ACTIONS: dict[tuple[str, str], str] = {
    ("lifecycle", "deployment_failed"): NEEDS_PERSON,
}
# The action types the stage reads: what `queries` fetches for the pipeline.
STAGE_ACTION_TYPES = tuple(sorted({action for _agent, action in (*ACTION_STAGES, *AFTER_MERGE_ACTIONS)}))


@dataclass(frozen=True)
class Stage:
    name: str
    since: datetime
    reason: str

    @property
    def finished(self) -> bool:
        return self.name in FINISHED_STAGES

    def age(self, now: datetime) -> timedelta:
        return max(now - self.since, timedelta(0))


@dataclass(frozen=True)
class Event:
    """A record at `at` that leads to a stage; `order` breaks ties (a job is created before it acts)."""

    at: datetime
    order: int
    reason: str
    leads_to: Callable[[str | None], str | None]


def _always(stage: str) -> Callable[[str | None], str | None]:
    return lambda _current: stage


def _after_merge(stage: str) -> Callable[[str | None], str | None]:
    return lambda current: stage if current in (MERGED, DEPLOYED) else None


def _first(stage: str) -> Callable[[str | None], str | None]:
    return lambda current: stage if current is None else None


def _unless_finished(stage: str) -> Callable[[str | None], str | None]:
    return lambda current: stage if current not in FINISHED_STAGES else None


def action_events(actions: Iterable[Mapping[str, Any]]) -> list[Event]:
    events = []
    for action in actions:
        key = (str(action.get("agent")), str(action.get("action_type")))
        reason = f"{key[0]} {key[1]}"
        if key in ACTION_STAGES:
            events.append(Event(action["created_at"], 2, reason, _always(ACTION_STAGES[key])))
        elif key in AFTER_MERGE_ACTIONS:
            events.append(Event(action["created_at"], 2, reason, _after_merge(AFTER_MERGE_ACTIONS[key])))
    return events


def job_events(jobs: Iterable[Mapping[str, Any]]) -> list[Event]:
    """A Product Owner job opens `asking` on a new issue; a Developer job means `developing`; a failed job needs a person."""
    events = []
    for job in jobs:
        kind = str(job.get("kind"))
        if kind == "product_owner":
            events.append(Event(job["created_at"], 0, "Product Owner job queued", _first(ASKING)))
        elif kind in DEVELOPER_KINDS:
            events.append(Event(job["created_at"], 0, f"{kind} job queued", _unless_finished(DEVELOPING)))
        if job.get("status") == "failed":
            at = job.get("finished_at") or job.get("updated_at") or job["created_at"]
            why = str(job.get("last_error") or "no reason recorded")[:200]
            events.append(Event(at, 3, f"{kind} job failed: {why}", _unless_finished(NEEDS_PERSON)))
    return events


def generation_events(generations: Iterable[Mapping[str, Any]]) -> list[Event]:
    """A published proposal opens a pull request: `CI` when its checks passed, `PR draft` otherwise."""
    events = []
    for generation in generations:
        status = str(generation.get("status"))
        proposal_status = generation.get("proposal_status")
        if status in PUBLISHED_STATUSES:
            stage = CI if proposal_status in (None, "ready") else PR_DRAFT
            reason = f"pull request published ({proposal_status or 'opened'})"
            events.append(Event(generation["created_at"], 1, reason, _unless_finished(stage)))
        elif status in UNPUBLISHED_STATUSES:
            reason = f"Developer run {status} ({proposal_status or 'no proposal'})"
            events.append(Event(generation["created_at"], 1, reason, _unless_finished(NEEDS_PERSON)))
    return events


def pull_state_events(pull_state: Mapping[str, Any] | None) -> list[Event]:
    if not pull_state:
        return []
    state = pull_state.get("state")
    if state == "deployed":
        return [Event(pull_state["updated_at"], 4, "merge commit deployed", _always(DEPLOYED))]
    if state == "done":
        return [Event(pull_state["updated_at"], 4, "pull request merged", lambda c: MERGED if c != DEPLOYED else None)]
    if state == "abandoned":
        return [Event(pull_state["updated_at"], 4, "pull request closed unmerged", _always(ABANDONED))]
    return []


def stage_of(
    *,
    actions: Iterable[Mapping[str, Any]] = (),
    jobs: Iterable[Mapping[str, Any]] = (),
    generations: Iterable[Mapping[str, Any]] = (),
    pull_state: Mapping[str, Any] | None = None,
) -> Stage | None:
    """The issue's stage, or None when nothing recorded moves it."""
    events = [*action_events(actions), *job_events(jobs), *generation_events(generations), *pull_state_events(pull_state)]
    events.sort(key=lambda event: (event.at, event.order))
    stage: Stage | None = None
    for event in events:
        name = event.leads_to(stage.name if stage else None)
        if name is None:
            continue
        if stage is None or name != stage.name:
            stage = Stage(name, event.at, event.reason)
    return stage


def format_age(age: timedelta) -> str:
    """`45 s`, `12 min`, `5 h 3 min`, `3 d 4 h`."""
    seconds = int(age.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"
