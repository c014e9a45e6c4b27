"""Failed webhook deliveries, asked for again: a step of the sweeper (`cron.py`).

GitHub does not redeliver a failed delivery by itself, and the webhook answers 503 without storing
anything when the database is busy or the request's deadline ran out (`webhook.py`). This step lists
the webhook's recent deliveries and asks GitHub to redeliver each one that failed, so such an event
is not lost:

- which webhook: with GitHub App credentials, the App's own webhook (`GET /app/hook/deliveries`,
  authenticated as the App with its JWT), of whose deliveries only this repository's count (an App
  may be installed on others); with a token, the repository webhook whose id is the
  `GITHUB_WEBHOOK_ID` setting, or, when that is unset, the one repository webhook whose URL ends in
  `/api/webhooks` (`GET /repos/{owner}/{repo}/hooks`; with none or several, the report asks for the
  setting). An explicit id is the choice that never guesses; the lookup keeps a setup without it
  working in the common case of one webhook;
- which deliveries: those of the last REDELIVERY_WINDOW_DAYS (GitHub keeps them 3 days for
  redelivery) whose every attempt failed (status code 500 or above, or 0 when GitHub could not
  connect or timed out), whose GUID (the `X-GitHub-Delivery` header, `webhook_events.delivery_id`)
  is not stored, and for which no redelivery was asked before (`agent_actions`, type
  `webhook_redelivery_requested`): each failed delivery is asked for once;
- at most MAX_REDELIVERIES_PER_RUN per run, each recorded in `agent_actions` (agent `sweeper`).

The token needs the repository permission "Webhooks: read and write" (a fine-grained token) or the
App's own credentials; without it GitHub answers 403 or 404, which the report names instead of
failing the sweep.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from .db import Store
from .github import GitHubClient, GitHubError, GitHubUnavailableError

REDELIVERY_WINDOW_DAYS = 3
MAX_REDELIVERIES_PER_RUN = 10
MAX_PAGES = 5
PAGE_SIZE = 100
WEBHOOK_PATH_SUFFIX = "/api/webhooks"
ACTION_TYPE = "webhook_redelivery_requested"


@dataclass
class RedeliveryReport:
    redelivered: list[str] = field(default_factory=list)  # GUIDs asked for again
    problem: str | None = None  # why the step could not run or stopped, in words


@dataclass(frozen=True)
class Hook:
    """Where the deliveries are: the path of their list, and the authorization to use (None: the client's own)."""

    deliveries_path: str
    authorization: str | None
    repository_id: int | None = None  # only this repository's deliveries (the App's webhook serves all its installations)


def redeliver_failed(
    store: Store, github: GitHubClient, repository: str, webhook_id: str | None, *, now: datetime | None = None
) -> RedeliveryReport:
    """Ask GitHub to redeliver the failed deliveries it keeps and the store does not hold."""
    report = RedeliveryReport()
    try:
        hook = find_hook(github, repository, webhook_id)
        if isinstance(hook, str):
            report.problem = hook
            return report
        since = (now or datetime.now(UTC)) - timedelta(days=REDELIVERY_WINDOW_DAYS)
        deliveries = [item for item in recent_deliveries(github, hook, since) if of_repository(item, hook)]
        candidates = failed_deliveries(deliveries)
        for delivery in unhandled(store, candidates)[:MAX_REDELIVERIES_PER_RUN]:
            github.raw_request("POST", f"{hook.deliveries_path}/{delivery['id']}/attempts", authorization=hook.authorization)
            store.log_action(agent="sweeper", action_type=ACTION_TYPE, payload=describe(delivery), repository=repository)
            report.redelivered.append(str(delivery["guid"]))
    except (GitHubError, GitHubUnavailableError) as error:
        report.problem = f"webhook deliveries not read or redelivered: {error}"
    return report


def find_hook(github: GitHubClient, repository: str, webhook_id: str | None) -> Hook | str:
    """The webhook whose deliveries to read, or why there is none to read."""
    app_jwt = github.app_jwt()
    if app_jwt is not None:
        repository_id = github.get_repository(repository).get("id")
        return Hook("/app/hook/deliveries", f"Bearer {app_jwt}", repository_id if isinstance(repository_id, int) else None)
    if webhook_id:
        if not webhook_id.isdigit():
            return f"GITHUB_WEBHOOK_ID must be the webhook's numeric id, got {webhook_id[:40]!r}"
        return Hook(f"/repos/{repository}/hooks/{webhook_id}/deliveries", None)
    hooks = github.raw_request("GET", f"/repos/{repository}/hooks", params={"per_page": 100}).json()
    ours = [hook for hook in hooks if str((hook.get("config") or {}).get("url") or "").rstrip("/").endswith(WEBHOOK_PATH_SUFFIX)]
    if len(ours) != 1:
        found = f"{len(ours)} webhooks of {repository} end in {WEBHOOK_PATH_SUFFIX}"
        return f"{found}: set GITHUB_WEBHOOK_ID to the id of the runtime's webhook to have failed deliveries redelivered"
    return Hook(f"/repos/{repository}/hooks/{ours[0]['id']}/deliveries", None)


def recent_deliveries(github: GitHubClient, hook: Hook, since: datetime) -> list[dict[str, Any]]:
    """The hook's deliveries delivered after `since`, newest first, following the `Link` header's cursor."""
    deliveries: list[dict[str, Any]] = []
    params: dict[str, Any] = {"per_page": PAGE_SIZE}
    for _ in range(MAX_PAGES):
        response = github.raw_request("GET", hook.deliveries_path, params=params, authorization=hook.authorization)
        page = [item for item in response.json() if isinstance(item, dict)]
        recent = [item for item in page if delivered_at(item) >= since]
        deliveries.extend(recent)
        next_url = response.links.get("next", {}).get("url")
        cursor = httpx.URL(next_url).params.get("cursor") if next_url else None
        if not cursor or len(recent) < len(page):
            break
        params = {"per_page": PAGE_SIZE, "cursor": cursor}
    return deliveries


def of_repository(delivery: dict[str, Any], hook: Hook) -> bool:
    return hook.repository_id is None or delivery.get("repository_id") in (hook.repository_id, None)


def delivered_at(delivery: dict[str, Any]) -> datetime:
    try:
        return datetime.fromisoformat(str(delivery.get("delivered_at")).replace("Z", "+00:00"))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)


def failed(delivery: dict[str, Any]) -> bool:
    code = delivery.get("status_code")
    return isinstance(code, int) and (code == 0 or code >= 500)


def failed_deliveries(deliveries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The newest delivery of each GUID whose every attempt failed, oldest GUID first."""
    by_guid: dict[str, list[dict[str, Any]]] = {}
    for delivery in deliveries:
        if isinstance(delivery.get("guid"), str) and isinstance(delivery.get("id"), int):
            by_guid.setdefault(delivery["guid"], []).append(delivery)
    newest = [max(attempts, key=delivered_at) for attempts in by_guid.values() if all(map(failed, attempts))]
    return sorted(newest, key=delivered_at)


def unhandled(store: Store, deliveries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Those whose GUID is neither stored nor already asked for again."""
    guids = [str(delivery["guid"]) for delivery in deliveries]
    if not guids:
        return []
    with store.transaction() as cursor:
        cursor.execute(
            """
            select delivery_id as guid from public.webhook_events where delivery_id = any(%s)
            union
            select payload ->> 'guid' from public.agent_actions
            where created_at > pg_catalog.now() - pg_catalog.make_interval(days => %s)
              and action_type = %s and payload ->> 'guid' = any(%s)
            """,
            (guids, REDELIVERY_WINDOW_DAYS + 1, ACTION_TYPE, guids),
        )
        handled = {row["guid"] for row in cursor.fetchall()}
    return [delivery for delivery in deliveries if delivery["guid"] not in handled]


def describe(delivery: dict[str, Any]) -> dict[str, Any]:
    keys = ("guid", "id", "event", "action", "status_code", "status", "delivered_at")
    return {("delivery_id" if key == "id" else key): delivery.get(key) for key in keys}
