"""Shared HTTP plumbing for the hosted providers: timeouts, retries with backoff, Retry-After, deadlines.

A call retries on timeouts, connection errors and the statuses providers use for "try again"
(408, 409, 429, 5xx, 529). It waits as the provider asks (`retry-after-ms`, `Retry-After` in
seconds or as an HTTP-date) or backs off exponentially, and never waits past the caller's
deadline: it gives up at once, saying how long the provider asked for and how long was left.
Errors carry the provider's own message, never the API key.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from .base import LLMError

RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504, 529})
MAX_BACKOFF_SECONDS = 20.0
# Without a deadline, a single wait the provider asks for is capped at this.
MAX_WAIT_WITHOUT_DEADLINE = 60.0


def post_json(
    client: httpx.Client,
    url: str,
    *,
    headers: dict[str, str],
    body: dict[str, Any],
    provider: str,
    attempts: int = 3,
    sleep: Callable[[float], None] = time.sleep,
    deadline_seconds: float | None = None,
    clock: Callable[[], float] = time.monotonic,
    wall_clock: Callable[[], float] = time.time,
    secrets: tuple[str, ...] = (),
) -> dict[str, Any]:
    """POST `body` as JSON and return the JSON answer, retrying within `attempts` and `deadline_seconds`."""
    deadline = None if deadline_seconds is None else clock() + deadline_seconds
    last_error = ""
    for attempt in range(1, attempts + 1):
        wait: float | None = None
        timeout = _attempt_timeout(client, deadline, clock, provider, last_error)
        try:
            response = client.post(url, headers=headers, json=body, timeout=timeout)
        except httpx.TimeoutException:
            last_error = "timed out" if deadline is None or deadline - clock() > 0.5 else "timed out at the deadline"
        except httpx.TransportError as error:
            last_error = f"connection failed ({error.__class__.__name__})"
        else:
            if response.is_success:
                return _json(response, provider)
            message = _redact(provider_message(response), secrets)
            if response.status_code not in RETRY_STATUSES:
                raise LLMError(f"{provider}: HTTP {response.status_code}: {message}")
            last_error = f"HTTP {response.status_code}: {message}"
            wait = retry_after_seconds(response.headers, wall_clock())
        if attempt == attempts:
            break
        asked = wait is not None
        if wait is None:
            wait = min(2.0**attempt, MAX_BACKOFF_SECONDS)
        if deadline is not None:
            left = deadline - clock()
            if wait > left:
                raise LLMError(
                    f"{provider}: {_waiting(last_error, asked)} {wait:.0f} s, more than the "
                    f"{max(left, 0):.0f} s left in the budget ({last_error})"
                )
        sleep(min(wait, MAX_WAIT_WITHOUT_DEADLINE) if deadline is None else wait)
    raise LLMError(f"{provider}: gave up after {attempts} attempts ({last_error})")


def retry_after_seconds(headers: Mapping[str, str], now: float) -> float | None:
    """How long the provider asks us to wait: `retry-after-ms`, else `Retry-After` (seconds or an HTTP-date)."""
    milliseconds = headers.get("retry-after-ms", "").strip()
    try:
        if milliseconds:
            return max(float(milliseconds) / 1000.0, 0.0)
    except ValueError:
        pass
    value = headers.get("retry-after", "").strip()
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(when.timestamp() - now, 0.0)


def provider_message(response: httpx.Response) -> str:
    """The provider's own error message: `error.message` in both OpenAI's and Anthropic's error bodies."""
    try:
        data = response.json()
    except ValueError:
        return response.text.strip()[:300] or response.reason_phrase
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])[:500]
    if isinstance(data, dict) and data.get("message"):
        return str(data["message"])[:500]
    return str(data)[:300]


def _waiting(last_error: str, asked: bool) -> str:
    if not asked:
        return "the next retry would start in"
    return "rate limited for" if last_error.startswith("HTTP 429") else "asked to wait"


def _attempt_timeout(
    client: httpx.Client, deadline: float | None, clock: Callable[[], float], provider: str, last_error: str
) -> httpx.Timeout:
    if deadline is None:
        return client.timeout
    left = deadline - clock()
    if left <= 0:
        raise LLMError(f"{provider}: no time left in the budget for another attempt ({last_error or 'no answer yet'})")
    read = min(client.timeout.read or left, left)
    return httpx.Timeout(read, connect=min(client.timeout.connect or left, left))


def _json(response: httpx.Response, provider: str) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError as error:
        raise LLMError(f"{provider}: HTTP {response.status_code} answer is not JSON") from error
    if not isinstance(data, dict):
        raise LLMError(f"{provider}: HTTP {response.status_code} answer is not a JSON object")
    return data


def _redact(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text
