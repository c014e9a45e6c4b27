"""Shared HTTP plumbing for the hosted providers: timeouts, retries with backoff, Retry-After."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from .base import LLMError

RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504, 529})


def post_json(
    client: httpx.Client,
    url: str,
    *,
    headers: dict[str, str],
    body: dict[str, Any],
    provider: str,
    attempts: int = 3,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """POST with retries on timeouts, connection errors, 429 and 5xx. Errors never echo the key."""
    last_error = ""
    for attempt in range(1, attempts + 1):
        try:
            response = client.post(url, headers=headers, json=body)
        except httpx.TimeoutException:
            last_error = "timed out"
        except httpx.TransportError as error:
            last_error = f"{error.__class__.__name__}"
        else:
            if response.is_success:
                try:
                    return response.json()
                except ValueError as error:
                    raise LLMError(f"{provider}: response is not JSON") from error
            if response.status_code not in RETRY_STATUSES:
                raise LLMError(f"{provider}: HTTP {response.status_code}: {_message(response)}")
            last_error = f"HTTP {response.status_code}"
            retry_after = response.headers.get("retry-after", "")
            if attempt < attempts and retry_after.isdigit():
                sleep(min(float(retry_after), 30.0))
                continue
        if attempt < attempts:
            sleep(min(2.0**attempt, 20.0))
    raise LLMError(f"{provider}: gave up after {attempts} attempts ({last_error})")


def _message(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200]
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        return str(error.get("message", error))[:300]
    return str(data)[:300]
