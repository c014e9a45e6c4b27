"""What each console page shows, built from the queries: plain values the templates lay out.

Pipeline: each issue's stage, its age and its links. Issue: the timeline, the Product Owner's
questions and answers, each job and each Developer run, with secrets redacted. Costs: the
summary and its charts. Health: the settings check, deliveries, jobs needing attention, sweeps.
Links point at the GitHub web address (`GITHUB_SERVER_URL`), so GitHub Enterprise Server works.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from ..db import FINAL_STATUSES, RETRYABLE_STATUSES, Store
from ..labels import RUNTIME_MARKER
from ..settings import Settings
from . import charts, costs, queries
from .stages import DEVELOPER_KINDS, FINISHED_STAGES, STAGES, Stage, format_age, stage_of

RECENTLY_FINISHED_DAYS = 7
FOLD_CHARS = 600  # longer texts are folded in <details>
WORKFLOW_FILES = {
    "product_owner": "product-owner-agent.yml",
    "developer": "developer-agent.yml",
    "fix": "developer-agent.yml",
    "revise": "developer-agent.yml",
    "lifecycle": "lifecycle-agent.yml",
}
SECRET_NAME_PARTS = ("SECRET", "TOKEN", "KEY", "PASSWORD", "DATABASE_URL")
UNFINISHED_JOB_STATUSES = ("pending", "dispatched", "running", "paused")
SHOWN_WITH_THE_RUN = frozenset({"transcript", "diff_stat", "summary"})  # a publication's payload parts shown with its run


@dataclass(frozen=True)
class Links:
    server_url: str
    repository: str

    def issue(self, number: int) -> str:
        return f"{self.server_url}/{self.repository}/issues/{number}"

    def pull(self, number: int) -> str:
        return f"{self.server_url}/{self.repository}/pull/{number}"

    def run(self, job: Mapping[str, Any]) -> str | None:
        if job.get("workflow_run_id"):
            return f"{self.server_url}/{self.repository}/actions/runs/{job['workflow_run_id']}"
        workflow = WORKFLOW_FILES.get(str(job.get("kind")))
        return f"{self.server_url}/{self.repository}/actions/workflows/{workflow}" if workflow else None


def links_for(settings: Settings) -> Links:
    return Links(settings.github_server_url, settings.require_repository())


# -- pipeline --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PipelineRow:
    number: int
    title: str | None
    stage: Stage
    age: str
    issue_url: str
    pull_url: str | None
    run_url: str | None
    run_is_exact: bool


def pipeline(store: Store, links: Links, now: datetime) -> dict[str, Any]:
    rows: list[PipelineRow] = []
    finished_since = now - timedelta(days=RECENTLY_FINISHED_DAYS)
    for records in queries.pipeline_records(store, links.repository):
        stage = stage_of(
            actions=records.actions, jobs=records.jobs, generations=records.generations, pull_state=records.pull_state
        )
        if stage is None or (stage.finished and stage.since < finished_since):
            continue
        latest_job = max(records.jobs, key=lambda job: job["created_at"], default=None)
        rows.append(
            PipelineRow(
                number=records.number,
                title=records.title,
                stage=stage,
                age=format_age(stage.age(now)),
                issue_url=links.issue(records.number),
                pull_url=_pull_url(links, records.generations, records.pull_state),
                run_url=links.run(latest_job) if latest_job else None,
                run_is_exact=bool(latest_job and latest_job.get("workflow_run_id")),
            )
        )
    in_flight = [row for row in rows if row.stage.name not in FINISHED_STAGES]
    finished = [row for row in rows if row.stage.name in FINISHED_STAGES]
    in_flight.sort(key=lambda row: row.stage.since)
    finished.sort(key=lambda row: row.stage.since, reverse=True)
    counts = {name: sum(1 for row in rows if row.stage.name == name) for name in STAGES}
    return {"in_flight": in_flight, "finished": finished, "counts": counts, "finished_days": RECENTLY_FINISHED_DAYS}


def _pull_url(links: Links, generations: Iterable[Mapping[str, Any]], pull_state: Mapping[str, Any] | None) -> str | None:
    if pull_state and pull_state.get("pull_number"):
        return links.pull(int(pull_state["pull_number"]))
    published = [g for g in generations if g.get("pull_request_url") or g.get("pull_request_number")]
    if not published:
        return None
    newest = max(published, key=lambda g: g["created_at"])
    return newest.get("pull_request_url") or links.pull(int(newest["pull_request_number"]))


# -- one issue -------------------------------------------------------------------------------------
class Redactor:
    """Replaces the deployment's secret values and anything shaped like a credential (the Developer
    transcript's own redaction, `developer.record.redact`)."""

    def __init__(self, settings: Settings) -> None:
        self._secrets = tuple(
            value
            for name, value in settings.values.items()
            if any(part in name for part in SECRET_NAME_PARTS) and len(value) >= 8
        )
        from ..developer.record import redact

        self._redact = redact

    def __call__(self, value: Any) -> str:
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str, indent=1)
        return self._redact(text, self._secrets)


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    who: str
    what: str
    decided: str
    details: list[tuple[str, str]]  # (name, redacted value); long values are folded by the template
    job_id: Any


def _decision(action_type: str, payload: Mapping[str, Any]) -> str:
    """A one-line reading of what an action decided."""
    if action_type == "asked_questions":
        return f"asked {len(payload.get('questions') or [])} question(s)"
    if action_type == "analysed_issue":
        return "needs clarification" if payload.get("needs_clarification") else "complete: ready for development"
    if action_type == "llm_call":
        tokens = f"{payload.get('input_tokens', 0)} in, {payload.get('output_tokens', 0)} out"
        return f"{payload.get('model')}: {tokens}, ${payload.get('cost_usd', 0)}"
    for key in ("detail", "reason", "error", "health", "state"):
        if payload.get(key):
            return str(payload[key])[:300]
    if payload.get("by"):
        return f"by {payload['by']}"
    return ""


def timeline(actions: Iterable[Mapping[str, Any]], redactor: Redactor) -> list[TimelineEntry]:
    entries = []
    for action in actions:
        payload = action.get("payload") if isinstance(action.get("payload"), dict) else {}
        who = action["agent"]
        if payload.get("actor_kind") == "person":
            who = f"{payload.get('actor') or who} (a person, from the console)"
        entries.append(
            TimelineEntry(
                at=action["created_at"],
                who=who,
                what=action["action_type"],
                decided=redactor(_decision(action["action_type"], payload)),
                details=[(key, redactor(value)) for key, value in payload.items() if key not in SHOWN_WITH_THE_RUN],
                job_id=action.get("job_id"),
            )
        )
    return entries


@dataclass(frozen=True)
class JobView:
    id: Any
    issue_number: int
    kind: str
    status: str
    created_at: datetime
    finished_at: datetime | None
    last_error: str | None
    attempts: int
    run_url: str | None
    budget_raised: bool
    may_cancel: bool
    may_retry: bool
    may_raise_budget: bool


def job_view(job: Mapping[str, Any], links: Links, redactor: Redactor) -> JobView:
    status = str(job["status"])
    raised = Decimal(job.get("budget_factor") or 1) > 1
    return JobView(
        id=job["id"],
        issue_number=int(job["issue_number"]),
        kind=job["kind"],
        status=status,
        created_at=job["created_at"],
        finished_at=job.get("finished_at"),
        last_error=redactor(job["last_error"]) if job.get("last_error") else None,
        attempts=int(job.get("attempts") or 0),
        run_url=links.run(job),
        budget_raised=raised,
        may_cancel=status in UNFINISHED_JOB_STATUSES,
        may_retry=status in RETRYABLE_STATUSES,
        may_raise_budget=not raised and job["kind"] in DEVELOPER_KINDS and status not in FINAL_STATUSES,
    )


@dataclass(frozen=True)
class RunView:
    """One Developer run as `code_generations` recorded it."""

    at: datetime
    job_id: Any
    status: str
    proposal_status: str | None
    model: str | None
    steps: int
    input_tokens: int
    output_tokens: int
    cost_usd: Decimal
    minutes: Decimal
    check_rounds: int
    checks: list[dict[str, Any]]
    budget_exhausted: str | None
    budget_remaining: str | None
    detail: str | None
    files: list[str]
    rejection_reasons: list[str]
    pull_url: str | None
    title: str | None = None  # from the publication's action: the proposal's title and summary,
    summary: str | None = None  # the patch's diff stat and the end of the run's transcript
    diff_stat: tuple[dict[str, Any], ...] = ()
    transcript: tuple[TranscriptEntry, ...] = ()


@dataclass(frozen=True)
class TranscriptEntry:
    at: datetime | None
    kind: str
    headline: str
    fields: list[tuple[str, str]]


def transcript_entries(entries: Any, redactor: Redactor) -> tuple[TranscriptEntry, ...]:
    shown = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        at = entry.get("at")
        when = datetime.fromtimestamp(at, tz=UTC) if isinstance(at, int | float) else None
        fields = {key: value for key, value in entry.items() if key not in ("at", "kind")}
        headline = fields.get("name") or fields.get("summary") or fields.get("text") or fields.get("error") or ""
        if fields.get("is_error"):
            headline = f"{headline} (error)"
        shown.append(
            TranscriptEntry(
                when, str(entry.get("kind")), redactor(str(headline))[:160], [(k, redactor(v)) for k, v in fields.items()]
            )
        )
    return tuple(shown)


def publication_of(row: Mapping[str, Any], actions: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The `publish_*` action written with a `code_generations` row: same job, the first at or after it."""
    candidates = [
        action
        for action in actions
        if action.get("agent") == "developer"
        and str(action.get("action_type", "")).startswith("publish_")
        and action.get("job_id") == row.get("job_id")
        and action["created_at"] >= row["created_at"]
    ]
    return min(candidates, key=lambda action: action["created_at"], default=None)


def run_view(row: Mapping[str, Any], links: Links, redactor: Redactor, publication: Mapping[str, Any] | None = None) -> RunView:
    checks = []
    for check in row.get("checks") or []:
        if isinstance(check, dict):
            checks.append(
                {
                    **check,
                    "output_tail": redactor(str(check.get("output_tail") or "")),
                    "command": redactor(str(check.get("command") or "")),
                }
            )
    pull_url = row.get("pull_request_url") or (
        links.pull(int(row["pull_request_number"])) if row.get("pull_request_number") else None
    )
    return RunView(
        at=row["created_at"],
        job_id=row.get("job_id"),
        status=row["status"],
        proposal_status=row.get("proposal_status"),
        model=row.get("model"),
        steps=int(row.get("steps") or 0),
        input_tokens=int(row.get("input_tokens") or 0),
        output_tokens=int(row.get("output_tokens") or 0),
        cost_usd=Decimal(row.get("cost_usd") or 0),
        minutes=Decimal(row.get("minutes") or 0),
        check_rounds=int(row.get("check_rounds") or 0),
        checks=checks,
        budget_exhausted=row.get("budget_exhausted"),
        budget_remaining=redactor(row["budget_remaining"]) if row.get("budget_remaining") else None,
        detail=redactor(row["detail"]) if row.get("detail") else None,
        files=[str(path) for path in row.get("files") or []],
        rejection_reasons=[redactor(str(reason)) for reason in row.get("rejection_reasons") or []],
        pull_url=pull_url,
        **_published(publication, redactor),
    )


def _published(publication: Mapping[str, Any] | None, redactor: Redactor) -> dict[str, Any]:
    payload = publication.get("payload") if publication else None
    if not isinstance(payload, dict):
        return {}
    stat = [entry for entry in payload.get("diff_stat") or [] if isinstance(entry, dict)]
    return {
        "title": redactor(payload["title"]) if payload.get("title") else None,
        "summary": redactor(payload["summary"]) if payload.get("summary") else None,
        "diff_stat": tuple({**entry, "path": str(entry.get("path"))} for entry in stat),
        "transcript": transcript_entries(payload.get("transcript"), redactor),
    }


def as_on_github(comment: str) -> str:
    """A comment as people read it on GitHub: without the runtime's marker, an HTML comment GitHub does not show."""
    return comment.replace(RUNTIME_MARKER, "").rstrip()


def issue_page(store: Store, links: Links, settings: Settings, number: int, now: datetime) -> dict[str, Any] | None:
    detail = queries.issue_detail(store, links.repository, number)
    if detail is None:
        return None
    redactor = Redactor(settings)
    stage = stage_of(actions=detail.actions, jobs=detail.jobs, generations=detail.generations, pull_state=detail.pull_state)
    return {
        "number": number,
        "title": detail.title,
        "stage": stage,
        "age": format_age(stage.age(now)) if stage else None,
        "issue_url": links.issue(number),
        "pull_url": _pull_url(links, detail.generations, detail.pull_state),
        "timeline": timeline(detail.actions, redactor),
        "timeline_total": detail.actions_total,
        "conversation": [{**message, "content": redactor(as_on_github(message["content"]))} for message in detail.conversation],
        "jobs": [job_view(job, links, redactor) for job in reversed(detail.jobs)],
        "runs": [run_view(row, links, redactor, publication_of(row, detail.actions)) for row in reversed(detail.generations)],
        "pull_state": detail.pull_state,
    }


# -- costs -----------------------------------------------------------------------------------------
def money(value: Decimal | float) -> str:
    return f"${Decimal(value):,.2f}" if abs(Decimal(value)) >= 1 else f"${Decimal(value):,.4f}"


def costs_page(store: Store, links: Links, today: date, monthly_budget_usd: float | None) -> dict[str, Any]:
    rows = queries.cost_rows(store, links.repository, costs.window_start(today))
    summary = costs.summarise(rows, today=today, monthly_budget_usd=monthly_budget_usd)
    day_points = [charts.Point(total.key[5:], float(total.cost_usd), money(total.cost_usd)) for total in summary.per_day]
    token_points = [charts.Point(total.key[5:], float(total.tokens), f"{total.tokens:,}") for total in summary.per_day]
    top_cost = max((total.cost_usd for total in summary.per_day), default=Decimal(0))
    top_tokens = max((total.tokens for total in summary.per_day), default=0)

    def bars(totals: list[costs.Total], title: str) -> str:
        return charts.horizontal_bars(
            [charts.Point(t.key, float(t.cost_usd), f"{money(t.cost_usd)} · {t.tokens:,} tokens") for t in totals], title
        )

    return {
        "summary": summary,
        "money": money,
        "cost_per_day": charts.bar_chart(
            day_points, f"Dollars per day, {summary.first_day} to {summary.last_day}", money(top_cost)
        ),
        "tokens_per_day": charts.line_chart(
            token_points, f"Tokens per day, {summary.first_day} to {summary.last_day}", f"{top_tokens:,}"
        ),
        "per_agent": bars(summary.per_agent, "Dollars per agent"),
        "per_model": bars(summary.per_model, "Dollars per model"),
        "per_issue": bars(summary.per_issue, "Dollars per issue (most expensive first)"),
    }


# -- health ----------------------------------------------------------------------------------------
def health_page(store: Store, settings: Settings, links: Links, now: datetime) -> dict[str, Any]:
    records = queries.health_records(store, now)
    redactor = Redactor(settings)
    accepted = sum(row["n"] for row in records.delivery_counts if row["outcome"] == "queued")
    refused = sum(row["n"] for row in records.delivery_counts if row["outcome"] != "queued")
    return {
        "missing": settings.missing(),
        "misconfigured": settings.misconfigured(),
        "console_missing": settings.console_missing(),
        "deliveries": records.deliveries,
        "delivery_counts": records.delivery_counts,
        "accepted": accepted,
        "refused": refused,
        "stuck_jobs": [job_view(job, links, redactor) for job in records.stuck_jobs],
        "failed_jobs": [job_view(job, links, redactor) for job in records.failed_jobs],
        "paused_jobs": [job_view(job, links, redactor) for job in records.paused_jobs],
        "sweeps": records.sweeps,
        "interventions": records.interventions,
        "final_statuses": FINAL_STATUSES,
    }


def utc_now() -> datetime:
    return datetime.now(UTC)
