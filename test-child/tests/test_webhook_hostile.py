"""POST /api/webhooks under hostile input and a failing database: never a 5xx for bad input, always an answer in time.

Bodies are signed with the right secret unless a test says otherwise, so each reaches the check it is about.
The slow-client and oversized-header tests talk to a real uvicorn on 127.0.0.1 over a raw socket.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from osorganicai.db import Store
from osorganicai.service import Service
from osorganicai.settings import Settings
from osorganicai.signature import sign
from osorganicai.webhook import MAX_JSON_DEPTH, RETRY_AFTER_SECONDS, create_app

from .support import FIXTURES, SECRET, FakeGitHub, fixture_bytes, signed_headers

GITHUB_DEADLINE_SECONDS = 10.0


@pytest.fixture
def client(settings: Settings, store: Store, fake_github: FakeGitHub) -> TestClient:
    github = fake_github.client(max_attempts=1, max_rate_limit_wait=0)
    return TestClient(create_app(Service(settings=settings, store=store, github=github)))


def rows(database: str, sql: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(database) as connection:
        return connection.execute(sql, params).fetchall()


def post_signed(client: TestClient, body: bytes, delivery: str, event: str = "issues", **extra: str):
    headers = {**signed_headers(body, event, delivery), **extra}
    return client.post("/api/webhooks", content=body, headers=headers)


@contextmanager
def served(app: FastAPI) -> Iterator[int]:
    """`app` on a real uvicorn at 127.0.0.1 in a thread; yields the port."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def raw_request(port: int, head: bytes, body_parts: list[bytes], pause: float, timeout: float) -> tuple[bytes, float]:
    """Send `head`, then each part of the body `pause` seconds apart; return what came back and when.

    A server may answer and close before it reads the whole request (a 431 for huge headers); the
    connection reset that follows is part of that answer, so it ends the sending, not the test.
    """
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(head)
        except (BrokenPipeError, ConnectionResetError):
            body_parts = []
        received = b""
        for part in body_parts:
            try:
                sock.sendall(part)
            except (BrokenPipeError, ConnectionResetError):
                break  # the server answered and closed before reading the body: read what it said
            time.sleep(pause)
            sock.setblocking(False)
            try:
                received += sock.recv(65536)
            except BlockingIOError:
                pass
            except ConnectionResetError:
                break
            finally:
                sock.setblocking(True)
            if received:
                break
        sock.settimeout(max(0.1, timeout - (time.monotonic() - started)))
        try:
            while b"\r\n\r\n" not in received:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received += chunk
        except (TimeoutError, ConnectionResetError):
            pass
    return received, time.monotonic() - started


# -- a locked or unreachable database --------------------------------------------------------------
@pytest.mark.parametrize("table", ["webhook_events", "jobs"])
def test_a_locked_table_answers_503_within_10_s_and_the_redelivery_is_stored(
    client: TestClient, database: str, table: str
) -> None:
    body = fixture_bytes("issues.opened.payload.json")
    with psycopg.connect(database) as locker:
        # Should the webhook wait for the lock, it gets it after 15 s and the test fails instead of hanging.
        locker.execute("set idle_in_transaction_session_timeout = '15s'")
        locker.execute(f"lock table public.{table} in access exclusive mode")
        started = time.monotonic()
        response = post_signed(client, body, "locked-1")
        elapsed = time.monotonic() - started
    assert response.status_code == 503, response.text
    assert elapsed < GITHUB_DEADLINE_SECONDS, f"answered after {elapsed:.1f} s"
    assert response.headers["retry-after"] == str(RETRY_AFTER_SECONDS)
    assert "accepted when it is redelivered" in response.json()["error"]
    assert rows(database, "select count(*) from webhook_events") == [(0,)]  # all or nothing
    redelivered = post_signed(client, body, "locked-1")
    assert redelivered.status_code == 202 and redelivered.json()["kind"] == "product_owner"
    assert rows(database, "select delivery_id, outcome from webhook_events") == [("locked-1", "queued")]
    assert rows(database, "select kind from jobs") == [("product_owner",)]


def test_a_locked_table_over_real_http_is_answered_within_10_s(settings: Settings, store: Store, database: str) -> None:
    app = create_app(Service(settings=settings, store=store))
    body = fixture_bytes("ping.payload.json")
    headers = signed_headers(body, "ping", "locked-http")
    head = (
        "POST /api/webhooks HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        + "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        + f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    with served(app) as port, psycopg.connect(database) as locker:
        locker.execute("set idle_in_transaction_session_timeout = '15s'")
        locker.execute("lock table public.webhook_events in access exclusive mode")
        answer, elapsed = raw_request(port, head, [body], pause=0, timeout=GITHUB_DEADLINE_SECONDS + 5)
    assert answer.startswith(b"HTTP/1.1 503"), answer[:200]
    assert elapsed < GITHUB_DEADLINE_SECONDS, f"answered after {elapsed:.1f} s"


def test_concurrent_deliveries_on_a_locked_table_are_all_answered_within_10_s(
    settings: Settings, store: Store, database: str
) -> None:
    """More deliveries than pooled connections: those waiting for a connection are bounded too."""
    import httpx

    app = create_app(Service(settings=settings, store=store))
    body = fixture_bytes("ping.payload.json")
    answers: list[tuple[int, float]] = []
    with served(app) as port, psycopg.connect(database) as locker:
        locker.execute("set idle_in_transaction_session_timeout = '15s'")
        locker.execute("lock table public.webhook_events in access exclusive mode")

        def deliver(index: int) -> None:
            started = time.monotonic()
            response = httpx.post(
                f"http://127.0.0.1:{port}/api/webhooks",
                content=body,
                headers=signed_headers(body, "ping", f"crowd-{index}"),
                timeout=GITHUB_DEADLINE_SECONDS + 5,
            )
            answers.append((response.status_code, time.monotonic() - started))

        threads = [threading.Thread(target=deliver, args=(index,)) for index in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert [status for status, _ in answers] == [503] * 8
    slowest = max(elapsed for _, elapsed in answers)
    assert slowest < GITHUB_DEADLINE_SECONDS, f"slowest answer after {slowest:.1f} s"


def test_an_unreachable_database_answers_503_within_10_s(settings: Settings, tmp_path) -> None:
    nowhere = Store(f"host={tmp_path} port=5432 user=postgres dbname=none")
    client = TestClient(create_app(Service(settings=settings, store=nowhere)))
    try:
        started = time.monotonic()
        response = post_signed(client, fixture_bytes("ping.payload.json"), "down-1", event="ping")
        elapsed = time.monotonic() - started
    finally:
        nowhere.close()
    assert response.status_code == 503 and response.headers["retry-after"]
    assert elapsed < GITHUB_DEADLINE_SECONDS, f"answered after {elapsed:.1f} s"


# -- bodies that are not a UTF-8 JSON object ----------------------------------------------------------
ISSUE = fixture_bytes("issues.opened.payload.json")


def nested(depth: int) -> bytes:
    """An object whose innermost value sits `depth` containers deep (the top object counts as 1)."""
    return b'{"a": ' + b"[" * (depth - 1) + b"1" + b"]" * (depth - 1) + b"}"


MALFORMED = {
    "empty": (b"", "empty"),
    "whitespace": (b"  \r\n", "empty"),
    "utf-8 byte order mark": (b"\xef\xbb\xbf" + ISSUE, "byte order mark"),
    "utf-16 with a byte order mark": (ISSUE.decode().encode("utf-16"), "UTF-16"),
    "utf-16-le without one": (ISSUE.decode().encode("utf-16-le"), "UTF-16"),
    "utf-16-be without one": (ISSUE.decode().encode("utf-16-be"), "UTF-16"),
    "utf-32": (b'{"a": 1}'.decode().encode("utf-32"), "UTF-16 or UTF-32"),
    "a NUL character": (b'{"a": "\x00"}', "not valid JSON"),
    "gzip without a content encoding": (b"\x1f\x8b\x08\x00" + ISSUE[:40], "not valid UTF-8"),
    "invalid utf-8": (b'{"action": "opened\xff"}', "not valid UTF-8"),
    "overlong utf-8": (b'{"action": "\xc0\xaf"}', "not valid UTF-8"),
    "NaN": (b'{"action": "opened", "x": NaN}', "NaN"),
    "Infinity": (b'{"x": Infinity}', "Infinity"),
    "-Infinity": (b'{"x": [-Infinity]}', "-Infinity"),
    "float overflow": (b'{"x": 1e400}', "too large for a double"),
    "integer of 2**64": (b'{"x": 18446744073709551616}', "outside 64 bits"),
    "integer below -2**63": (b'{"x": -9223372036854775809}', "outside 64 bits"),
    "integer of 5000 digits": (b'{"x": ' + b"9" * 5000 + b"}", "outside 64 bits"),
    f"nesting of {MAX_JSON_DEPTH + 1}": (nested(MAX_JSON_DEPTH + 1), "deeper than"),
    "nesting of 5000": (nested(5000), "deeper than"),
    "nesting of 200000": (b"[" * 200_000 + b"]" * 200_000, "deeper than"),
    "unclosed nesting": (b'{"a": ' + b"[" * 100_000, "JSON"),
    "lone surrogate": (b'{"body": "\\ud800"}', "surrogate"),
    "lone surrogate in a key": (b'{"\\udfff": 1}', "surrogate"),
    "array": (b"[1, 2]", "array, not an object"),
    "string": (b'"issues"', "string, not an object"),
    "number": (b"42", "number, not an object"),
    "null": (b"null", "null, not an object"),
    "boolean": (b"true", "boolean, not an object"),
    "truncated": (ISSUE[:-20], "not valid JSON"),
    "trailing garbage": (b'{"a": 1} {"b": 2}', "not valid JSON"),
    "single quotes": (b"{'a': 1}", "not valid JSON"),
}


def test_a_body_that_is_not_a_utf8_json_object_answers_400_with_the_reason(client: TestClient, database: str) -> None:
    wrong = []
    for name, (body, reason) in MALFORMED.items():
        response = post_signed(client, body, f"bad-{name}".replace(" ", "-"))
        if response.status_code != 400 or reason not in response.json().get("error", ""):
            wrong.append((name, response.status_code, response.text[:200]))
    assert wrong == []
    assert rows(database, "select count(*) from webhook_events") == [(0,)]


@pytest.mark.parametrize("name", ["NaN", "utf-16 with a byte order mark", "nesting of 5000", "array"])
def test_the_signature_is_checked_before_the_body(client: TestClient, database: str, name: str) -> None:
    body, _ = MALFORMED[name]
    response = client.post(
        "/api/webhooks", content=body, headers=signed_headers(body, "issues", "unsigned", secret="not the secret")
    )
    assert response.status_code == 401


def test_the_limits_themselves_are_accepted(client: TestClient, database: str) -> None:
    deep = nested(MAX_JSON_DEPTH)
    edges = b'{"max": 9223372036854775807, "min": -9223372036854775808, "float": 1.7976931348623157e308, "nul": "a\\u0000b"}'
    assert post_signed(client, deep, "deep-ok").status_code == 200
    assert post_signed(client, edges, "edges-ok").status_code == 200
    assert rows(database, "select payload->'max', payload->>'nul' from webhook_events where delivery_id = 'edges-ok'") == [
        (9223372036854775807, "ab")
    ]


# -- content types ---------------------------------------------------------------------------------
def test_other_content_types_answer_415(client: TestClient, database: str) -> None:
    for content_type in ["text/plain", "application/xml", "multipart/form-data; boundary=x", "", "text/json"]:
        response = post_signed(client, ISSUE, "ctype", **{"Content-Type": content_type})
        assert response.status_code == 415, content_type
        assert "set the webhook's content type to application/json" in response.json()["error"]
    for charset in ["utf-16", "latin-1", '"UTF-32"']:
        response = post_signed(client, ISSUE, "charset", **{"Content-Type": f"application/json; charset={charset}"})
        assert response.status_code == 415 and "GitHub sends UTF-8" in response.json()["error"], charset
    unset = client.post(
        "/api/webhooks", content=ISSUE, headers={**signed_headers(ISSUE, "issues", "none")} | {"Content-Type": ""}
    )
    assert unset.status_code == 415 and "'none'" in unset.json()["error"]
    assert rows(database, "select count(*) from webhook_events") == [(0,)]


def test_a_compressed_body_answers_415(client: TestClient, database: str) -> None:
    import gzip

    body = gzip.compress(ISSUE)
    response = post_signed(client, body, "gzip", **{"Content-Encoding": "gzip"})
    assert response.status_code == 415 and "uncompressed" in response.json()["error"]
    assert post_signed(client, ISSUE, "identity", **{"Content-Encoding": "identity"}).status_code == 202


def test_json_with_a_utf8_charset_parameter_is_accepted(client: TestClient) -> None:
    response = post_signed(client, ISSUE, "charset", **{"Content-Type": "Application/JSON; charset=UTF-8"})
    assert response.status_code == 202


def form_body(payload: bytes) -> bytes:
    return urllib.parse.urlencode({"payload": payload.decode()}).encode()


def test_githubs_form_encoding_is_parsed_and_the_signature_covers_the_form_body(client: TestClient, database: str) -> None:
    body = form_body(ISSUE)
    headers = {**signed_headers(body, "issues", "form-1"), "Content-Type": "application/x-www-form-urlencoded"}
    response = client.post("/api/webhooks", content=body, headers=headers)
    assert response.status_code == 202 and response.json()["kind"] == "product_owner"
    assert rows(database, "select payload = %s::jsonb from webhook_events", (ISSUE.decode(),)) == [(True,)]
    # A signature over the JSON alone is not GitHub's: it signs the body as sent.
    forged = {**headers, "X-GitHub-Delivery": "form-2", "X-Hub-Signature-256": sign(SECRET.encode(), ISSUE)}
    assert client.post("/api/webhooks", content=body, headers=forged).status_code == 401


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"other=1", "exactly one payload= field, found 0"),
        (b"payload=%7B%7D&payload=%7B%7D", "exactly one payload= field, found 2"),
        (b"payload=%FF", "not valid URL encoding of UTF-8"),
        (b"payload=\xff", "not valid URL encoding of UTF-8"),
        (b"payload", "not valid URL encoding"),
        (b"payload=%5B1%5D", "array, not an object"),
        (b"payload=%7B%22x%22%3A%20NaN%7D", "NaN"),
    ],
)
def test_a_bad_form_body_answers_400(client: TestClient, body: bytes, reason: str) -> None:
    response = post_signed(client, body, "form-bad", **{"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 400 and reason in response.json()["error"], response.text


# -- headers and methods ---------------------------------------------------------------------------
BAD_HEADERS = [
    {"X-GitHub-Event": ""},
    {"X-GitHub-Delivery": ""},
    {"X-GitHub-Delivery": "d" * 201},
    {"X-GitHub-Delivery": "d" * 8000},
    {"X-GitHub-Event": "i" * 65},
    {"X-GitHub-Event": "Issues"},
    {"X-GitHub-Event": "issues; drop table jobs"},
    {"X-GitHub-Delivery": "white space"},
    {"X-GitHub-Delivery": "déjà".encode()},
    {"X-GitHub-Event": "ïssues".encode("latin-1")},
    {"X-GitHub-Delivery": "\u2603".encode()},
]


def test_missing_huge_or_non_ascii_delivery_headers_answer_400(client: TestClient, database: str) -> None:
    for headers in BAD_HEADERS:
        sent = {**signed_headers(ISSUE, "issues", "ok-delivery"), **headers}
        sent = {name: value for name, value in sent.items() if value != ""}
        response = client.post("/api/webhooks", content=ISSUE, headers=sent)
        assert response.status_code == 400 and "X-GitHub-" in response.json()["error"], headers
    assert rows(database, "select count(*) from webhook_events") == [(0,)]


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
def test_other_methods_answer_405(client: TestClient, method: str) -> None:
    assert client.request(method, "/api/webhooks").status_code == 405
    assert client.request(method if method != "GET" else "POST", "/api/health").status_code == 405


def test_type_confused_payloads_never_answer_5xx(client: TestClient) -> None:
    replacements = [None, True, 7, "x", [], {}, [1, "a"], {"number": "1"}, -1, 2**63 - 1]
    failures = []
    for name in sorted(path.name for path in FIXTURES.glob("*.json")):
        original = json.loads(fixture_bytes(name))
        event = name.split(".", 1)[0]
        for key in list(original)[:12]:
            for index, replacement in enumerate(replacements):
                payload = {**original, key: replacement}
                body = json.dumps(payload).encode()
                response = post_signed(client, body, f"{name}-{key}-{index}", event=event)
                if response.status_code >= 500:
                    failures.append((name, key, replacement, response.status_code, response.text[:200]))
    assert failures == []


# -- a slow client and oversized headers, against a real server -----------------------------------------
def test_a_body_that_trickles_in_is_cut_off_with_408(settings: Settings, store: Store) -> None:
    app = create_app(Service(settings=settings, store=store), body_timeout=1.0)
    head = (
        b"POST /api/webhooks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"X-GitHub-Event: issues\r\nX-GitHub-Delivery: slow-1\r\nContent-Length: 1000\r\n\r\n"
    )
    with served(app) as port:
        answer, elapsed = raw_request(port, head, [b"{"] * 20, pause=0.25, timeout=8)
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert 0.9 < elapsed < 4, f"cut off after {elapsed:.1f} s"
        assert b"connection: close" in answer.lower()
        body = fixture_bytes("ping.payload.json")
        headers = signed_headers(body, "ping", "after-slow")
        quick_head = (
            "POST /api/webhooks HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            + "".join(f"{name}: {value}\r\n" for name, value in headers.items())
            + f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        answer, _ = raw_request(port, quick_head, [body], pause=0, timeout=8)
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]  # the server still serves others


def test_headers_too_large_are_refused_by_the_server_not_answered_500(settings: Settings, store: Store) -> None:
    app = create_app(Service(settings=settings, store=store))
    head = (
        b"POST /api/webhooks HTTP/1.1\r\nHost: 127.0.0.1\r\nX-GitHub-Event: issues\r\n"
        b"X-GitHub-Delivery: " + b"d" * 200_000 + b"\r\nContent-Length: 2\r\n\r\n"
    )
    with served(app) as port:
        answer, _ = raw_request(port, head, [b"{}"], pause=0, timeout=8)
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0
    assert 400 <= status < 500 or answer == b"", answer[:200]


# -- the configured repository ------------------------------------------------------------------------
def test_without_github_repository_events_are_refused_stored_and_health_names_it(
    store: Store, database: str, fake_github: FakeGitHub
) -> None:
    settings = Settings.from_env({"GITHUB_WEBHOOK_SECRET": SECRET, "GITHUB_TOKEN": "t", "OSORGANIC_BOT_LOGIN": "b[bot]"})
    client = TestClient(create_app(Service(settings=settings, store=store, github=fake_github.client())))
    response = post_signed(client, ISSUE, "unset-1")
    assert response.status_code == 200 and response.json()["status"] == "ignored"
    assert "GITHUB_REPOSITORY is not set" in response.json()["reason"]
    assert rows(database, "select outcome, outcome_detail like '%%GITHUB_REPOSITORY is not set%%' from webhook_events") == [
        ("ignored", True)
    ]
    assert rows(database, "select count(*) from jobs") == [(0,)] and fake_github.paths("POST") == []
    assert post_signed(client, fixture_bytes("ping.payload.json"), "unset-ping", event="ping").json()["status"] == "pong"
    health = client.get("/api/health")
    assert health.status_code == 503 and health.json()["status"] == "misconfigured"
    assert "GITHUB_REPOSITORY" in health.json()["misconfigured"] and "GITHUB_REPOSITORY" in health.json()["missing_settings"]


def test_a_malformed_github_repository_is_reported_the_same_way(store: Store, database: str) -> None:
    settings = Settings.from_env({"GITHUB_WEBHOOK_SECRET": SECRET, "GITHUB_REPOSITORY": "just-a-name"})
    client = TestClient(create_app(Service(settings=settings, store=store)))
    response = post_signed(client, ISSUE, "bad-repo-1")
    assert response.status_code == 200 and "invalid setting GITHUB_REPOSITORY" in response.json()["reason"]
    health = client.get("/api/health").json()
    assert health["status"] == "misconfigured" and "owner/repo" in health["misconfigured"]["GITHUB_REPOSITORY"]


def test_events_from_another_repository_are_refused_and_stored_as_ignored(
    store: Store, database: str, fake_github: FakeGitHub
) -> None:
    settings = Settings.from_env(
        {"GITHUB_WEBHOOK_SECRET": SECRET, "GITHUB_TOKEN": "t", "GITHUB_REPOSITORY": "someone/else", "LLM_PROVIDER": "offline"}
    )
    client = TestClient(create_app(Service(settings=settings, store=store, github=fake_github.client())))
    for delivery, name in [("other-1", "issues.opened.payload.json"), ("other-2", "issue_comment.created.payload.json")]:
        response = post_signed(client, fixture_bytes(name), delivery, event=name.split(".", 1)[0])
        assert response.status_code == 200 and response.json()["status"] == "ignored"
        assert "Codertocat/Hello-World is not GITHUB_REPOSITORY (someone/else)" in response.json()["reason"]
    assert rows(database, "select outcome from webhook_events order by id") == [("ignored",), ("ignored",)]
    assert rows(database, "select count(*) from jobs") == [(0,)] and fake_github.paths("POST") == []


def test_the_configured_repository_matches_whatever_its_case(store: Store, database: str, fake_github: FakeGitHub) -> None:
    settings = Settings.from_env(
        {"GITHUB_WEBHOOK_SECRET": SECRET, "GITHUB_TOKEN": "t", "GITHUB_REPOSITORY": "codertocat/hello-world"}
    )
    client = TestClient(create_app(Service(settings=settings, store=store, github=fake_github.client())))
    assert post_signed(client, ISSUE, "case-1").status_code == 202


# -- the hand-off after storing --------------------------------------------------------------------
def test_a_delivery_stored_late_leaves_the_dispatch_to_the_sweeper(
    client: TestClient, database: str, fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    from osorganicai import webhook

    monkeypatch.setattr(webhook, "HAND_OFF_MIN_SECONDS", 100.0)
    response = post_signed(client, ISSUE, "late-1")
    assert response.status_code == 202 and response.json()["dispatched"] is False
    assert "sweeper" in response.json()["detail"]
    assert rows(database, "select status from jobs") == [("pending",)] and fake_github.paths("POST") == []


def test_a_database_failure_after_the_dispatch_still_acknowledges(
    client: TestClient, database: str, store: Store, fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    from osorganicai.db import StoreBusyError

    def locked(job_id) -> None:
        raise StoreBusyError("database busy: LockNotAvailable")

    monkeypatch.setattr(store, "mark_dispatched", locked)
    response = post_signed(client, ISSUE, "unmarked-1")
    assert response.status_code == 202 and response.json()["dispatched"] is False
    assert "not recorded" in response.json()["detail"]
    assert rows(database, "select status from jobs") == [("pending",)]


def test_cron_sweep_reports_jobs_timed_out_and_a_busy_database(store: Store, database: str, fake_github: FakeGitHub) -> None:
    from osorganicai.cron import create_cron_app
    from osorganicai.db import JobSpec

    settings = Settings.from_env({"CRON_SECRET": "cron-secret", "GITHUB_TOKEN": "t"})
    client = TestClient(create_cron_app(Service(settings=settings, store=store, github=fake_github.client())))
    stuck = store.create_job(JobSpec("product_owner", "Codertocat/Hello-World", 1))
    store.start_job(stuck)
    with psycopg.connect(database) as connection:
        connection.execute("update public.jobs set started_at = now() - interval '1 day'")
    authorised = {"Authorization": "Bearer cron-secret"}
    response = client.get("/api/cron/sweep", headers=authorised)
    assert response.status_code == 200 and response.json()["timed_out"] == [str(stuck)]
    with psycopg.connect(database) as locker:
        locker.execute("set idle_in_transaction_session_timeout = '15s'")
        locker.execute("lock table public.jobs in access exclusive mode")
        started = time.monotonic()
        busy = client.get("/api/cron/sweep", headers=authorised)
        assert time.monotonic() - started < GITHUB_DEADLINE_SECONDS
    assert busy.status_code == 503 and "next sweep" in busy.json()["error"]
