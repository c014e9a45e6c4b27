"""One handler per pull-request event: the registry `HANDLERS` maps `event.action` to it.

Each handler first finds the runtime's own pull request (its `feature/issue-N-*` branch and the
hidden marker the publisher writes in its body, never its author), then acts and records the
transition in `agent_actions`:
- checks completed on the head: all green marks the pull request ready for review (GraphQL), asks
  the issue's author for a review and comments once; red starts a `fix` run, at most
  `max_fix_rounds` times, then asks a person and labels `needs-human`;
- a review, a review comment or a comment on the pull request by someone who may steer (write,
  maintain or admin, looked up once per job) starts a `revise` run;
- closed: merged makes the conversation done, keeps the merge commit, closes the issue and removes
  the runtime's labels; closed unmerged abandons it, and no further job runs for it;
- deployment_status of the pull request's branch (a preview) or of its merge commit (the default
  branch, found by `PullStates.merged_pull_of`): success checks the deployment's `/api/health` and
  comments the URL and the result, on the pull request for a preview and on the issue for the
  default branch, whose conversation becomes `deployed`; failure comments the state and the log
  link. Each deployment is commented once (`PullStates.claim_deployment`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from ..db import JobSpec, Store
from ..github import GitHubClient
from ..jobs import FIX, REVISE, dispatch
from ..labels import LABEL_NEEDS_HUMAN, RUNTIME_LABELS, is_runtime_text, same_login, with_marker
from ..publishing.messages import pull_marker
from ..routing import issue_of_branch
from ..steering import steers
from .state import ABANDONED, DONE, OPEN, PullStates

AGENT = "lifecycle"
GREEN = frozenset({"success", "neutral", "skipped"})
HEALTH_PATH = "/api/health"
HEALTH_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Outcome:
    action: str  # what was done, e.g. "ready_for_review", "fix_started", "ignored"
    detail: str
    job_id: uuid.UUID | None = None  # a fix or revise job started


@dataclass
class LifecycleContext:
    repository: str
    github: GitHubClient
    store: Store
    bot_login: str | None
    max_fix_rounds: int = 3
    job_id: uuid.UUID | None = None
    health_client: httpx.Client | None = None
    _permissions: dict[str, str | None] = field(default_factory=dict)

    @property
    def states(self) -> PullStates:
        return PullStates(self.store)

    def permission(self, login: str) -> str | None:
        """The login's permission on the repository, looked up once per job."""
        key = login.lower()
        if key not in self._permissions:
            self._permissions[key] = self.github.collaborator_permission(self.repository, login)
        return self._permissions[key]

    def may_steer(self, login: str | None) -> bool:
        return bool(login) and steers(self.permission(str(login)))

    def log(self, action: str, issue: int | None, payload: dict[str, Any]) -> None:
        self.store.log_action(
            agent=AGENT, action_type=action, payload=payload, repository=self.repository, issue_number=issue, job_id=self.job_id
        )

    def comment(self, number: int, body: str) -> dict[str, Any]:
        return self.github.create_comment(self.repository, number, with_marker(body))

    def start_job(self, kind: str, issue: int) -> uuid.UUID:
        """A fix or revise job row, dispatched now (or by the sweeper when dispatching fails)."""
        job_id = self.store.create_job(JobSpec(kind, self.repository, issue))
        try:
            dispatch(self.github, kind=kind, repository=self.repository, job_id=job_id, issue_number=issue)
        except Exception as error:  # noqa: BLE001 - the job stays pending for the sweeper
            self.store.mark_dispatch_failed(job_id, f"{error.__class__.__name__}: {error}")
        else:
            self.store.mark_dispatched(job_id)
        return job_id


@dataclass(frozen=True)
class RuntimePull:
    issue: int
    pull: dict[str, Any]

    @property
    def number(self) -> int:
        return int(self.pull["number"])

    @property
    def head_sha(self) -> str:
        return str(_dict(self.pull.get("head")).get("sha") or "")

    @property
    def branch(self) -> str:
        return str(_dict(self.pull.get("head")).get("ref") or "")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def runtime_pull(pull: dict[str, Any]) -> RuntimePull | None:
    """The pull request as the runtime's own: its branch names an issue and its body carries that issue's marker."""
    issue = issue_of_branch(_dict(pull.get("head")).get("ref"))
    if issue is None or pull_marker(issue) not in str(pull.get("body") or ""):
        return None
    return RuntimePull(issue, pull)


def find_pull(context: LifecycleContext, event: str, payload: dict[str, Any]) -> RuntimePull | None:
    """The runtime's pull request the event is about, read fresh from GitHub."""
    number: int | None = None
    if isinstance(payload.get("pull_request"), dict):
        number = payload["pull_request"].get("number")
    elif event == "issue_comment":
        number = _dict(payload.get("issue")).get("number")
    elif event in ("check_suite", "check_run", "workflow_run"):
        subject = _dict(payload.get(event))
        pulls = [_dict(pull) for pull in subject.get("pull_requests") or []]
        number = next((pull.get("number") for pull in pulls if issue_of_branch(_dict(pull.get("head")).get("ref"))), None)
        if number is None:
            branch = subject.get("head_branch") or _dict(subject.get("check_suite")).get("head_branch")
            found = context.github.find_open_pull(context.repository, str(branch)) if branch else None
            number = found.number if found else None
    elif event == "deployment_status":
        deployment = _dict(payload.get("deployment"))
        if issue_of_branch(deployment.get("ref")):
            found = context.github.find_open_pull(context.repository, str(deployment["ref"]))
            number = found.number if found else None
        elif isinstance(deployment.get("sha"), str):  # the default branch: the merge commit names the pull request
            merged = context.states.merged_pull_of(context.repository, deployment["sha"])
            number = merged[1] if merged else None
    if not isinstance(number, int):
        return None
    return runtime_pull(context.github.get_pull(context.repository, number))


# -- checks ------------------------------------------------------------------------------------
def on_checks_completed(context: LifecycleContext, event: str, payload: dict[str, Any], pull: RuntimePull) -> Outcome:
    reported_sha = _dict(payload.get(event)).get("head_sha")
    if reported_sha and reported_sha != pull.head_sha:
        return Outcome("ignored", f"{event} is for {str(reported_sha)[:12]}, not the pull request's head {pull.head_sha[:12]}")
    runs = context.github.check_runs(context.repository, pull.head_sha)
    if not runs:
        return Outcome("ignored", "no check runs on the head yet")
    waiting = [run.get("name") for run in runs if run.get("status") != "completed"]
    if waiting:
        return Outcome("waiting", f"waiting for {len(waiting)} check(s): {', '.join(map(str, waiting[:10]))}")
    failing = [run for run in runs if run.get("conclusion") not in GREEN]
    if not failing:
        return checks_green(context, pull, runs)
    return checks_red(context, pull, failing)


def checks_green(context: LifecycleContext, pull: RuntimePull, runs: list[dict[str, Any]]) -> Outcome:
    states = context.states
    if not states.claim_ready(context.repository, pull.issue, pull.head_sha):
        return Outcome("ignored", f"{pull.head_sha[:12]} was already marked ready")
    if pull.pull.get("draft"):
        context.github.mark_ready_for_review(str(pull.pull["node_id"]))
    reviewers = review_requests(context, pull)
    if reviewers:
        context.github.request_reviewers(context.repository, pull.number, reviewers)
    asked = f" Review requested from @{', @'.join(reviewers)}." if reviewers else ""
    context.comment(
        pull.number,
        f"**Developer agent**: all {len(runs)} checks passed on {pull.head_sha[:12]}; this pull request is ready "
        f"for review.{asked} Code owners, if the repository has a CODEOWNERS file, are asked by GitHub.",
    )
    context.log("ready_for_review", pull.issue, {"pull_request": pull.number, "head": pull.head_sha, "reviewers": reviewers})
    return Outcome("ready_for_review", f"pull request #{pull.number} is ready for review")


def review_requests(context: LifecycleContext, pull: RuntimePull) -> list[str]:
    """The issue's author, when they are not the pull request's author or the runtime's account."""
    issue = context.github.get_issue(context.repository, pull.issue)
    author = _dict(issue.get("user")).get("login")
    pull_author = _dict(pull.pull.get("user")).get("login")
    if not author or same_login(author, pull_author) or same_login(author, context.bot_login):
        return []
    return [str(author)]


def checks_red(context: LifecycleContext, pull: RuntimePull, failing: list[dict[str, Any]]) -> Outcome:
    names = [str(run.get("name")) for run in failing]
    verdict, rounds = context.states.claim_fix_round(context.repository, pull.issue, pull.head_sha, context.max_fix_rounds)
    if verdict == "already":
        return Outcome("ignored", f"a fix run was already started for {pull.head_sha[:12]}")
    if verdict == "closed":
        return Outcome("ignored", "the conversation has ended")
    if verdict == "exhausted":
        context.github.add_labels(context.repository, pull.number, [LABEL_NEEDS_HUMAN])
        context.github.add_labels(context.repository, pull.issue, [LABEL_NEEDS_HUMAN])
        context.comment(
            pull.number,
            f"**Developer agent**: the checks still fail ({', '.join(names)}) after {rounds} fix round(s), the most "
            f"this repository allows (`max_fix_rounds`). A person needs to look at this pull request.",
        )
        context.log("needs_human", pull.issue, {"pull_request": pull.number, "failing": names, "fix_rounds": rounds})
        return Outcome("needs_human", f"{rounds} fix rounds used; labelled {LABEL_NEEDS_HUMAN}")
    job_id = context.start_job(FIX, pull.issue)
    context.comment(
        pull.number,
        f"**Developer agent**: checks failed on {pull.head_sha[:12]} ({', '.join(names)}); "
        f"fix round {rounds} of {context.max_fix_rounds} started.",
    )
    details = {"pull_request": pull.number, "failing": names, "round": rounds, "fix_job": str(job_id)}
    context.log("fix_started", pull.issue, details)
    return Outcome("fix_started", f"fix round {rounds} for {', '.join(names)}", job_id)


# -- reviews -------------------------------------------------------------------------------------
def on_review(context: LifecycleContext, event: str, payload: dict[str, Any], pull: RuntimePull) -> Outcome:
    subject = _dict(payload.get("review")) or _dict(payload.get("comment"))
    login = _dict(subject.get("user")).get("login")
    if is_runtime_text(subject.get("body")):
        return Outcome("ignored", "the runtime's own text")
    if event == "pull_request_review":
        state = str(subject.get("state") or "").lower()
        if state == "approved":
            context.log("approved", pull.issue, {"pull_request": pull.number, "by": login})
            return Outcome("approved", f"approved by {login}")
        if state == "dismissed":
            return Outcome("ignored", "a dismissed review")
    if not context.may_steer(login):
        context.log("review_ignored", pull.issue, {"pull_request": pull.number, "by": login, "reason": "no write access"})
        return Outcome("ignored", f"{login} has no write, maintain or admin access: their review does not steer the agent")
    if context.states.unfinished_job(context.repository, pull.issue, REVISE):
        return Outcome("ignored", "a revise run is already waiting; it reads every comment when it starts")
    job_id = context.start_job(REVISE, pull.issue)
    details = {"pull_request": pull.number, "by": login, "event": event, "revise_job": str(job_id)}
    context.log("revise_started", pull.issue, details)
    return Outcome("revise_started", f"revise run for {event} by {login}", job_id)


# -- closed --------------------------------------------------------------------------------------
def on_closed(context: LifecycleContext, event: str, payload: dict[str, Any], pull: RuntimePull) -> Outcome:
    merged = bool(pull.pull.get("merged") or _dict(payload.get("pull_request")).get("merged"))
    states = context.states
    states.track(context.repository, pull.issue, pull.number, pull.branch)
    if not merged:
        states.finish(context.repository, pull.issue, ABANDONED)
        context.log("abandoned", pull.issue, {"pull_request": pull.number})
        return Outcome("abandoned", f"pull request #{pull.number} closed without merging: no further job runs")
    states.finish(context.repository, pull.issue, DONE)
    merge_commit = pull.pull.get("merge_commit_sha") or _dict(payload.get("pull_request")).get("merge_commit_sha")
    if isinstance(merge_commit, str) and merge_commit:
        states.record_merge(context.repository, pull.issue, merge_commit)
    issue = context.github.get_issue(context.repository, pull.issue)
    closed_now = issue.get("state") != "closed"
    if closed_now:  # `Fixes #N` closes it only when merging into the default branch
        context.github.close_issue(context.repository, pull.issue)
    removed = [
        label
        for number in (pull.issue, pull.number)
        for label in RUNTIME_LABELS
        if context.github.remove_label(context.repository, number, label)
    ]
    details = {"pull_request": pull.number, "closed_issue": closed_now, "labels_removed": removed, "merge_commit": merge_commit}
    context.log("done", pull.issue, details)
    return Outcome("done", f"pull request #{pull.number} merged; issue #{pull.issue} is done")


# -- deployments ---------------------------------------------------------------------------------
def is_merge_deployment(payload: dict[str, Any], pull: RuntimePull) -> bool:
    """A deployment of the merged pull request's merge commit (the default branch), not of its branch."""
    deployment = _dict(payload.get("deployment"))
    sha = deployment.get("sha")
    return (
        issue_of_branch(deployment.get("ref")) is None
        and bool(pull.pull.get("merged"))
        and isinstance(sha, str)
        and sha == pull.pull.get("merge_commit_sha")
    )


def on_deployment_status(context: LifecycleContext, event: str, payload: dict[str, Any], pull: RuntimePull) -> Outcome:
    deployment = _dict(payload.get("deployment"))
    status = _dict(payload.get("deployment_status"))
    state = str(status.get("state") or "")
    environment = str(status.get("environment") or deployment.get("environment") or "")
    deployment_id, sha = deployment.get("id"), str(deployment.get("sha") or "")
    if not isinstance(deployment_id, int):
        return Outcome("ignored", "the deployment has no id")
    of_main = is_merge_deployment(payload, pull)
    target = pull.issue if of_main else pull.number  # the default branch's deployment closes the issue's story
    url = str(status.get("environment_url") or status.get("target_url") or "").rstrip("/")
    if state == "success" and not url.startswith(("https://", "http://")):
        return Outcome("ignored", "the deployment gives no URL")
    link = str(status.get("log_url") or status.get("target_url") or "no log link given")
    claim = {"pull_request": pull.number, "state": state, "sha": sha, "environment": environment}
    if not context.states.claim_deployment(context.repository, pull.issue, deployment_id, claim):
        return Outcome("ignored", f"deployment {deployment_id} was already commented")
    health = ""
    try:
        if state != "success":
            context.comment(target, f"**Deployment** `{environment}` of {sha[:12]}: {state}. Log: {link}")
        else:
            health = check_health(context, url + HEALTH_PATH)
            context.comment(target, f"**Deployment** `{environment}` of {sha[:12]}: {url}\n\n`GET {HEALTH_PATH}`: {health}")
    except Exception:
        context.states.release_deployment(context.repository, pull.issue, deployment_id)
        raise
    details = {**claim, "deployment": deployment_id, "commented_on": target}
    if state != "success":
        context.log("deployment_failed", pull.issue, {**details, "log": link})
        return Outcome("deployment_failed", f"deployment {state}")
    details.update(url=url, health=health)
    if of_main and context.states.mark_deployed(context.repository, pull.issue, sha):
        context.log("deployed", pull.issue, details)
        return Outcome("deployed", f"issue #{pull.issue} deployed from {sha[:12]}: {url}: {health}")
    context.log("deployment_checked", pull.issue, details)
    return Outcome("deployment_checked", f"{url}: {health}")


def check_health(context: LifecycleContext, url: str) -> str:
    client = context.health_client or httpx.Client(timeout=HEALTH_TIMEOUT_SECONDS, follow_redirects=True)
    try:
        response = client.get(url)
    except httpx.HTTPError as error:
        return f"unreachable ({error.__class__.__name__})"
    finally:
        if context.health_client is None:
            client.close()
    text = " ".join(response.text.split())[:300].replace("`", "'")
    return f"{response.status_code} `{text}`"


Handler = Callable[[LifecycleContext, str, dict[str, Any], RuntimePull], Outcome]
HANDLERS: dict[str, Handler] = {
    "check_suite.completed": on_checks_completed,
    "check_run.completed": on_checks_completed,
    "workflow_run.completed": on_checks_completed,
    "pull_request_review.submitted": on_review,
    "pull_request_review_comment.created": on_review,
    "issue_comment.created": on_review,
    "pull_request.closed": on_closed,
    "deployment_status.created": on_deployment_status,
}


def acts_after_the_end(handler: Handler, payload: dict[str, Any], pull: RuntimePull) -> bool:
    """The handlers that still act once the conversation ended: closed, and a deployment of the merge commit."""
    return handler is on_closed or (handler is on_deployment_status and is_merge_deployment(payload, pull))


def handle_event(context: LifecycleContext, event: str, payload: dict[str, Any]) -> Outcome:
    """Run the handler for one stored delivery on the runtime's pull request."""
    action = payload.get("action")
    key = f"{event}.{action}"
    handler = HANDLERS.get(key)
    if handler is None:
        return Outcome("ignored", f"{key} has no lifecycle handler")
    pull = find_pull(context, event, payload)
    if pull is None:
        return Outcome("ignored", "not the runtime's pull request (no marker in its body, or not its branch)")
    state = context.states.get(context.repository, pull.issue)
    if state is not None and state.state != OPEN and not acts_after_the_end(handler, payload, pull):
        return Outcome("ignored", f"the conversation on issue #{pull.issue} is {state.state}")
    if state is None:
        context.states.track(context.repository, pull.issue, pull.number, pull.branch)
    return handler(context, event, payload, pull)


def run_lifecycle_job(context: LifecycleContext, job_id: uuid.UUID) -> Outcome:
    """The job the webhook queued: read its delivery, handle it, record the outcome."""
    delivery = context.states.delivery_of(job_id)
    if delivery is None:
        return Outcome("ignored", f"job {job_id} has no stored delivery")
    event, payload = delivery
    outcome = handle_event(context, event, payload if isinstance(payload, dict) else {})
    if outcome.action in ("ignored", "waiting"):
        context.log(f"event_{outcome.action}", None, {"event": event, "detail": outcome.detail[:1000]})
    return outcome
