"""Measure the runtime's performance figures on this machine.

1. Cold import time of `api/webhooks.py` (`python -X importtime`, in a fresh interpreter).
2. p50/p99 latency of signed webhook POSTs against uvicorn on 127.0.0.1.
3. The answer time with `webhook_events` locked by another session (GitHub gives 10 s): each
   POST must come back 503 with `Retry-After` within the store's lock timeout plus a little.

Needs DATABASE_URL pointing at a migrated database (deliveries are really stored; the
`ping` event is used so no job is dispatched). Requests are bounded in count and time and go
to 127.0.0.1 only. Usage: DATABASE_URL=... python bench/webhook_latency.py [requests]
"""

from __future__ import annotations

import os
import re
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from osorganicai.signature import sign  # noqa: E402

SECRET = "bench-secret"
PING = ROOT / "tests" / "fixtures" / "github-webhooks" / "ping.payload.json"


def cold_import_ms() -> float:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import api.webhooks"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    line = [entry for entry in result.stderr.splitlines() if re.search(r"\|\s*api\.webhooks$", entry)][-1]
    return int(line.split("|")[1]) / 1000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def served_webhook() -> Iterator[str]:
    """uvicorn serving api.webhooks:app on 127.0.0.1; yields the webhook URL."""
    port = free_port()
    env = {**os.environ, "GITHUB_WEBHOOK_SECRET": SECRET, "PYTHONDONTWRITEBYTECODE": "1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.webhooks:app", "--port", str(port), "--host", "127.0.0.1", "--log-level", "error"],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(100):
            try:
                httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=10)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/api/webhooks"
    finally:
        server.terminate()
        server.wait(timeout=10)


def ping_headers(body: bytes) -> dict[str, str]:
    return {
        "X-Hub-Signature-256": sign(SECRET.encode(), body),
        "X-GitHub-Event": "ping",
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "Content-Type": "application/json",
    }


def latency(count: int, max_seconds: float = 120.0) -> tuple[float, float]:
    body = PING.read_bytes()
    timings: list[float] = []
    with served_webhook() as url, httpx.Client(timeout=10) as client:
        deadline = time.monotonic() + max_seconds
        for index in range(count + 10):
            started = time.perf_counter()
            response = client.post(url, content=body, headers=ping_headers(body))
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                raise SystemExit(f"unexpected {response.status_code}: {response.text}")
            if index >= 10:  # the first requests open the database pool
                timings.append(elapsed)
            if time.monotonic() > deadline:
                break
    quantiles = statistics.quantiles(timings, n=100)
    return quantiles[49], quantiles[98]


def locked_table_ms(count: int = 5) -> list[float]:
    """Answer times of POSTs while another session holds `webhook_events` in access exclusive mode."""
    import psycopg

    body = PING.read_bytes()
    timings: list[float] = []
    with served_webhook() as url, httpx.Client(timeout=30) as client:
        client.post(url, content=body, headers=ping_headers(body))  # open the pool first
        with psycopg.connect(os.environ["DATABASE_URL"]) as locker:
            locker.execute("set idle_in_transaction_session_timeout = '60s'")
            locker.execute("lock table public.webhook_events in access exclusive mode")
            for _ in range(count):
                started = time.perf_counter()
                response = client.post(url, content=body, headers=ping_headers(body))
                timings.append((time.perf_counter() - started) * 1000)
                if response.status_code != 503 or "retry-after" not in response.headers:
                    raise SystemExit(f"expected 503 with Retry-After, got {response.status_code}: {response.text}")
    return timings


def main() -> None:
    if not os.environ.get("DATABASE_URL"):
        raise SystemExit("missing setting DATABASE_URL: point it at a migrated database")
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    imports = sorted(cold_import_ms() for _ in range(5))
    print(f"cold import of api/webhooks.py: median {imports[2]:.1f} ms (min {imports[0]:.1f}, max {imports[-1]:.1f})")
    p50, p99 = latency(count)
    print(f"signed webhook POST over {count} requests: p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    locked = sorted(locked_table_ms())
    print(
        f"webhook_events locked: 503 with Retry-After in median {locked[len(locked) // 2]:.0f} ms "
        f"(min {locked[0]:.0f}, max {locked[-1]:.0f}; GitHub waits 10000)"
    )


if __name__ == "__main__":
    main()
