"""Local end to end: uvicorn serves the app on 127.0.0.1, a signed real payload arrives over
HTTP, the delivery lands in PostgreSQL, the job is dispatched to (fake) GitHub, and the agent
command run by the workflow makes the offline Product Owner post its comment."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from .support import SECRET, FakeGitHub, fixture_bytes, signed_headers

CHILD_ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def fake_github_server(fake_github: FakeGitHub) -> Iterator[tuple[FakeGitHub, str]]:
    server, url = fake_github.serve()
    yield fake_github, url
    server.shutdown()
    server.server_close()


def child_env(database: str, github_url: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("GITHUB_", "LLM_", "OPENAI_", "ANTHROPIC_"))}
    env.update(
        {
            "GITHUB_WEBHOOK_SECRET": SECRET,
            "DATABASE_URL": database,
            "GITHUB_TOKEN": "test-token",
            "GITHUB_REPOSITORY": "Codertocat/Hello-World",
            "GITHUB_API_URL": github_url,
            "OSORGANIC_BOT_LOGIN": "hello-bot[bot]",
            "LLM_PROVIDER": "offline",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    return env


@pytest.fixture
def served_app(database: str, fake_github_server) -> Iterator[str]:
    _, github_url = fake_github_server
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "api.webhooks:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=CHILD_ROOT,
        env=child_env(database, github_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            httpx.get(f"{base}/api/health", timeout=1)
            break
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                output = process.stdout.read().decode() if process.stdout else ""
                pytest.fail(f"uvicorn did not start:\n{output}")
            time.sleep(0.1)
    yield base
    process.terminate()
    process.wait(timeout=10)


def test_signed_delivery_over_http_reaches_the_database_and_the_offline_product_owner(
    served_app: str, database: str, fake_github_server
) -> None:
    fake_github, github_url = fake_github_server
    body = fixture_bytes("issues.opened.payload.json")
    headers = signed_headers(body, "issues", "e2e-1")
    response = httpx.post(f"{served_app}/api/webhooks", content=body, headers=headers, timeout=10)
    assert response.status_code == 202, response.text
    job_id = response.json()["job"]
    assert response.json()["dispatched"] is True

    with psycopg.connect(database) as connection:
        assert connection.execute("select delivery_id, event, action from webhook_events").fetchall() == [
            ("e2e-1", "issues", "opened")
        ]
        assert connection.execute("select id::text, status from jobs").fetchall() == [(job_id, "dispatched")]
    dispatch = next(call for call in fake_github.calls if call.path.endswith("/dispatches"))
    assert dispatch.body["client_payload"] == {"job_id": job_id, "issue": 1}

    # What the agent workflow runs for the dispatched job.
    result = subprocess.run(
        [sys.executable, "-m", "osorganicai", "product-owner", "--issue", "1", "--job-id", job_id],
        cwd=CHILD_ROOT,
        env=child_env(database, github_url),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    comment = next(call for call in fake_github.calls if call.method == "POST" and call.path.endswith("/issues/1/comments"))
    assert "offline provider" in comment.body["body"] and "1. " in comment.body["body"]
    assert fake_github.labels(1) == ["needs-clarification"]
    with psycopg.connect(database) as connection:
        assert connection.execute("select status from jobs").fetchall() == [("succeeded",)]


def test_cli_names_a_missing_setting_without_a_stack_trace(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "GITHUB_REPOSITORY"}}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    checkout = tmp_path / "checkout"
    subprocess.run(["git", "init", "-q", str(checkout)], check=True)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "osorganicai",
            "developer",
            "--issue",
            "3",
            "--out",
            str(tmp_path / "proposal"),
            "--checkout",
            str(checkout),
        ],
        cwd=CHILD_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "missing setting GITHUB_REPOSITORY" in result.stderr and "Traceback" not in result.stderr
