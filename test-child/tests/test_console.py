"""The console: stages and costs (pure), then its pages, live fragments and interventions in-process
against the real database, with sessions signed as sign-in signs them."""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from osorganicai.config import ConsoleSettings, RuntimeConfig, load_config
from osorganicai.console import charts, stages
from osorganicai.console.app import create_console_app
from osorganicai.console.asgi import restore_console_path
from osorganicai.console.auth import ACT, SESSION_COOKIE, VIEW
from osorganicai.console.costs import CostRow, summarise
from osorganicai.db import JobSpec, Store
from osorganicai.interventions import pause_state
from osorganicai.service import Service

from .conftest import CHILD_ROOT
from .console_support import REPOSITORY, console_client, console_settings, seed_story, sign_in_as

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


# -- the stage of an issue ---------------------------------------------------------------------------------
def action(minutes: int, agent: str, action_type: str) -> dict[str, object]:
    return {"created_at": at(minutes), "agent": agent, "action_type": action_type}


def job(
    minutes: int, kind: str, status: str = "succeeded", finished: int | None = None, error: str | None = None
) -> dict[str, object]:
    return {
        "created_at": at(minutes),
        "kind": kind,
        "status": status,
        "finished_at": at(finished) if finished is not None else None,
        "last_error": error,
    }


def generation(minutes: int, status: str, proposal_status: str | None) -> dict[str, object]:
    return {"created_at": at(minutes), "status": status, "proposal_status": proposal_status}


@pytest.mark.parametrize(
    ("records", "expected", "since"),
    [
        ({"jobs": [job(0, "product_owner", "running")]}, stages.ASKING, 0),
        ({"jobs": [job(0, "product_owner")], "actions": [action(1, "product_owner", "asked_questions")]}, stages.ASKING, 0),
        (
            {
                "jobs": [job(0, "product_owner"), job(5, "product_owner")],
                "actions": [action(1, "product_owner", "asked_questions"), action(6, "product_owner", "marked_ready")],
            },
            stages.READY,
            6,
        ),
        (
            {"actions": [action(6, "product_owner", "marked_ready")], "jobs": [job(7, "developer", "running")]},
            stages.DEVELOPING,
            7,
        ),
        ({"jobs": [job(7, "developer")], "generations": [generation(20, "published", "checks_failing")]}, stages.PR_DRAFT, 20),
        ({"jobs": [job(7, "developer")], "generations": [generation(20, "published", "ready")]}, stages.CI, 20),
        (
            {
                "jobs": [job(7, "developer")],
                "generations": [generation(20, "published", "ready")],
                "actions": [action(30, "lifecycle", "ready_for_review")],
            },
            stages.IN_REVIEW,
            30,
        ),
        (
            # red checks on the pull request: a fix round is development again
            {
                "generations": [generation(20, "published", "ready")],
                "actions": [action(30, "lifecycle", "fix_started")],
                "jobs": [job(30, "fix", "running")],
            },
            stages.DEVELOPING,
            30,
        ),
        (
            {
                "actions": [action(30, "lifecycle", "ready_for_review"), action(40, "lifecycle", "done")],
                "pull_state": {"state": "done", "updated_at": at(40)},
            },
            stages.MERGED,
            40,
        ),
        (
            {
                "actions": [action(40, "lifecycle", "done"), action(45, "lifecycle", "deployed")],
                "pull_state": {"state": "deployed", "updated_at": at(45)},
            },
            stages.DEPLOYED,
            45,
        ),
        (
            {"actions": [action(40, "lifecycle", "done")], "pull_state": {"state": "deployed", "updated_at": at(46)}},
            stages.DEPLOYED,
            46,
        ),
        # a failed deployment of the merged change needs a person; a checked preview after the merge moves nothing
        ({"actions": [action(40, "lifecycle", "done"), action(47, "lifecycle", "deployment_failed")]}, stages.NEEDS_PERSON, 47),
        ({"actions": [action(40, "lifecycle", "done"), action(47, "lifecycle", "deployment_checked")]}, stages.MERGED, 40),
        # a preview deployment before the merge does not deploy the issue
        (
            {"actions": [action(30, "lifecycle", "ready_for_review"), action(35, "lifecycle", "deployment_checked")]},
            stages.IN_REVIEW,
            30,
        ),
        (
            {"actions": [action(30, "lifecycle", "abandoned")], "pull_state": {"state": "abandoned", "updated_at": at(31)}},
            stages.ABANDONED,
            30,
        ),
        ({"jobs": [job(7, "developer", "failed", finished=9, error="provider down")]}, stages.NEEDS_PERSON, 9),
        ({"actions": [action(50, "lifecycle", "needs_human")]}, stages.NEEDS_PERSON, 50),
        ({"generations": [generation(20, "refused", "ready")]}, stages.NEEDS_PERSON, 20),
        ({"actions": [action(1, "product_owner", "analysis_failed")]}, stages.NEEDS_PERSON, 1),
        # a retried job after a failure: developing again
        ({"jobs": [job(7, "developer", "failed", finished=9), job(12, "developer", "running")]}, stages.DEVELOPING, 12),
        # a failed job after the merge does not reopen a finished issue
        (
            {"actions": [action(40, "lifecycle", "done")], "jobs": [job(41, "lifecycle", "failed", finished=42)]},
            stages.MERGED,
            40,
        ),
    ],
)
def test_stage_of_an_issue_from_its_records(records: dict[str, object], expected: str, since: int) -> None:
    stage = stages.stage_of(**records)  # type: ignore[arg-type]
    assert stage is not None
    assert (stage.name, stage.since) == (expected, at(since))


def test_an_issue_with_nothing_that_moves_it_has_no_stage() -> None:
    assert stages.stage_of(actions=[action(0, "product_owner", "llm_call")], jobs=[job(0, "lifecycle")]) is None


def test_stage_ages_read_plainly() -> None:
    assert [stages.format_age(timedelta(seconds=s)) for s in (5, 125, 3 * 3600 + 120, 3600, 2 * 86400 + 3 * 3600)] == [
        "5 s",
        "2 min",
        "3 h 2 min",
        "1 h",
        "2 d 3 h",
    ]


# -- costs -------------------------------------------------------------------------------------------------
def cost(day: date, agent: str, model: str, issue: int | None, tokens_in: int, tokens_out: int, dollars: str) -> CostRow:
    return CostRow(day, agent, model, issue, tokens_in, tokens_out, Decimal(dollars))


def test_costs_are_summed_per_day_agent_model_and_issue_with_the_month_budget() -> None:
    today = date(2026, 12, 7)
    rows = [
        cost(date(2026, 12, 7), "developer", "gpt-4o-mini", 8, 50_000, 4_000, "0.50"),
        cost(date(2026, 12, 7), "product_owner", "gpt-4o-mini", 7, 1_000, 200, "0.01"),
        cost(date(2026, 12, 6), "developer", "claude-sonnet-5", 8, 10_000, 1_000, "1.00"),
        cost(date(2026, 12, 1), "product_owner", "gpt-4o-mini", 9, 500, 100, "0.02"),
        cost(date(2026, 11, 20), "developer", "gpt-4o-mini", 3, 9_000, 900, "2.00"),  # last month, in the 30-day window
        cost(date(2026, 10, 1), "developer", "gpt-4o-mini", 2, 1, 1, "9.00"),  # outside both
    ]
    summary = summarise(rows, today=today, monthly_budget_usd=10.0)
    assert len(summary.per_day) == 30 and summary.per_day[-1].key == "2026-12-07" and summary.per_day[0].key == "2026-11-08"
    assert summary.per_day[-1].cost_usd == Decimal("0.51") and summary.per_day[-1].tokens == 55_200
    assert summary.per_day[-2].cost_usd == Decimal("1.00") and summary.per_day[-3].cost_usd == 0
    assert [(t.key, t.cost_usd) for t in summary.per_agent] == [
        ("developer", Decimal("3.50")),
        ("product_owner", Decimal("0.03")),
    ]
    assert [(t.key, t.cost_usd) for t in summary.per_model] == [
        ("gpt-4o-mini", Decimal("2.53")),
        ("claude-sonnet-5", Decimal("1.00")),
    ]
    assert [t.key for t in summary.per_issue] == ["#3", "#8", "#9", "#7"]
    assert summary.total.cost_usd == Decimal("3.53") and summary.total.input_tokens == 70_500
    assert summary.month_spent_usd == Decimal("1.53")
    assert summary.budget is not None and summary.budget.left_usd == Decimal("8.47")
    assert summarise(rows, today=today).budget is None


def test_charts_are_svg_with_escaped_labels() -> None:
    points = [charts.Point("<script>", 2.0, "$2.00"), charts.Point("b&c", 1.0, "$1.00")]
    for svg in (charts.bar_chart(points, "t", "$2"), charts.line_chart(points, "t", "$2"), charts.horizontal_bars(points, "t")):
        assert svg.startswith("<svg") and svg.endswith("</svg>")
        assert "<script>" not in svg and "&lt;script&gt;" in svg and "b&amp;c" in svg
    assert "nothing recorded yet" in charts.horizontal_bars([], "empty")


def test_the_monthly_budget_is_read_from_agents_toml(tmp_path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "agents.toml").write_text("[console]\nmonthly_budget_usd = 40\n")
    assert load_config(tmp_path).console == ConsoleSettings(monthly_budget_usd=40.0)
    (tmp_path / "config" / "agents.toml").write_text("[console]\n")
    assert load_config(tmp_path).console.monthly_budget_usd is None


# -- the app -------------------------------------------------------------------------------------------------
@pytest.fixture
def console(database: str, store: Store, runtime_config: RuntimeConfig):
    service = Service(settings=console_settings(database), store=store)
    config = RuntimeConfig(
        product_owner=runtime_config.product_owner,
        developer=runtime_config.developer,
        console=ConsoleSettings(monthly_budget_usd=25.0),
    )
    app = create_console_app(service, config=config)
    with console_client(app) as client:
        yield client


PAGES = ["/console", "/console/issues/8", "/console/costs", "/console/health"]
FRAGMENTS = ["/console/fragment/pipeline", "/console/fragment/issues/8", "/console/fragment/costs", "/console/fragment/health"]


@pytest.mark.parametrize(
    "path", [*PAGES, *FRAGMENTS, "/console/issues/abc", "/console/fragment/nothing", "/console/no/such/page"]
)
def test_without_a_session_every_console_url_redirects_to_sign_in_and_shows_no_data(console, store: Store, path: str) -> None:
    seed_story(store)
    response = console.get(path)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/console/login?next=")
    assert response.content == b""
    assert "content-security-policy" in response.headers


def test_a_forged_or_expired_session_is_no_session(console, store: Store) -> None:
    seed_story(store)
    session = sign_in_as(console, "octocat", VIEW)
    value = console.cookies.get(SESSION_COOKIE)
    console.cookies.set(SESSION_COOKIE, value.replace(".", "x.", 1), path="/console")
    assert console.get("/console").status_code == 303
    console.cookies.set(SESSION_COOKIE, value.split(".")[0] + ".AAAA", path="/console")
    assert console.get("/console").status_code == 303
    assert session.may_act is False


def test_pages_render_the_seeded_story(console, store: Store) -> None:
    seed_story(store)
    sign_in_as(console, "octocat", VIEW)
    pipeline = console.get("/console")
    assert pipeline.status_code == 200, pipeline.text
    text = pipeline.text
    assert "Gift cards at checkout" in text and "Refund emails" in text
    assert ">asking<" in text and ">in review<" in text and ">needs a person<" in text
    assert f"/{REPOSITORY}/issues/8" in text and "/pull/31" in text and "actions/workflows/developer-agent.yml" in text
    assert "Agents running" in text and "Pause agents" not in text  # a reader sees the switch, not its button

    issue = console.get("/console/issues/8").text
    assert "published" in issue and "shop/refunds.py" in issue and "17" in issue and "$0.0099" in issue
    assert "ghp_" + "A" * 36 not in issue and "[REDACTED]" in issue  # a token in a check's output
    assert "ready_for_review" in issue and "lifecycle" in issue
    assert "Proposal: Send refund emails" in issue and "Sends an email when a refund is issued." in issue
    assert "+14" in issue and "−2" in issue and "Transcript: the last 3 entries" in issue and "Refund emails are sent." in issue
    assert "hunter2secret" not in issue and "postgresql://shop:[REDACTED]@db.internal/shop" in issue
    questions = console.get("/console/issues/7").text
    assert "Which currencies?" in questions and "EUR only; yes." in questions and "Codertocat" in questions

    costs = console.get("/console/costs").text
    assert "<svg" in costs and "Dollars per day" in costs and "gpt-4o-mini" in costs
    assert "$25.00" in costs and "left" in costs  # the monthly budget from [console]

    health = console.get("/console/health").text
    assert "refused: repository someone/else" in health and "provider refused the request" in health
    assert "cron" in health and "Every setting is present" in health


def test_the_pipeline_links_the_exact_workflow_run_and_health_lists_stuck_jobs(console, store: Store) -> None:
    ids = seed_story(store)
    stuck = store.create_job(JobSpec("product_owner", REPOSITORY, 40))
    running = store.create_job(JobSpec("lifecycle", REPOSITORY, 41))
    store.start_job(running)
    with store.transaction() as cursor:
        cursor.execute("update public.jobs set workflow_run_id = 987654 where id = %s", (ids["failed_job"],))
        cursor.execute("update public.jobs set created_at = now() - interval '2 hours' where id = %s", (stuck,))
        cursor.execute("update public.jobs set started_at = now() - interval '40 minutes' where id = %s", (running,))
    sign_in_as(console, "octocat", VIEW)
    assert f"/{REPOSITORY}/actions/runs/987654" in console.get("/console").text
    health = console.get("/console/health").text
    stuck_section = health.split("Jobs stuck")[1].split("Jobs failed")[0]
    assert "#40" in stuck_section and "product_owner" in stuck_section  # pending for 2 h: the sweeper should have acted
    assert "#41" in stuck_section  # running past the lifecycle workflow's 10 + 5 minutes


def test_pages_are_compressed_for_browsers_that_accept_it(console, store: Store) -> None:
    seed_story(store)
    sign_in_as(console, "octocat", VIEW)
    compressed = console.get("/console", headers={"Accept-Encoding": "gzip"})
    assert compressed.headers["content-encoding"] == "gzip" and "Refund emails" in compressed.text
    assert "content-encoding" not in console.get("/console", headers={"Accept-Encoding": "identity"}).headers


def test_an_issue_with_no_record_is_a_404_page_and_bad_numbers_are_refused(console, store: Store) -> None:
    sign_in_as(console, "octocat", VIEW)
    assert console.get("/console/issues/4242").status_code == 404
    assert console.get("/console/issues/-1").status_code == 404
    assert console.get("/console/issues/99999999999999999999").status_code == 404
    assert console.get("/console/fragment/nothing").status_code == 404
    assert console.get("/console/no/such/page").status_code == 404


def test_the_live_fragment_answers_304_until_something_changes(console, store: Store) -> None:
    seed_story(store)
    sign_in_as(console, "octocat", VIEW)
    page = console.get("/console/issues/7")
    etag = page.headers["etag"]
    assert f'data-etag="{etag}"' in page.text.replace("&#34;", '"')
    unchanged = console.get("/console/fragment/issues/7", headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.content == b""
    store.log_action(
        agent="product_owner", action_type="marked_ready", payload={"comment_id": 99}, repository=REPOSITORY, issue_number=7
    )
    changed = console.get("/console/fragment/issues/7", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert "marked_ready" in changed.text and "<html" not in changed.text
    assert ">ready<" in changed.text
    # another issue's news leaves this one's fragment alone, the pipeline's not
    pipeline_etag = console.get("/console/fragment/pipeline").headers["etag"]
    issue_etag = changed.headers["etag"]
    store.log_action(
        agent="product_owner", action_type="asked_questions", payload={"questions": []}, repository=REPOSITORY, issue_number=9
    )
    assert console.get("/console/fragment/issues/7", headers={"If-None-Match": issue_etag}).status_code == 304
    assert console.get("/console/fragment/pipeline", headers={"If-None-Match": pipeline_etag}).status_code == 200


@pytest.mark.parametrize(
    "path", [*PAGES, *FRAGMENTS, "/console/static/console.js", "/console/static/console.css", "/console/login"]
)
def test_every_console_answer_carries_a_strict_content_security_policy(console, store: Store, path: str) -> None:
    seed_story(store)
    sign_in_as(console, "octocat", ACT)
    response = console.get(path)
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy and "style-src 'self'" in policy
    assert (
        "frame-ancestors 'none'" in policy and "base-uri 'none'" in policy and "form-action 'self' http://127.0.0.1:9" in policy
    )
    if response.headers.get("content-type", "").startswith("text/html"):
        assert "<script>" not in response.text and " style=" not in response.text  # no inline script or style


def test_static_assets_are_served_without_a_session_and_unknown_ones_are_not(console) -> None:
    script = console.get("/console/static/console.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert "If-None-Match" in script.text
    assert console.get("/console/static/console.js", headers={"If-None-Match": script.headers["etag"]}).status_code == 304
    escaped = console.get("/console/static/../app.py")  # the client normalises it to /console/app.py: sign-in first
    assert escaped.status_code == 303 and escaped.content == b""
    assert console.get("/console/static/secrets.txt").status_code == 404


# -- interventions -----------------------------------------------------------------------------------------
def csrf_of(session) -> dict[str, str]:
    return {"csrf": session.csrf, "return_to": "/console/health"}


def test_a_reader_cannot_act(console, store: Store) -> None:
    ids = seed_story(store)
    session = sign_in_as(console, "reader", VIEW)
    for path in (
        "/console/actions/pause",
        f"/console/jobs/{ids['failed_job']}/retry",
        f"/console/jobs/{ids['developer_job']}/cancel",
    ):
        response = console.post(path, data=csrf_of(session))
        assert response.status_code == 403 and "read access" in response.text
    assert pause_state(store).paused is False
    assert store.get_job(ids["failed_job"]).status == "failed"


def test_a_post_without_the_csrf_token_is_refused(console, store: Store) -> None:
    ids = seed_story(store)
    session = sign_in_as(console, "writer", ACT)
    assert console.post("/console/actions/pause", data={"return_to": "/console"}).status_code == 403
    assert console.post("/console/actions/pause", data={"csrf": session.csrf + "x"}).status_code == 403
    assert (
        console.post(
            "/console/actions/pause",
            content=b'{"csrf": "%s"}' % session.csrf.encode(),
            headers={"Content-Type": "application/json"},
        ).status_code
        == 400
    )
    assert console.post(f"/console/jobs/{ids['failed_job']}/retry", data={}).status_code == 403
    assert pause_state(store).paused is False


def test_a_post_without_a_session_goes_to_sign_in_and_does_nothing(console, store: Store) -> None:
    response = console.post("/console/actions/pause", data={"csrf": "anything"})
    assert response.status_code == 303 and response.headers["location"].startswith("/console/login")
    assert pause_state(store).paused is False


def test_a_writer_pauses_and_resumes_and_every_page_shows_the_switch(console, store: Store) -> None:
    seed_story(store)
    session = sign_in_as(console, "writer", ACT)
    response = console.post("/console/actions/pause", data=csrf_of(session))
    assert response.status_code == 303 and response.headers["location"] == "/console/health"
    state = pause_state(store)
    assert state.paused and state.changed_by == "writer"
    for path in PAGES:
        text = console.get(path).text
        assert "Agents paused" in text and "by writer" in text and "Resume agents" in text
    console.post("/console/actions/resume", data=csrf_of(session))
    assert pause_state(store).paused is False
    interventions = console.get("/console/health").text.split("<h2>Interventions</h2>")[1]
    assert "agents paused" in interventions and "agents resumed" in interventions and "writer" in interventions
    with store.transaction() as cursor:
        cursor.execute("select agent, action_type from public.agent_actions where action_type like 'agents_%' order by id")
        assert [(row["agent"], row["action_type"]) for row in cursor.fetchall()] == [
            ("writer", "agents_paused"),
            ("writer", "agents_resumed"),
        ]


def test_a_writer_retries_a_failed_job_raises_a_budget_and_cancels_a_job(console, store: Store) -> None:
    ids = seed_story(store)
    session = sign_in_as(console, "writer", ACT)
    page = console.get("/console/issues/9").text
    assert f"/console/jobs/{ids['failed_job']}/retry" in page
    assert console.post(f"/console/jobs/{ids['failed_job']}/retry", data=csrf_of(session)).status_code == 303
    with store.transaction() as cursor:
        cursor.execute("select id, status from public.jobs where issue_number = 9 order by created_at")
        jobs = cursor.fetchall()
    assert len(jobs) == 2 and jobs[1]["status"] in ("pending", "dispatched")
    new_job = jobs[1]["id"]
    assert console.post(f"/console/jobs/{new_job}/raise-budget", data=csrf_of(session)).status_code == 303
    again = console.post(f"/console/jobs/{new_job}/raise-budget", data=csrf_of(session))
    assert again.status_code == 409 and "only once" in again.text
    assert console.post(f"/console/jobs/{new_job}/cancel", data=csrf_of(session)).status_code == 303
    assert store.get_job(new_job).status == "cancelled"
    timeline = console.get("/console/issues/9").text
    assert (
        "job_retried" in timeline
        and "job_budget_raised" in timeline
        and "job_cancelled" in timeline
        and "writer (a person" in timeline
    )


def test_bad_job_ids_and_verbs_are_refused_clearly(console, store: Store) -> None:
    session = sign_in_as(console, "writer", ACT)
    bad = console.post("/console/jobs/not-a-uuid/cancel", data=csrf_of(session))
    assert bad.status_code == 400 and "not a job id" in bad.text
    unknown = console.post(f"/console/jobs/{uuid.uuid4()}/cancel", data=csrf_of(session))
    assert unknown.status_code == 409 and "no job" in unknown.text
    assert console.post(f"/console/jobs/{uuid.uuid4()}/explode", data=csrf_of(session)).status_code == 404
    too_big = console.post("/console/actions/pause", data={"csrf": session.csrf, "pad": "x" * 20_000})
    assert too_big.status_code == 400


# -- behind Vercel, and kept off the webhook's path --------------------------------------------------------
def test_the_path_vercel_hands_the_function_is_mapped_back_to_the_console() -> None:
    def mapped(path: str, query: bytes = b"") -> tuple[str, bytes]:
        scope = restore_console_path({"type": "http", "path": path, "query_string": query})
        return scope["path"], scope["query_string"]

    assert mapped("/console/issues/8") == ("/console/issues/8", b"")
    assert mapped("/api/console", b"console_path=issues%2F8&x=1") == ("/console/issues/8", b"x=1")
    assert mapped("/api/console") == ("/console", b"")
    assert mapped("/api/console/costs") == ("/console/costs", b"")
    assert mapped("/console/fragment/pipeline", b"console_path=fragment/pipeline") == ("/console/fragment/pipeline", b"")


def test_the_console_answers_on_the_function_path_too(console) -> None:
    response = console.get("/api/console?console_path=costs")
    assert response.status_code == 303 and response.headers["location"] == "/console/login?next=%2Fconsole%2Fcosts"
    static = console.get("/api/console?console_path=static/console.css")
    assert static.status_code == 200 and static.headers["content-type"].startswith("text/css")


def test_the_local_server_answers_the_console_and_the_webhook_side_by_side(monkeypatch) -> None:
    from fastapi.testclient import TestClient

    monkeypatch.delenv("GITHUB_SERVER_URL", raising=False)
    import api.webhooks

    with TestClient(api.webhooks.app, base_url="https://testserver", follow_redirects=False) as local:
        css = local.get("/console/static/console.css")
        assert css.status_code == 200 and "form-action 'self' https://github.com" in css.headers["content-security-policy"]
        assert local.get("/console").status_code in (303, 503)  # sign-in, or a page naming the console's missing settings
        assert local.post("/api/webhooks", content=b"{}").status_code in (401, 500)  # the webhook still answers
        assert "content-security-policy" not in local.get("/api/health").headers


def test_the_webhook_import_path_does_not_load_the_console() -> None:
    script = (
        "import sys; import api.webhooks; "
        "loaded = [name for name in sys.modules if name.startswith('osorganicai.console') or name == 'jinja2']; "
        "print(loaded); assert not loaded"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=CHILD_ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


# -- sweeper runs --------------------------------------------------------------------------------------------
def test_a_sweep_is_recorded_and_the_health_page_lists_it(console, store: Store, fake_github) -> None:
    from fastapi.testclient import TestClient

    from osorganicai.cron import create_cron_app
    from osorganicai.settings import Settings

    job_id = store.create_job(JobSpec("developer", REPOSITORY, 12))
    cron_settings = Settings.from_env({"CRON_SECRET": "cron-secret", "GITHUB_TOKEN": "t"})
    cron = TestClient(create_cron_app(Service(settings=cron_settings, store=store, github=fake_github.client())))
    assert cron.get("/api/cron/sweep", headers={"Authorization": "Bearer cron-secret"}).status_code == 200
    with store.transaction() as cursor:
        cursor.execute("select agent, action_type, payload from public.agent_actions where agent = 'sweeper'")
        rows = cursor.fetchall()
    assert len(rows) == 1 and rows[0]["action_type"] == "sweep"
    assert rows[0]["payload"]["source"] == "vercel cron" and rows[0]["payload"]["dispatched"] == 1
    assert rows[0]["payload"]["dispatched_jobs"] == [str(job_id)]
    sign_in_as(console, "octocat", VIEW)
    health = console.get("/console/health").text
    assert "vercel cron" in health and "No sweep recorded yet" not in health


def test_the_sweeper_workflows_sweep_is_recorded_too(database: str, store: Store, fake_github) -> None:
    from osorganicai.cli import run_sweep
    from osorganicai.settings import Settings

    store.create_job(JobSpec("product_owner", REPOSITORY, 5))
    server, url = fake_github.serve()
    try:
        settings = Settings.from_env({"DATABASE_URL": database, "GITHUB_TOKEN": "t", "GITHUB_API_URL": url})
        assert run_sweep(settings, limit=5) == 0
    finally:
        server.shutdown()
        server.server_close()
    with store.transaction() as cursor:
        cursor.execute("select payload from public.agent_actions where agent = 'sweeper'")
        [row] = cursor.fetchall()
    assert row["payload"]["source"] == "sweeper workflow" and row["payload"]["dispatched"] == 1
