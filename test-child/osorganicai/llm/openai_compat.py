"""OpenAI-compatible Chat Completions (OpenAI, Ollama, vLLM, LM Studio...) over httpx.

`complete` asks for one JSON object with Structured Outputs (`response_format` `json_schema`,
`strict: true`, the schema made strict by `strict_schema`; JSON mode when the schema cannot be strict)
and reports a refusal, `length` and `content_filter` as neutral stop reasons; `complete_with_tools`
uses native function calling. Shapes follow openai-python's `types/chat` (completion_create_params,
chat_completion_message_tool_call, chat_completion_tool_message_param) and
`types/shared_params/response_format_json_schema`: tools are
`{"type": "function", "function": {...}}`, the assistant's calls are replayed as `tool_calls`,
and each result is one `{"role": "tool", "tool_call_id", "content"}` message.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

import httpx

from .base import (
    AssistantTurn,
    ChatMessage,
    LLMError,
    LLMRequest,
    LLMResponse,
    ToolCall,
    ToolRequest,
    ToolResponse,
    ToolResultsTurn,
    ToolSpec,
    Turn,
    model_fits,
    token_count,
)
from .http import post_json
from .strict_schema import StrictSchemaError, strict_schema

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_MODEL = "gpt-6-luna"  # same as DEFAULT_MODELS["openai"]
TOOL_ATTEMPTS = 5
# Reasoning models (o1/o3/o4, GPT-5 and later) reject `temperature` and `max_tokens`.
_REASONING_MODEL = re.compile(r"^(o[1-9]|gpt-([5-9]|[1-9]\d))", re.IGNORECASE)
FINISH_REASONS = {
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "stop": "end_turn",
    "length": "max_tokens",
    "content_filter": "content_filter",
}
EMPTY_RESULT = "(no output)"
_SCHEMA_NAME = re.compile(r"[^a-zA-Z0-9_-]")


def is_reasoning_model(model: str) -> bool:
    return bool(_REASONING_MODEL.match(model.rsplit("/", 1)[-1]))


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
        self._api_key = api_key or ""
        self._base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self._headers = {"Content-Type": "application/json"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._client = httpx.Client(timeout=httpx.Timeout(timeout, connect=10.0), transport=transport)

    def complete(self, request: LLMRequest) -> LLMResponse:
        model = self._model(request.model)
        system, response_format = structured_format(request)
        body: dict[str, Any] = {
            "model": model,
            "messages": [{"role": "system", "content": system}]
            + [{"role": message.role, "content": message.content} for message in request.messages],
            "max_completion_tokens": request.max_tokens,
            "response_format": response_format,
        }
        body.update(_temperature(model, request.temperature))
        data = self._post(body, deadline_seconds=None, attempts=3)
        return parse_structured_response(data, model)

    def complete_with_tools(self, request: ToolRequest) -> ToolResponse:
        model = self._model(request.model)
        body: dict[str, Any] = {
            "model": model,
            "messages": ([{"role": "system", "content": request.system}] if request.system else [])
            + wire_messages(request.messages),
            "max_completion_tokens": request.max_tokens,
        }
        if request.tools:
            body["tools"] = [wire_tool(tool) for tool in request.tools]
            body["tool_choice"] = "auto"
        body.update(_temperature(model, request.temperature))
        data = self._post(body, deadline_seconds=request.deadline_seconds, attempts=TOOL_ATTEMPTS)
        return parse_tool_response(data, model)

    def _model(self, model: str) -> str:
        """`model`, unless OpenAI itself is asked for a Claude model (a config written for Anthropic);
        other OpenAI-compatible servers may serve any name."""
        if self._base_url == DEFAULT_BASE_URL and not model_fits("openai", model):
            return DEFAULT_MODEL
        return model

    def _post(self, body: dict[str, Any], *, deadline_seconds: float | None, attempts: int) -> dict[str, Any]:
        return post_json(
            self._client,
            f"{self._base_url}/chat/completions",
            headers=self._headers,
            body=body,
            provider="openai",
            attempts=attempts,
            sleep=self._sleep,
            deadline_seconds=deadline_seconds,
            secrets=(self._api_key,),
        )


def _temperature(model: str, temperature: float | None) -> dict[str, float]:
    if temperature is None or is_reasoning_model(model):
        return {}
    return {"temperature": temperature}


def structured_format(request: LLMRequest) -> tuple[str, dict[str, Any]]:
    """The system prompt and `response_format` for a structured answer: Structured Outputs in strict mode
    when the schema fits strict mode's subset, else JSON mode with the schema in the prompt."""
    try:
        schema = strict_schema(request.json_schema)
    except StrictSchemaError:
        hint = json.dumps(request.json_schema, separators=(",", ":"))
        system = f"{request.system}\n\nReply with one JSON object only, matching this JSON Schema:\n{hint}"
        return system, {"type": "json_object"}
    name = _SCHEMA_NAME.sub("_", request.schema_name)[:64] or "answer"
    return request.system, {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": True}}


def parse_structured_response(data: dict[str, Any], requested_model: str) -> LLMResponse:
    """A Chat Completions answer to a structured request: its JSON text, or the refusal, with a neutral stop reason."""
    message = _first_message(data)
    refusal = message.get("refusal")
    if refusal:
        text, stop_reason = str(refusal), "refusal"
    else:
        text = str(message.get("content") or "")
        stop_reason = FINISH_REASONS.get(str(data["choices"][0].get("finish_reason")), "end_turn")
    input_tokens, output_tokens, cached = _usage(data)
    return LLMResponse(
        text=text,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        model=str(data.get("model") or requested_model),
        stop_reason=stop_reason,
        cached_input_tokens=cached,
    )


def wire_tool(tool: ToolSpec) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {"name": tool.name, "description": tool.description, "parameters": tool.parameters},
    }


def wire_messages(turns: list[Turn]) -> list[dict[str, Any]]:
    """The conversation as Chat Completions messages."""
    messages: list[dict[str, Any]] = []
    for turn in turns:
        if isinstance(turn, ChatMessage):
            messages.append({"role": turn.role, "content": turn.content})
        elif isinstance(turn, AssistantTurn):
            messages.append(_assistant_message(turn))
        elif isinstance(turn, ToolResultsTurn):
            for result in turn.results:
                content = result.content or EMPTY_RESULT
                if result.is_error:
                    content = f"error: {content}"
                messages.append({"role": "tool", "tool_call_id": result.call_id, "content": content})
            if turn.text:
                messages.append({"role": "user", "content": turn.text})
    return messages


def _assistant_message(turn: AssistantTurn) -> dict[str, Any]:
    if not turn.tool_calls:
        return {"role": "assistant", "content": turn.text or "(no reply)"}
    return {
        "role": "assistant",
        "content": turn.text or None,
        "tool_calls": [
            {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}
            for call in turn.tool_calls
        ],
    }


def parse_tool_response(data: dict[str, Any], requested_model: str) -> ToolResponse:
    """A Chat Completions answer as a provider-neutral ToolResponse."""
    message = _first_message(data)
    choice = data["choices"][0]
    calls = tuple(_tool_calls(message.get("tool_calls")))
    text = str(message.get("content") or "")
    refusal = message.get("refusal")
    if refusal:
        stop_reason, text = "refusal", str(refusal)
    else:
        stop_reason = FINISH_REASONS.get(str(choice.get("finish_reason")), "end_turn")
        if calls and stop_reason == "end_turn":
            stop_reason = "tool_use"  # some compatible servers answer "stop" with tool calls
    input_tokens, output_tokens, cached = _usage(data)
    return ToolResponse(
        text=text,
        tool_calls=calls,
        stop_reason=stop_reason,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        model=str(data.get("model") or requested_model),
        cached_input_tokens=cached,
    )


def _usage(data: dict[str, Any]) -> tuple[int, int, int]:
    """Input tokens (cached ones included), output tokens, and the cached part of the input."""
    usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
    details = usage.get("prompt_tokens_details") if isinstance(usage.get("prompt_tokens_details"), dict) else {}
    return (
        token_count(usage.get("prompt_tokens")),
        token_count(usage.get("completion_tokens")),
        token_count(details.get("cached_tokens")),
    )


def _first_message(data: dict[str, Any]) -> dict[str, Any]:
    try:
        message = data["choices"][0]["message"]
    except (KeyError, IndexError, TypeError) as error:
        raise LLMError("openai: unexpected response shape (no choices[0].message)") from error
    if not isinstance(message, dict):
        raise LLMError("openai: unexpected response shape (choices[0].message is not an object)")
    return message


def _tool_calls(raw: Any) -> list[ToolCall]:
    calls = []
    for item in raw or []:
        function = item.get("function") if isinstance(item, dict) else None
        if not isinstance(function, dict):
            continue
        arguments = function.get("arguments")
        if not isinstance(arguments, str):
            arguments = json.dumps(arguments) if arguments is not None else ""
        calls.append(ToolCall(id=str(item.get("id") or ""), name=str(function.get("name") or ""), arguments=arguments))
    return calls
