"""Anthropic's Messages API over httpx."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import httpx

from .base import LLMError, LLMRequest, LLMResponse
from .http import post_json

DEFAULT_BASE_URL = "https://api.anthropic.com"
ANTHROPIC_VERSION = "2023-06-01"


class AnthropicProvider:
    name = "anthropic"

    def __init__(
        self,
        api_key: str,
        base_url: str | None = None,
        *,
        timeout: float = 120.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._sleep = sleep
        self._base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self._headers = {
            "x-api-key": api_key,
            "anthropic-version": ANTHROPIC_VERSION,
            "content-type": "application/json",
        }
        self._client = httpx.Client(timeout=httpx.Timeout(timeout, connect=10.0), transport=transport)

    def complete(self, request: LLMRequest) -> LLMResponse:
        schema_hint = json.dumps(request.json_schema, separators=(",", ":"))
        body = {
            "model": request.model,
            "system": f"{request.system}\n\nReply with one JSON object only, matching this JSON Schema:\n{schema_hint}",
            "messages": [{"role": message.role, "content": message.content} for message in request.messages],
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
        }
        url = f"{self._base_url}/v1/messages"
        data = post_json(self._client, url, headers=self._headers, body=body, provider="anthropic", sleep=self._sleep)
        try:
            text = "".join(block.get("text", "") for block in data["content"] if block.get("type") == "text")
        except (KeyError, TypeError, AttributeError) as error:
            raise LLMError("anthropic: unexpected response shape") from error
        usage = data.get("usage") or {}
        return LLMResponse(
            text=text,
            input_tokens=int(usage.get("input_tokens", 0)),
            output_tokens=int(usage.get("output_tokens", 0)),
            model=str(data.get("model") or request.model),
        )
