"""OpenAI-compatible chat completions (OpenAI, Ollama, vLLM, LM Studio...) over httpx."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import httpx

from .base import LLMError, LLMRequest, LLMResponse
from .http import post_json

DEFAULT_BASE_URL = "https://api.openai.com/v1"


class OpenAICompatibleProvider:
    name = "openai"

    def __init__(
        self,
        api_key: str | None,
        base_url: str | None = None,
        *,
        timeout: float = 120.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._sleep = sleep
        self._base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self._headers = {"Content-Type": "application/json"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._client = httpx.Client(timeout=httpx.Timeout(timeout, connect=10.0), transport=transport)

    def complete(self, request: LLMRequest) -> LLMResponse:
        schema_hint = json.dumps(request.json_schema, separators=(",", ":"))
        system = f"{request.system}\n\nReply with one JSON object only, matching this JSON Schema:\n{schema_hint}"
        body = {
            "model": request.model,
            "messages": [{"role": "system", "content": system}]
            + [{"role": message.role, "content": message.content} for message in request.messages],
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "response_format": {"type": "json_object"},
        }
        url = f"{self._base_url}/chat/completions"
        data = post_json(self._client, url, headers=self._headers, body=body, provider="openai", sleep=self._sleep)
        try:
            text = data["choices"][0]["message"]["content"] or ""
        except (KeyError, IndexError, TypeError) as error:
            raise LLMError("openai: unexpected response shape") from error
        usage = data.get("usage") or {}
        return LLMResponse(
            text=text,
            input_tokens=int(usage.get("prompt_tokens", 0)),
            output_tokens=int(usage.get("completion_tokens", 0)),
            model=str(data.get("model") or request.model),
        )
