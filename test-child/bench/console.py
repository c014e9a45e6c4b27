"""Measure the console's pages with a long history: server time and weight of each page.

Seeds 1,000 issues and 50,000 agent actions (with their deliveries, jobs, Developer runs, pull
requests and conversations, spread over 30 days and every stage) into a real PostgreSQL, then asks
the console app in-process for each page, its live fragment (a fresh answer and a 304) and its
assets, and prints the median and p95 server time and the bytes of HTML, JavaScript and CSS.

The database is a temporary PostgreSQL server bootstrapped and migrated as the tests do (`tests/
conftest.py`: the same Supabase roles and the same migrations), or DATABASE_URL when it is set
(an empty, migrated database: the seed adds to it). Usage: python bench/console.py [repeats]
"""

from __future__ import annotations

import gzip
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402

from osorganicai.console import auth  # noqa: E402
from osorganicai.console.app import create_console_app  # noqa: E402
from osorganicai.console.context import PACKAGE  # noqa: E402
from osorganicai.db import Store  # noqa: E402
from osorganicai.service import Service  # noqa: E402
from osorganicai.settings import Settings  # noqa: E402
from tests.conftest import SUPABASE_BOOTSTRAP, apply_migrations, find_pg_bindir  # noqa: E402

REPOSITORY = "bench/shop"
ISSUES = 1_000
ACTIONS = 50_000
SESSION_SECRET = "b" * 40

SEED = """
-- one delivery per issue, carrying its title
insert into public.webhook_events (delivery_id, event, action, repository, issue_number, sender_login, payload, outcome,
                                   outcome_detail, received_at)
select 'bench-' || n, 'issues', 'opened', %(repo)s, n, 'owner',
       jsonb_build_object('issue', jsonb_build_object('number', n, 'title', 'Bench issue number ' || n)),
       case when n %% 17 = 0 then 'ignored' else 'queued' end,
       case when n %% 17 = 0 then 'refused: not from someone who steers' else 'issue opened: Product Owner' end,
       now() - make_interval(hours => (n %% 720))
from generate_series(1, %(issues)s) as n;

-- a Product Owner job for every issue, a Developer job for 7 in 10, a failed one for 1 in 10
insert into public.jobs (kind, status, repository, issue_number, attempts, created_at, finished_at, last_error)
select 'product_owner', 'succeeded', %(repo)s, n, 1,
       now() - make_interval(hours => (n %% 720)), now() - make_interval(hours => (n %% 720)), null
from generate_series(1, %(issues)s) as n;
insert into public.jobs (kind, status, repository, issue_number, attempts, created_at, started_at, finished_at, last_error)
select 'developer',
       case when n %% 10 = 3 then 'failed' when n %% 10 = 4 then 'running' else 'succeeded' end,
       %(repo)s, n, 1,
       now() - make_interval(hours => (n %% 720)) + interval '20 minutes',
       now() - make_interval(hours => (n %% 720)) + interval '21 minutes',
       case when n %% 10 = 4 then null else now() - make_interval(hours => (n %% 720)) + interval '40 minutes' end,
       case when n %% 10 = 3 then 'the provider answered 529: overloaded' end
from generate_series(1, %(issues)s) as n where n %% 10 between 2 and 8;

-- a published Developer run for 5 in 10, with checks
insert into public.code_generations (repository, issue_number, status, branch, pull_request_number, pull_request_url, files,
  provider, model, input_tokens, output_tokens, cost_usd, proposal_status, checks, check_rounds, steps, minutes, detail,
  created_at)
select %(repo)s, n, 'published', 'feature/issue-' || n, 10000 + n, 'https://github.com/bench/shop/pull/' || (10000 + n),
       '["shop/module.py", "tests/test_module.py"]'::jsonb, 'openai', case when n %% 3 = 0 then 'gpt-4.1' else 'gpt-4o-mini' end,
       40000 + n * 7, 3000 + n, round((0.01 + (n %% 50) / 100.0)::numeric, 6),
       case when n %% 10 = 6 then 'checks_failing' else 'ready' end,
       '[{"name": "pytest", "command": "python -m pytest -q", "exit_code": 0, "passed": true, "timed_out": false,
          "duration_seconds": 4.2, "output_tail": "12 passed", "round": 1}]'::jsonb,
       1, 20 + n %% 30, 5 + n %% 20, 'published as pull request',
       now() - make_interval(hours => (n %% 720)) + interval '40 minutes'
from generate_series(1, %(issues)s) as n where n %% 10 between 5 and 9;

insert into public.pull_request_states (repository, issue_number, pull_number, branch, state)
select %(repo)s, n, 10000 + n, 'feature/issue-' || n,
       case when n %% 10 = 8 then 'done' when n %% 10 = 9 then 'abandoned' else 'open' end
from generate_series(1, %(issues)s) as n where n %% 10 between 5 and 9;

insert into public.conversations (repository, issue_number, role, author_login, content, created_at)
select %(repo)s, n, case when k = 2 then 'assistant' else 'user' end, case when k = 2 then null else 'owner' end,
       'message ' || k || ' about issue ' || n, now() - make_interval(hours => (n %% 720)) + make_interval(mins => k)
from generate_series(1, %(issues)s) as n, generate_series(1, 3) as k;

-- 50 actions per issue: model calls, then the decisions that move each issue's stage
insert into public.agent_actions (agent, action_type, repository, issue_number, payload, created_at)
select case when k <= 44 then 'product_owner'
            when k = 45 then 'product_owner'
            else 'lifecycle' end,
       case when k <= 44 then 'llm_call'
            when k = 45 then case when n %% 10 = 0 then 'asked_questions' else 'marked_ready' end
            when k = 46 then case when n %% 10 = 7 then 'ready_for_review' else 'review_ignored' end
            when k = 47 then case when n %% 10 = 8 then 'done' when n %% 10 = 9 then 'abandoned' else 'approved' end
            when k = 48 then case when n %% 10 = 1 then 'needs_human'
                                  when n %% 10 = 8 then 'deployed' else 'deployment_checked' end
            else 'review_ignored' end,
       %(repo)s, n,
       case when k <= 44 then jsonb_build_object('provider', 'openai', 'model', 'gpt-4o-mini', 'input_tokens', 1000 + k,
                                                  'output_tokens', 200 + k, 'cost_usd', 0.0003,
                                                  'schema_name', 'product_owner_analysis')
            else jsonb_build_object('pull_request', 10000 + n, 'by', 'owner', 'health', '200 ok') end,
       now() - make_interval(hours => (n %% 720)) + make_interval(mins => k)
from generate_series(1, %(issues)s) as n, generate_series(1, %(per_issue)s) as k;

insert into public.agent_actions (agent, action_type, payload, created_at)
select 'sweeper', 'sweep', jsonb_build_object('source', 'vercel cron', 'dispatched', s %% 3), now() - make_interval(hours => s)
from generate_series(1, 30) as s;
"""


@contextmanager
def temporary_database() -> Iterator[str]:
    """A PostgreSQL server of its own, bootstrapped and migrated as tests/conftest.py does."""
    bindir = find_pg_bindir()
    if bindir is None:
        sys.exit("PostgreSQL server binaries (pg_ctl, initdb) not found: install PostgreSQL or set DATABASE_URL")
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    base = tempfile.mkdtemp(prefix="osorganic-bench-pg-")
    if as_root:
        shutil.chown(base, user="postgres", group="postgres")
    data = os.path.join(base, "data")
    env = {**os.environ, "LC_ALL": "C"}
    subprocess.run(
        [*prefix, str(bindir / "initdb"), "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"],
        check=True,
        capture_output=True,
        env=env,
    )
    options = f"-k {base} -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    subprocess.run(
        [*prefix, str(bindir / "pg_ctl"), "-D", data, "-l", os.path.join(base, "log"), "-o", options, "-w", "start"],
        check=True,
        capture_output=True,
        env=env,
    )
    conninfo = f"host={base} port=5432 user=postgres dbname=postgres"
    try:
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(SUPABASE_BOOTSTRAP)
        apply_migrations(conninfo)
        yield conninfo
    finally:
        subprocess.run(
            [*prefix, str(bindir / "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop"], capture_output=True, check=False
        )
        shutil.rmtree(base, ignore_errors=True)


def seed(conninfo: str) -> float:
    started = time.perf_counter()
    with psycopg.connect(conninfo, autocommit=True) as connection:
        for statement in (part for part in SEED.split(";\n") if part.strip()):
            connection.execute(statement, {"repo": REPOSITORY, "issues": ISSUES, "per_issue": ACTIONS // ISSUES})
        connection.execute("analyze")
        counts = connection.execute(
            "select (select count(*) from public.agent_actions where repository = %s), "
            "(select count(distinct issue_number) from public.jobs where repository = %s)",
            (REPOSITORY, REPOSITORY),
        ).fetchone()
    print(f"seeded {counts[1]} issues and {counts[0]} agent actions in {time.perf_counter() - started:.1f} s")
    return time.perf_counter() - started


def timed(client: TestClient, path: str, repeats: int, headers: dict[str, str] | None = None) -> tuple[list[float], int, int]:
    times = []
    size = status = 0
    client.get(path, headers=headers)  # warm: templates compiled, pool open
    for _ in range(repeats):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        size, status = len(response.content), response.status_code
    return times, size, status


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def measure(conninfo: str, repeats: int) -> None:
    settings = Settings.from_env(
        {
            "DATABASE_URL": conninfo,
            "GITHUB_REPOSITORY": REPOSITORY,
            "GITHUB_OAUTH_CLIENT_ID": "bench",
            "GITHUB_OAUTH_CLIENT_SECRET": "bench-secret",
            "CONSOLE_SESSION_SECRET": SESSION_SECRET,
        }
    )
    store = Store(conninfo)
    client = TestClient(
        create_console_app(Service(settings=settings, store=store)), base_url="https://bench", follow_redirects=False
    )
    session = auth.Session.start("owner", auth.ACT)
    client.cookies.set(auth.SESSION_COOKIE, session.cookie_value(SESSION_SECRET.encode()), path="/console")
    print(f"\n{'page':<34} {'median ms':>10} {'p95 ms':>8} {'bytes':>9} {'gzip':>7}  status")
    pages = [
        ("Pipeline", "/console"),
        ("Issue (#507, 50 actions)", "/console/issues/507"),
        ("Costs (30 days)", "/console/costs"),
        ("Health", "/console/health"),
        ("Pipeline fragment", "/console/fragment/pipeline"),
        ("Issue fragment", "/console/fragment/issues/507"),
    ]
    for name, path in pages:
        times, size, status = timed(client, path, repeats)
        body = client.get(path).content
        print(
            f"{name:<34} {statistics.median(times):>10.1f} {p95(times):>8.1f} {size:>9,} {len(gzip.compress(body)):>7,}  {status}"
        )
    for name, path in [
        ("Pipeline fragment, unchanged (304)", "/console/fragment/pipeline"),
        ("Issue fragment, unchanged (304)", "/console/fragment/issues/507"),
    ]:
        etag = client.get(path).headers["etag"]
        times, size, status = timed(client, path, repeats, {"If-None-Match": etag})
        print(f"{name:<34} {statistics.median(times):>10.1f} {p95(times):>8.1f} {size:>9,} {'':>7}  {status}")
    for asset in ("console.js", "console.css"):
        raw = (PACKAGE / "static" / asset).read_bytes()
        print(f"{asset:<34} {'':>10} {'':>8} {len(raw):>9,} {len(gzip.compress(raw)):>7,}")
    store.close()


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    if os.environ.get("DATABASE_URL"):
        seed(os.environ["DATABASE_URL"])
        measure(os.environ["DATABASE_URL"], repeats)
        return
    with temporary_database() as conninfo:
        seed(conninfo)
        measure(conninfo, repeats)


if __name__ == "__main__":
    main()
