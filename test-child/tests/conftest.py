"""Shared fixtures: a real PostgreSQL server started by the suite, migrated databases, fakes.

PostgreSQL is required. The server binaries are found on PATH, through `pg_config --bindir`,
or under /usr/lib/postgresql/*/bin. As root, initdb and pg_ctl run as the `postgres` system
user in a temporary directory it owns. A missing server fails the suite: it is never skipped.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from osorganicai.config import load_config
from osorganicai.db import Store
from osorganicai.settings import Settings

from .support import SECRET, FakeGitHub

CHILD_ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = sorted((CHILD_ROOT / "supabase" / "migrations").glob("*.sql"))

# What Supabase's init script does for its API roles, reduced to what matters here: the roles,
# schema usage, and default privileges that grant them everything on new objects in public.
SUPABASE_BOOTSTRAP = """
create role anon nologin noinherit;
create role authenticated nologin noinherit;
create role service_role nologin noinherit bypassrls;
grant usage on schema public to anon, authenticated, service_role;
alter default privileges in schema public grant all on tables to anon, authenticated, service_role;
alter default privileges in schema public grant all on sequences to anon, authenticated, service_role;
alter default privileges in schema public grant all on functions to anon, authenticated, service_role;
"""


def find_pg_bindir() -> Path | None:
    candidates: list[str] = []
    if found := shutil.which("pg_ctl"):
        candidates.append(str(Path(found).resolve().parent))
    if pg_config := shutil.which("pg_config"):
        result = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        candidates.append(result.stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for directory in candidates:
        if directory and (Path(directory) / "pg_ctl").exists() and (Path(directory) / "initdb").exists():
            return Path(directory)
    return None


@dataclass
class PostgresServer:
    socket_dir: str
    user: str = "postgres"

    def conninfo(self, dbname: str) -> str:
        return f"host={self.socket_dir} port=5432 user={self.user} dbname={dbname}"

    def admin(self, dbname: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(self.conninfo(dbname), autocommit=True)


def apply_migrations(conninfo: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as connection:
        for migration in MIGRATIONS:
            connection.execute(migration.read_text())


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    bindir = find_pg_bindir()
    if bindir is None:
        pytest.fail(
            "PostgreSQL server binaries (pg_ctl, initdb) not found: install PostgreSQL or put "
            "`$(pg_config --bindir)` on PATH. These tests need a real server and are never skipped."
        )
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    base = tempfile.mkdtemp(prefix="osorganic-pg-")
    data = os.path.join(base, "data")
    if as_root:
        shutil.chown(base, user="postgres", group="postgres")
    user = "postgres"
    env = {**os.environ, "LC_ALL": "C"}
    subprocess.run(
        [*prefix, str(bindir / "initdb"), "-D", data, "-U", user, "-A", "trust", "-E", "UTF8", "--no-sync"],
        check=True,
        capture_output=True,
        env=env,
    )
    options = f"-k {base} -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    start = subprocess.run(
        [*prefix, str(bindir / "pg_ctl"), "-D", data, "-l", os.path.join(base, "log"), "-o", options, "-w", "start"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if start.returncode != 0:
        log = Path(base, "log").read_text() if Path(base, "log").exists() else ""
        pytest.fail(f"PostgreSQL did not start: {start.stderr}\n{log}")
    server = PostgresServer(socket_dir=base, user=user)
    try:
        with server.admin() as admin:
            admin.execute("create database plain_postgres")
        # Plain PostgreSQL first, before the Supabase roles exist anywhere in the cluster.
        apply_migrations(server.conninfo("plain_postgres"))
        with server.admin() as admin:
            admin.execute("create database osorganic_template")
        with server.admin("osorganic_template") as connection:
            connection.execute(SUPABASE_BOOTSTRAP)
        apply_migrations(server.conninfo("osorganic_template"))
        yield server
    finally:
        subprocess.run(
            [*prefix, str(bindir / "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop"], capture_output=True, check=False
        )
        shutil.rmtree(base, ignore_errors=True)


_database_counter = itertools.count()


@pytest.fixture
def database(pg_server: PostgresServer) -> str:
    """A fresh migrated, Supabase-bootstrapped database; returns its conninfo."""
    name = f"test_{os.getpid()}_{next(_database_counter)}"
    with pg_server.admin() as admin:
        admin.execute(f'create database "{name}" template osorganic_template strategy file_copy')
    return pg_server.conninfo(name)


@pytest.fixture
def store(database: str) -> Iterator[Store]:
    store = Store(database)
    yield store
    store.close()


@pytest.fixture
def fake_github() -> FakeGitHub:
    github = FakeGitHub()
    github.add_issue(1, "Spelling error in the README file", "It looks like you accidently spelled 'commit' with two 't's.")
    return github


@pytest.fixture
def settings() -> Settings:
    return Settings.from_env(
        {
            "GITHUB_WEBHOOK_SECRET": SECRET,
            "GITHUB_TOKEN": "test-token",
            "GITHUB_REPOSITORY": "Codertocat/Hello-World",
            "OSORGANIC_BOT_LOGIN": "hello-bot[bot]",
            "LLM_PROVIDER": "offline",
        }
    )


@pytest.fixture
def runtime_config(tmp_path: Path):
    """The child's configuration as spawn writes it, in a temporary root."""
    config = tmp_path / "config"
    config.mkdir()
    (config / "agents.toml").write_text(
        '[product_owner]\nmodel = "gpt-4o-mini"\ntemperature = 0.2\nmax_tokens = 2000\n'
        'system_prompt = """You are the Product Owner."""\n'
        '[developer]\nmodel = "gpt-4o-mini"\ntemperature = 0.1\nmax_answer_tokens = 8000\n'
        'system_prompt = """You are the Developer."""\n'
        "[limits]\njob_timeout_seconds = 600\nmax_llm_calls_per_job = 6\nmax_cost_usd_per_job = 1.0\n"
    )
    (config / "domain.toml").write_text(
        '[domain]\nname = "e-commerce"\ntitle = "E-commerce"\ncontext = """Online shop."""\n'
        'conventions = ["Money is Decimal"]\nsensitive_data = ["card numbers"]\nreview_checklist = ["PCI-DSS"]\n'
    )
    return load_config(tmp_path)
