"""Anthropic's Messages API over httpx.

`complete` asks for one JSON object through tool use: one tool whose `input_schema` is the answer's
schema, forced with `tool_choice: {"type": "tool", "name"}`; `stop_reason` `max_tokens` and `refusal`
come back as neutral stop reasons. `complete_with_tools` uses native tool use. `anthropic-version` is
2023-06-01, the current version of the Messages API. Shapes follow anthropic-sdk-python's `types`
(message_create_params, tool_choice_tool_param, tool_use_block, tool_result_block_param, usage):
tools are `{"name", "description", "input_schema"}`, the assistant's calls are replayed as `tool_use`
blocks and their results as `tool_result` blocks in ONE user message. The API rejects an empty
assistant turn, so none is ever sent; the system prompt and the tool list are marked for prompt caching.
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

DEFAULT_BASE_URL = "https://api.anthropic.com"
ANTHROPIC_VERSION = "2023-06-01"
DEFAULT_MODEL = "claude-sonnet-5-5"  # same as DEFAULT_MODELS["anthropic"]
TOOL_ATTEMPTS = 5
CACHE = {"type": "ephemeral"}
STOP_REASONS = {
    "tool_use": "tool_use",
    "end_turn": "end_turn",
    "stop_sequence": "end_turn",
    "pause_turn": "end_turn",
    "max_tokens": "max_tokens",
    "model_context_window_exceeded": "max_tokens",
    "refusal": "refusal",
}
NO_REPLY = "(no reply)"
EMPTY_RESULT = "(no output)"
_TOOL_NAME = re.compile(r"[^a-zA-Z0-9_-]")
# Claude 3 and 4.x accept `temperature`; from the 5 family on, non-default sampling settings are a 400.
_ACCEPTS_TEMPERATURE = re.compile(r"^claude-(3|[a-z]+-4\b|[a-z]+-4-)", re.IGNORECASE)


def anthropic_model(model: str) -> str:
    """`model`, unless it names another provider's model: then Anthropic's default."""
    return model if model_fits("anthropic", model) else DEFAULT_MODEL


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
        self._api_key = api_key
        self._base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self._headers = {
            "x-api-key": api_key,
            "anthropic-version": ANTHROPIC_VERSION,
            "content-type": "application/json",
        }
        self._client = httpx.Client(timeout=httpx.Timeout(timeout, connect=10.0), transport=transport)
        # The exact content blocks of each answer that asked for tools, keyed by its call ids, so
        # the turn is replayed unmodified (thinking blocks included, as the API requires).
        self._answered: dict[tuple[str, ...], list[dict[str, Any]]] = {}

    def complete(self, request: LLMRequest) -> LLMResponse:
        model = anthropic_model(request.model)
        tool = structured_tool(request)
        body: dict[str, Any] = {
            "model": model,
            "max_tokens": request.max_tokens,
            "messages": [{"role": message.role, "content": message.content or NO_REPLY} for message in request.messages]
            or [{"role": "user", "content": NO_REPLY}],
            "tools": [tool],
            "tool_choice": {"type": "tool", "name": tool["name"]},
        }
        if request.system:
            body["system"] = [{"type": "text", "text": request.system, "cache_control": CACHE}]
        body.update(_temperature(model, request.temperature))
        data = self._post(body, deadline_seconds=None, attempts=3)
        return parse_structured_response(data, model, tool["name"])

    def complete_with_tools(self, request: ToolRequest) -> ToolResponse:
        model = anthropic_model(request.model)
        body: dict[str, Any] = {
            "model": model,
            "max_tokens": request.max_tokens,
            "messages": wire_messages(request.messages, self._answered),
        }
        if request.system:
            body["system"] = [{"type": "text", "text": request.system, "cache_control": CACHE}]
        if request.tools:
            body["tools"] = wire_tools(request.tools)
        body.update(_temperature(model, request.temperature))
        data = self._post(body, deadline_seconds=request.deadline_seconds, attempts=TOOL_ATTEMPTS)
        response = parse_tool_response(data, model)
        if response.tool_calls:
            self._answered[tuple(call.id for call in response.tool_calls)] = _content(data)
        return response

    def _post(self, body: dict[str, Any], *, deadline_seconds: float | None, attempts: int) -> dict[str, Any]:
        return post_json(
            self._client,
            f"{self._base_url}/v1/messages",
            headers=self._headers,
            body=body,
            provider="anthropic",
            attempts=attempts,
            sleep=self._sleep,
            deadline_seconds=deadline_seconds,
            secrets=(self._api_key,),
        )


def _temperature(model: str, temperature: float | None) -> dict[str, float]:
    if temperature is None or not _ACCEPTS_TEMPERATURE.match(model):
        return {}
    return {"temperature": temperature}


def structured_tool(request: LLMRequest) -> dict[str, Any]:
    """The one tool a structured answer is asked through: its input schema is the answer's schema."""
    schema = dict(request.json_schema)
    if schema.get("type", "object") != "object":
        raise LLMError(
            f"anthropic: a structured answer is a tool's input, which must be an object; the {request.schema_name} "
            f"schema has type {schema['type']!r}"
        )
    schema.setdefault("type", "object")
    return {
        "name": _TOOL_NAME.sub("_", request.schema_name)[:64] or "answer",
        "description": f"Give your answer as one {request.schema_name} object; this is the only way to answer.",
        "input_schema": schema,
        "cache_control": CACHE,
    }


def parse_structured_response(data: dict[str, Any], requested_model: str, tool_name: str) -> LLMResponse:
    """A Messages API answer to a structured request: the forced tool's input as JSON text (else the text
    blocks), with a neutral stop reason (`tool_use` is an answer: `end_turn`)."""
    blocks = _content(data)
    text = "".join(str(block.get("text", "")) for block in blocks if block.get("type") == "text")
    answers = [block for block in blocks if block.get("type") == "tool_use" and block.get("name") == tool_name]
    stop_reason = STOP_REASONS.get(str(data.get("stop_reason")), "end_turn")
    if answers and stop_reason != "refusal":
        text = json.dumps(answers[0].get("input"))
    if stop_reason == "tool_use":
        stop_reason = "end_turn"
    input_tokens, output_tokens, cached = _usage(data)
    return LLMResponse(
        text=text,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        model=str(data.get("model") or requested_model),
        stop_reason=stop_reason,
        cached_input_tokens=cached,
    )


def wire_tools(tools: list[ToolSpec]) -> list[dict[str, Any]]:
    """The tool list, its last entry marked as the end of the cached prefix."""
    wired: list[dict[str, Any]] = [
        {"name": tool.name, "description": tool.description, "input_schema": tool.parameters} for tool in tools
    ]
    wired[-1]["cache_control"] = CACHE
    return wired


def wire_messages(turns: list[Turn], answered: dict[tuple[str, ...], list[dict[str, Any]]] | None = None) -> list[dict[str, Any]]:
    """The conversation as Messages API turns: roles alternate, no turn is empty."""
    messages: list[dict[str, Any]] = []
    for turn in turns:
        if isinstance(turn, ChatMessage):
            role, blocks = turn.role, _text_blocks(turn.content)
        elif isinstance(turn, AssistantTurn):
            role, blocks = "assistant", _assistant_blocks(turn, answered or {})
        elif isinstance(turn, ToolResultsTurn):
            role, blocks = "user", _result_blocks(turn)
        else:
            raise LLMError(f"anthropic: cannot send a conversation turn of type {type(turn).__name__}")
        if messages and messages[-1]["role"] == role:
            messages[-1]["content"].extend(blocks)  # the API wants roles to alternate: merge
        else:
            messages.append({"role": role, "content": blocks})
    for message in messages:
        if not message["content"]:
            message["content"] = [{"type": "text", "text": NO_REPLY}]
    return messages


def _text_blocks(text: str) -> list[dict[str, Any]]:
    return [{"type": "text", "text": text}] if text.strip() else []


def _assistant_blocks(turn: AssistantTurn, answered: dict[tuple[str, ...], list[dict[str, Any]]]) -> list[dict[str, Any]]:
    original = answered.get(tuple(call.id for call in turn.tool_calls)) if turn.tool_calls else None
    if original is not None:
        return [_replayable(block) for block in original]
    blocks = _text_blocks(turn.text)
    blocks += [{"type": "tool_use", "id": call.id, "name": call.name, "input": _input(call)} for call in turn.tool_calls]
    return blocks or [{"type": "text", "text": NO_REPLY}]


def _replayable(block: dict[str, Any]) -> dict[str, Any]:
    if block.get("type") == "tool_use" and not isinstance(block.get("input"), dict):
        return {**block, "input": {}}
    return dict(block)


def _input(call: ToolCall) -> dict[str, Any]:
    """The call's arguments as an object; anything else is replayed as `{}` (its error result told the model)."""
    try:
        value = json.loads(call.arguments)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _result_blocks(turn: ToolResultsTurn) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [
        {
            "type": "tool_result",
            "tool_use_id": result.call_id,
            "content": result.content or EMPTY_RESULT,
            "is_error": result.is_error,
        }
        for result in turn.results
    ]
    return blocks + _text_blocks(turn.text)


def parse_tool_response(data: dict[str, Any], requested_model: str) -> ToolResponse:
    """A Messages API answer as a provider-neutral ToolResponse. `input_tokens` counts all input,
    cache reads and writes included; `cached_input_tokens` is the part read from the cache."""
    blocks = _content(data)
    text = "".join(str(block.get("text", "")) for block in blocks if block.get("type") == "text")
    calls = tuple(
        ToolCall(id=str(block.get("id", "")), name=str(block.get("name", "")), arguments=json.dumps(block.get("input", {})))
        for block in blocks
        if block.get("type") == "tool_use"
    )
    stop_reason = STOP_REASONS.get(str(data.get("stop_reason")), "tool_use" if calls else "end_turn")
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
    """All input tokens (uncached, cache reads and cache writes), output tokens, and the cache reads."""
    usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
    cache_read = token_count(usage.get("cache_read_input_tokens"))
    cache_write = token_count(usage.get("cache_creation_input_tokens"))
    return token_count(usage.get("input_tokens")) + cache_read + cache_write, token_count(usage.get("output_tokens")), cache_read


def _content(data: dict[str, Any]) -> list[dict[str, Any]]:
    content = data.get("content")
    if not isinstance(content, list) or not all(isinstance(block, dict) for block in content):
        raise LLMError("anthropic: unexpected response shape (content is not a list of blocks)")
    return content
