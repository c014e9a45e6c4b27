"""What a person does from the console (`osorganicai.interventions`), against a real database, the
webhook app, the agent commands the workflows run, a fake GitHub and a scripted model: pause and
resume every agent, cancel a job and its workflow run, retry a job, raise a Developer job's budget."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from osorganicai.agents import ProductOwnerAgent
from osorganicai.cli import claim_job, job_controls, record_product_owner_outcome
from osorganicai.db import JobSpec, Store
from osorganicai.developer.controls import ControlPoll, ControlState, raised_budgets
from osorganicai.interventions import (
    InterventionRefused,
    cancel_job,
    pause_agents,
    pause_state,
    raise_job_budget,
    resume_agents,
    retry_job,
)
from osorganicai.jobs import sweep
from osorganicai.llm import LLMRequest, LLMResponse
from osorganicai.proposal import read_proposal
from osorganicai.service import Service
from osorganicai.settings import Settings
from osorganicai.webhook import create_app

from .developer_support import (
    BUGGY_LINE,
    FIXED_LINE,
    DeveloperRun,
    make_project,
    ready_issue,
    shop_files,
    with_this_python,
    write_config,
)
from .fake_github_git import FakeGitHubGit
from .fake_models import OPENAI_KEY, Exchange, Say, ScriptedModel
from .support import FakeGitHub, ScriptedLLM, fixture_bytes, signed_headers
from .test_developer_workflow import job_environment, run_command

REPOSITORY = "Codertocat/Hello-World"
BOT = "osorganic-bot[bot]"


def rows(database: str, sql: str, *params: object) -> list[tuple]:
    with psycopg.connect(database) as connection:
        return connection.execute(sql, params).fetchall()


def actions(database: str) -> list[tuple]:
    """What people did (agents and the sweeper record their own actions too)."""
    return rows(
        database,
        "select agent, action_type, payload ->> 'actor' from agent_actions where payload ->> 'actor_kind' = 'person' order by id",
    )


def dispatched_jobs(github: FakeGitHub) -> list[str]:
    return [call.body["client_payload"]["job_id"] for call in github.calls if call.path.endswith("/dispatches")]


@pytest.fixture
def service(settings: Settings, store: Store, fake_github: FakeGitHub) -> Service:
    return Service(settings=settings, store=store, github=fake_github.client(max_attempts=1, max_rate_limit_wait=0))


def a_job(store: Store, kind: str = "developer", status: str | None = None, run_id: int | None = None) -> uuid.UUID:
    job_id = store.create_job(JobSpec(kind, REPOSITORY, 1))
    if run_id is not None or status == "running":
        assert store.claim_job(job_id, run_id).job is not None
    if status in ("succeeded", "failed"):
        store.finish_job(job_id, succeeded=status == "succeeded", error=None if status == "succeeded" else "it broke")
    return job_id


# -- pause and resume ---------------------------------------------------------------------------------------
def test_while_paused_a_delivery_is_stored_and_its_job_held_then_resuming_dispatches_it(
    service: Service, store: Store, database: str, fake_github: FakeGitHub
) -> None:
    webhook = TestClient(create_app(service))
    state = pause_agents(service, "alice")
    assert state.paused and state.changed_by == "alice" and state.changed_at is not None

    body = fixture_bytes("issues.opened.payload.json")
    response = webhook.post("/api/webhooks", content=body, headers=signed_headers(body, "issues", "while-paused"))
    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["dispatched"] is False and "paused by alice" in answer["detail"]
    assert rows(database, "select outcome from webhook_events") == [("queued",)]
    [(status, reason)] = rows(database, "select status, last_error from jobs")
    assert status == "pending" and reason.startswith("held: the agents were paused by alice")
    # Neither the webhook nor the sweeper dispatches while paused.
    assert sweep(store, fake_github.client()).dispatched == []
    assert dispatched_jobs(fake_github) == []

    resumed = resume_agents(service, "bob")
    assert not resumed.paused and resumed.changed_by == "bob"
    assert dispatched_jobs(fake_github) == [answer["job"]]
    assert rows(database, "select status, last_error from jobs") == [("dispatched", None)]
    assert pause_state(store) == resumed
    assert actions(database) == [("alice", "agents_paused", "alice"), ("bob", "agents_resumed", "bob")]


def test_pausing_paused_agents_changes_nothing_and_records_nothing(service: Service, database: str) -> None:
    first = pause_agents(service, "alice")
    again = pause_agents(service, "bob")
    assert again == first and again.changed_by == "alice"
    assert resume_agents(service, "carol").paused is False
    assert resume_agents(service, "dave").changed_by == "carol"
    assert [action for _, action, _ in actions(database)] == ["agents_paused", "agents_resumed"]


def test_the_switch_is_one_row_that_nobody_can_duplicate(database: str) -> None:
    with pytest.raises(psycopg.errors.UniqueViolation), psycopg.connect(database) as connection:
        connection.execute("insert into agent_controls (id, paused) values (true, true)")
    with pytest.raises(psycopg.errors.CheckViolation), psycopg.connect(database) as connection:
        connection.execute("insert into agent_controls (id, paused) values (false, true)")


def test_a_job_claimed_while_paused_ends_without_acting_and_resuming_dispatches_it(
    service: Service, store: Store, database: str, fake_github: FakeGitHub
) -> None:
    job_id = a_job(store)
    store.mark_dispatched(job_id)
    pause_agents(service, "alice")
    refusal = claim_job(store, job_id, fake_github.client(), workflow_run_id=31)
    assert refusal is not None and "paused by alice" in refusal
    [(status, started_at, run_id)] = rows(database, "select status, started_at, workflow_run_id from jobs")
    assert status == "pending" and started_at is None and run_id is None
    assert fake_github.paths("GET") == []  # not even the permission check ran

    resume_agents(service, "alice")
    assert dispatched_jobs(fake_github) == [str(job_id)]
    assert claim_job(store, job_id, fake_github.client(), workflow_run_id=32) is None
    assert rows(database, "select status, workflow_run_id from jobs") == [("running", 32)]


@pytest.mark.parametrize("kind", ["product_owner", "lifecycle"])
def test_product_owner_and_lifecycle_runs_end_cleanly_while_paused(
    kind: str, service: Service, store: Store, database: str, tmp_path: Path
) -> None:
    with FakeGitHubGit(tmp_path / "github", bot_login=BOT) as github:
        github.create_repository(shop_files())
        job_id = store.create_job(JobSpec(kind, github.repository, 7))
        pause_agents(service, "alice")
        command = ["product-owner", "--issue", "7"] if kind == "product_owner" else ["lifecycle"]
        completed = run_command(
            *command, "--job-id", str(job_id), "--workflow-run-id", "77",
            env=job_environment(github, GITHUB_TOKEN=github.token, DATABASE_URL=database, LLM_PROVIDER="offline"),
            cwd=tmp_path,
        )  # fmt: skip
        assert completed.returncode == 0, completed.stderr
        assert "paused by alice" in completed.stdout + completed.stderr
        assert rows(database, "select status from jobs") == [("pending",)]


class PausingLLM(ScriptedLLM):
    """Answers as scripted, after a person paused the agents while the model was working."""

    def __init__(self, service: Service, reply: dict[str, object]) -> None:
        super().__init__(reply)
        self.service = service

    def complete(self, request: LLMRequest) -> LLMResponse:
        pause_agents(self.service, "alice")
        return super().complete(request)


def test_a_product_owner_paused_while_its_model_works_posts_nothing_and_runs_again_on_resume(
    service: Service, store: Store, database: str, fake_github: FakeGitHub, settings: Settings, runtime_config
) -> None:
    job_id = a_job(store, kind="product_owner", run_id=12)
    ready = {"needs_clarification": False, "questions": [], "refined_description": "Fix it.", "is_complete": True}
    agent = ProductOwnerAgent(
        repository=REPOSITORY,
        settings=settings,
        config=runtime_config,
        store=store,
        github=fake_github.client(),
        llm=PausingLLM(service, ready),
        job_id=job_id,
    )
    result = agent.run(1)
    assert result.outcome == "paused" and "paused by alice" in result.detail
    assert fake_github.paths("POST") == [] and fake_github.labels(1) == []
    assert record_product_owner_outcome(store, job_id, result) is True
    assert rows(database, "select status from jobs") == [("paused",)]
    resume_agents(service, "alice")
    assert dispatched_jobs(fake_github) == [str(job_id)]


def test_a_malformed_workflow_run_id_is_a_usage_error(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "osorganicai", "claim", "--issue", "7", "--workflow-run-id", "12; rm -rf /"],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 2 and "is not a workflow run id" in completed.stderr


# -- the pause switch stops a dispatched Developer run ----------------------------------------------------
def test_the_pause_switch_stops_a_dispatched_developer_run_which_keeps_its_work_and_goes_on_after_resume(
    tmp_path: Path, database: str, store: Store, settings: Settings
) -> None:
    with FakeGitHubGit(tmp_path / "github", bot_login=BOT) as github:
        github.create_repository(shop_files('[developer]\nmodel = "gpt-4o-mini"\n'))
        github.add_issue(7, "Discounts raise the price", "apply_discount adds the percentage.", labels=("ready-for-dev",))
        service = Service(settings=settings, store=store, github=github.client())
        job_id = store.create_job(JobSpec("developer", github.repository, 7))
        store.mark_dispatched(job_id)
        environment = job_environment(github, GITHUB_TOKEN=github.token, DATABASE_URL=database)
        claimed = run_command(
            "claim", "--issue", "7", "--job-id", str(job_id), "--workflow-run-id", "9001", env=environment, cwd=tmp_path
        )
        assert claimed.returncode == 0, claimed.stderr
        assert "proceed=true" in claimed.stdout
        assert rows(database, "select status, workflow_run_id from jobs") == [("running", 9001)]

        def pause_while_working(exchange: Exchange) -> Say:
            pause_agents(service, "alice")
            # The run reads the switch every few seconds: this command outlasts that interval.
            return Say([("bash", {"command": "sleep 5.5"})])

        script = [
            Say([("str_replace", {"path": "shop/pricing.py", "old_str": BUGGY_LINE, "new_str": FIXED_LINE})]),
            pause_while_working,
            Say([("finish", {"summary": "never reached"})]),
        ]
        checkout = github.clone(tmp_path / "checkout")
        out = tmp_path / "proposal"
        with ScriptedModel("openai", script, model="gpt-4o-mini") as model:
            developer_environment = job_environment(
                github,
                GITHUB_TOKEN=github.token,
                DATABASE_URL=database,
                LLM_PROVIDER="openai",
                OPENAI_API_KEY=OPENAI_KEY,
                OPENAI_BASE_URL=model.base_url,
            )
            developed = run_command(
                "developer", "--issue", "7", "--job-id", str(job_id), "--out", str(out), "--checkout", str(checkout),
                env=developer_environment, cwd=checkout,
            )  # fmt: skip
            assert model.remaining == 1  # `finish` was never asked for
        assert developed.returncode == 3, developed.stderr
        proposal = read_proposal(out)
        assert proposal.status == "budget_exhausted" and proposal.budget_exhausted == "paused"
        assert "paused by alice" in proposal.remaining
        assert FIXED_LINE in (out / "change.patch").read_text()

        published = run_command("publish", "--from", str(out), env=environment, cwd=tmp_path)
        assert published.returncode == 0, published.stderr
        branch = "feature/issue-7-discounts-raise-the-price"
        assert FIXED_LINE.encode() in github.branch_files(branch)["shop/pricing.py"][1]
        assert any("**Paused**" in comment["body"] for comment in github.comments(7))
        [(status, reason)] = rows(database, "select status, last_error from jobs")
        assert status == "paused" and reason.startswith("paused:")

        resume_agents(service, "alice")
        assert [dispatch["client_payload"]["job_id"] for dispatch in github.dispatches] == [str(job_id)]
        assert rows(database, "select status from jobs") == [("dispatched",)]
        # The next claim starts from the issue's branch, where the paused run's work is.
        claimed = run_command("claim", "--issue", "7", "--job-id", str(job_id), env=environment, cwd=tmp_path)
        assert f"branch={branch}" in claimed.stdout


def test_the_loop_reads_the_switch_at_most_every_few_seconds() -> None:
    now = [0.0]
    reads: list[float] = []

    def read() -> ControlState:
        reads.append(now[0])
        if len(reads) == 2:
            raise psycopg.OperationalError("the database is down")
        return ControlState(paused=False)

    poll = ControlPoll(read, interval_seconds=5.0, clock=lambda: now[0])
    for tick in range(0, 400):
        now[0] = tick / 10
        poll.poll()
    # Every 5 s, except that after the failed read at 5 s the next waits twice as long.
    assert reads == [0.0, 5.0, 15.0, 20.0, 25.0, 30.0, 35.0] and poll.failures == 1


# -- cancel ----------------------------------------------------------------------------------------------------
def test_cancelling_a_running_job_cancels_its_workflow_run_and_marks_it(
    service: Service, store: Store, database: str, fake_github: FakeGitHub
) -> None:
    job_id = a_job(store, run_id=4242)
    cancel_job(service, job_id, "alice")
    assert fake_github.cancelled_runs == [4242]
    assert ("POST", f"/repos/{REPOSITORY}/actions/runs/4242/cancel") in [(c.method, c.path) for c in fake_github.calls]
    assert rows(database, "select status, last_error from jobs") == [("cancelled", "cancelled by alice")]
    assert rows(database, "select agent, action_type, payload ->> 'run_cancelled', job_id from agent_actions") == [
        ("alice", "job_cancelled", "true", job_id)
    ]
    # The run's claim, should it come now, refuses the job.
    assert "already finished" in (claim_job(store, job_id, fake_github.client()) or "")


def test_cancelling_a_job_whose_run_already_completed_still_cancels_the_job(
    service: Service, store: Store, database: str, fake_github: FakeGitHub
) -> None:
    job_id = a_job(store, run_id=5)
    fake_github.completed_runs.add(5)
    cancel_job(service, job_id, "alice")
    assert fake_github.cancelled_runs == []
    assert rows(database, "select status from jobs") == [("cancelled",)]
    assert rows(database, "select payload ->> 'run_cancelled' from agent_actions") == [("false",)]


def test_cancelling_a_pending_job_needs_no_workflow_run(service: Service, store: Store, database: str, fake_github) -> None:
    job_id = a_job(store)
    cancel_job(service, job_id, "alice")
    assert fake_github.calls == [] and rows(database, "select status from jobs") == [("cancelled",)]


@pytest.mark.parametrize("status", ["succeeded", "failed"])
def test_cancelling_a_finished_job_is_refused(status: str, service: Service, store: Store, database: str, fake_github) -> None:
    job_id = a_job(store, status=status, run_id=6)
    with pytest.raises(InterventionRefused, match=f"has already {status}: there is nothing to cancel"):
        cancel_job(service, job_id, "alice")
    assert fake_github.cancelled_runs == [] and rows(database, "select status from jobs") == [(status,)]
    assert actions(database) == []


def test_a_github_refusal_to_cancel_leaves_the_job_as_it_was(store: Store, database: str, settings: Settings) -> None:
    github = FakeGitHub(repository="someone/else")  # the run is not in the fake's repository: 404
    service = Service(settings=settings, store=store, github=github.client(max_attempts=1))
    job_id = a_job(store, run_id=7)
    with pytest.raises(InterventionRefused, match=r"GitHub did not cancel workflow run 7 \(404"):
        cancel_job(service, job_id, "alice")
    assert rows(database, "select status from jobs") == [("running",)] and actions(database) == []


def test_an_unknown_job_or_no_login_is_refused_with_what_to_do(service: Service) -> None:
    with pytest.raises(InterventionRefused, match=r"There is no job [0-9a-f-]+: reload the page"):
        cancel_job(service, uuid.uuid4(), "alice")
    with pytest.raises(InterventionRefused, match="sign in again"):
        pause_agents(service, "  ")


# -- retry -----------------------------------------------------------------------------------------------------
def test_retrying_a_failed_job_creates_and_dispatches_a_new_one(
    service: Service, store: Store, database: str, fake_github: FakeGitHub
) -> None:
    job_id = a_job(store, status="failed")
    new_id = retry_job(service, job_id, "alice")
    assert new_id != job_id and dispatched_jobs(fake_github) == [str(new_id)]
    [dispatch] = [call for call in fake_github.calls if call.path.endswith("/dispatches")]
    assert dispatch.body == {"event_type": "agent-developer", "client_payload": {"job_id": str(new_id), "issue": 1}}
    assert rows(database, "select id, kind, issue_number, status from jobs order by created_at") == [
        (job_id, "developer", 1, "failed"),
        (new_id, "developer", 1, "dispatched"),
    ]
    assert rows(database, "select agent, action_type, payload ->> 'new_job', job_id from agent_actions") == [
        ("alice", "job_retried", str(new_id), job_id)
    ]


def test_retrying_twice_makes_one_new_job(service: Service, store: Store, database: str, fake_github) -> None:
    job_id = a_job(store, status="failed")
    new_id = retry_job(service, job_id, "alice")
    with pytest.raises(InterventionRefused, match=f"Job {new_id} already does this developer work on issue #1"):
        retry_job(service, job_id, "bob")
    assert rows(database, "select count(*) from jobs") == [(2,)] and dispatched_jobs(fake_github) == [str(new_id)]


@pytest.mark.parametrize("status", ["pending", "running", "succeeded"])
def test_retrying_a_job_that_did_not_fail_is_refused(
    status: str, service: Service, store: Store, database: str, fake_github
) -> None:
    job_id = a_job(store, status=status)
    with pytest.raises(InterventionRefused, match=f"is {status}: only a failed, abandoned or cancelled job can be retried"):
        retry_job(service, job_id, "alice")
    assert rows(database, "select count(*) from jobs") == [(1,)] and dispatched_jobs(fake_github) == []


def test_a_job_retried_while_paused_is_held_until_resume(service: Service, store: Store, database: str, fake_github) -> None:
    job_id = a_job(store)
    cancel_job(service, job_id, "alice")
    pause_agents(service, "alice")
    new_id = retry_job(service, job_id, "alice")
    assert dispatched_jobs(fake_github) == []
    assert rows(database, "select status, last_error like 'held:%%' from jobs where id = %s", new_id) == [("pending", True)]
    resume_agents(service, "alice")
    assert dispatched_jobs(fake_github) == [str(new_id)]


# -- raise a budget ----------------------------------------------------------------------------------------------
def test_a_budget_is_raised_once_and_a_second_time_refused(service: Service, store: Store, database: str) -> None:
    job_id = a_job(store, status="running")
    raise_job_budget(service, job_id, "alice")
    job = store.get_job(job_id)
    assert job is not None and job.budget_factor == 2 and job.budget_raised_by == "alice"
    with pytest.raises(InterventionRefused, match=r"already raised \(by alice at .+ UTC\): a job's budget is raised only once"):
        raise_job_budget(service, job_id, "bob")
    assert actions(database) == [("alice", "job_budget_raised", "alice")]
    # The database holds the rule too: 1, or 2 with who and when.
    with pytest.raises(psycopg.errors.CheckViolation), psycopg.connect(database) as connection:
        connection.execute("update jobs set budget_factor = 4")


def test_only_unfinished_developer_jobs_get_a_raised_budget(service: Service, store: Store, database: str) -> None:
    with pytest.raises(InterventionRefused, match="is a product_owner job: only Developer jobs"):
        raise_job_budget(service, a_job(store, kind="product_owner"), "alice")
    with pytest.raises(InterventionRefused, match="has already succeeded: retry it, then raise the new job's budget"):
        raise_job_budget(service, a_job(store, status="succeeded"), "alice")
    assert rows(database, "select count(*) from jobs where budget_factor <> 1") == [(0,)]


def test_raised_budgets_multiply_the_spend_and_keep_minutes_under_the_job_timeout(runtime_config) -> None:
    limits = runtime_config.developer_budgets
    raised = raised_budgets(limits, 2.0)
    assert raised.max_steps == 2 * limits.max_steps and raised.max_tokens == 2 * limits.max_tokens
    assert raised.max_cost_usd == 2 * limits.max_cost_usd
    assert limits.max_minutes < raised.max_minutes <= 28.0
    assert raised.max_check_rounds == limits.max_check_rounds and raised_budgets(limits, 1.0) == limits


@pytest.fixture
def two_checkouts(tmp_path: Path, settings: Settings) -> Iterator[tuple[DeveloperRun, DeveloperRun]]:
    github = FakeGitHub()
    ready_issue(github)
    server, url = github.serve()
    try:
        yield tuple(  # type: ignore[misc]
            DeveloperRun(make_project(tmp_path / name), tmp_path / f"{name}-proposal", github, url, settings)
            for name in ("first", "second")
        )
    finally:
        server.shutdown()
        server.server_close()


def test_the_developer_run_gets_the_raised_budget(
    two_checkouts: tuple[DeveloperRun, DeveloperRun], tmp_path: Path, service: Service, store: Store
) -> None:
    config = write_config(tmp_path / "cfg", developer="max_steps = 2\n")

    def three_steps() -> list[Say]:
        return [
            Say([("view", {"path": "shop/pricing.py", "start_line": 1, "end_line": 5})]),
            Say([("str_replace", {"path": "shop/pricing.py", "old_str": BUGGY_LINE, "new_str": FIXED_LINE})]),
            Say([("finish", {"summary": "Take the discount off."})]),
        ]

    outcomes = []
    for run, raise_it in zip(two_checkouts, (False, True), strict=True):
        job_id = a_job(store, status="running")
        if raise_it:
            raise_job_budget(service, job_id, "alice")
        with ScriptedModel("openai", three_steps(), model="gpt-4o-mini") as model:
            agent = run.agent(model.provider(), config)
            agent.controls = job_controls(store, job_id)
            result = agent.run(7, checkout=run.checkout, out=run.out, environment=with_this_python(None))
        proposal = read_proposal(run.out)
        outcomes.append((result.outcome, proposal.budget_exhausted, proposal.usage.steps))
    assert outcomes == [("budget_exhausted", "max_steps", 2), ("ready", None, 3)]
