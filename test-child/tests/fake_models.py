"""A scripted language model behind a real local HTTP server, speaking OpenAI Chat Completions and
Anthropic Messages, so tests drive the production httpx code of the providers.

The server keeps every request it receives, validates each one as the real API would (auth header,
required fields, tool calls answered, roles alternating, no empty assistant turns, parameters that
reasoning models reject, OpenAI's `response_format` with strict Structured Outputs schemas, Anthropic's
`tool_choice`) and answers invalid ones with HTTP 400 in the provider's error shape. Valid requests are
answered by the next step of the script: a `Say`, or a function of the `Exchange` that returns one; a
`Say(answer=...)` answers a structured request (OpenAI: JSON content; Anthropic: a `tool_use` block).
Failures and late answers can be queued to test retries and timeouts.
"""

from __future__ import annotations

import itertools
import json
import re
import select
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

from osorganicai.llm import LLMProvider
from osorganicai.llm.anthropic import AnthropicProvider
from osorganicai.llm.openai_compat import OpenAICompatibleProvider

Wire = Literal["openai", "anthropic"]
OPENAI_KEY = "sk-test-openai-key"
ANTHROPIC_KEY = "sk-ant-test-key"
DEFAULT_MODEL = {"openai": "gpt-6-luna", "anthropic": "claude-sonnet-5-5"}
# Reasoning models reject max_tokens and non-default temperatures (o-series, GPT-5 and later).
_OPENAI_REASONING = re.compile(r"^(o[1-9]|gpt-([5-9]|[1-9]\d))")
# Claude models from the 5 family on answer 400 to a non-default temperature.
_ANTHROPIC_SAMPLING = re.compile(r"^claude-(3|[a-z]+-4\b|[a-z]+-4-)")
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
OPENAI_ERROR_TYPES = {401: "invalid_request_error", 404: "invalid_request_error", 429: "requests"}
ANTHROPIC_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}


@dataclass
class Say:
    """One scripted model turn. `tool_calls` are (tool name, arguments): a dict is sent as JSON, a string
    as-is (OpenAI: the raw `arguments` text, e.g. malformed JSON; Anthropic: `input` becomes that JSON
    string, which is not an object). `stop` is neutral: "max_tokens", "refusal", "end_turn",
    "content_filter" (default: tool_use when there are tool calls, else end_turn). `thinking` (Anthropic):
    the answer opens with a signed thinking block, and the server then requires the assistant turn to be
    replayed starting with that exact block, as the real API does while thinking is on. `answer` is a structured
    answer: OpenAI sends it as the message content (a dict as JSON text, a string as-is), Anthropic as the
    `input` of a `tool_use` block for the tool the request forced with `tool_choice` (a string that is JSON is
    parsed first)."""

    tool_calls: list[tuple[str, dict[str, Any] | str]] = field(default_factory=list)
    text: str = ""
    stop: str | None = None
    input_tokens: int = 1000
    output_tokens: int = 100
    cached_input_tokens: int = 0
    thinking: str = ""  # Anthropic only: answer with a signed thinking block first, which must be replayed
    answer: dict[str, Any] | str | None = None  # a structured answer (see above)


@dataclass
class Exchange:
    """What a callable step sees: the request body, and the latest user turn's tool results and text."""

    request: dict[str, Any]
    tool_results: list[str]
    last_user_text: str


Step = Say | Callable[[Exchange], Say]


class InvalidRequest(Exception):
    def __init__(self, message: str, status: int = 400, code: str | None = None, param: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.param = param


@dataclass
class _Failure:
    status: int
    headers: dict[str, str]
    message: str | None


class ScriptedModel:
    """A context manager: the server runs between `__enter__` and `__exit__`."""

    def __init__(self, wire: Wire, script: Sequence[Step], *, model: str | None = None) -> None:
        if wire not in DEFAULT_MODEL:
            raise ValueError(f"wire must be 'openai' or 'anthropic', not {wire!r}")
        self.wire: Wire = wire
        self.model = model or DEFAULT_MODEL[wire]
        self.base_url = ""
        self.requests: list[dict[str, Any]] = []  # every parsed request body, failed and invalid ones included
        self.headers: list[dict[str, str]] = []  # their headers (names lower-cased)
        self.answered: int = 0  # requests answered by a step of the script
        self.slept: list[float] = []  # what `provider()`'s sleep was asked to wait
        self._script: list[Step] = list(script)
        self._exchanges: list[Exchange] = []
        self._failures: list[_Failure] = []
        self._delays: list[float] = []
        self._ids = itertools.count(1)
        self._signatures: dict[str, str] = {}  # signature -> thinking text, for the blocks this server signed
        self._thinking_for_call: dict[str, str] = {}  # tool_use id -> signature of the thinking block before it
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # -- control -------------------------------------------------------------------------------
    def __enter__(self) -> ScriptedModel:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        root = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.base_url = f"{root}/v1" if self.wire == "openai" else root
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def fail_next(
        self, status: int, *, times: int = 1, headers: dict[str, str] | None = None, message: str | None = None
    ) -> None:
        """Answer the next `times` requests with `status` (in the provider's error shape) and `headers`."""
        with self._lock:
            self._failures += [_Failure(status, dict(headers or {}), message) for _ in range(times)]

    def delay_next(self, seconds: float) -> None:
        """Answer the next request `seconds` late. If the client gave up meanwhile, the request is not answered
        and its step stays next in the script."""
        with self._lock:
            self._delays.append(seconds)

    def provider(self, **kwargs: Any) -> LLMProvider:
        """The real provider for this wire, pointed at this server, with a sleep that only records."""
        kwargs.setdefault("sleep", self.slept.append)
        if self.wire == "openai":
            return OpenAICompatibleProvider(OPENAI_KEY, self.base_url, **kwargs)
        return AnthropicProvider(ANTHROPIC_KEY, self.base_url, **kwargs)

    def exchanges(self) -> list[Exchange]:
        """One per request the script answered, in order."""
        with self._lock:
            return list(self._exchanges)

    @property
    def remaining(self) -> int:
        return len(self._script)

    # -- one request ---------------------------------------------------------------------------
    def handle(self, path: str, headers: dict[str, str], raw: bytes, client_gone: Callable[[], bool]) -> _Answer | None:
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            body = None
        with self._lock:
            self.requests.append(body if isinstance(body, dict) else {"_unparsed": raw.decode(errors="replace")})
            self.headers.append(headers)
            delay = self._delays.pop(0) if self._delays else 0.0
        if delay:
            time.sleep(delay)
            if client_gone():
                return None
        with self._lock:
            if self._failures:
                failure = self._failures.pop(0)
                return self._error(failure.status, failure.message or _failure_message(failure.status), failure.headers)
            try:
                self._check_path(path)
                self._check_headers(headers)
                if not isinstance(body, dict):
                    raise InvalidRequest("the request body is not a JSON object")
                if self.wire == "openai":
                    validate_openai(body)
                else:
                    validate_anthropic(body)
                    self._check_thinking(body["messages"])
                if not self._script:
                    raise InvalidRequest(f"scripted model: the script is exhausted after {self.answered} answers")
                step = self._script.pop(0)
            except InvalidRequest as error:
                return self._error(error.status, str(error), {}, code=error.code, param=error.param)
            exchange = exchange_of(self.wire, body)
            self._exchanges.append(exchange)
            self.answered += 1
        say = step(exchange) if callable(step) else step
        with self._lock:
            payload = self._openai_answer(say) if self.wire == "openai" else self._anthropic_answer(say, body)
        return _Answer(200, payload, {})

    def _check_path(self, path: str) -> None:
        expected = "/v1/chat/completions" if self.wire == "openai" else "/v1/messages"
        if path.split("?", 1)[0] != expected:
            raise InvalidRequest(f"no route for POST {path} (this fake serves POST {expected})", status=404)

    def _check_headers(self, headers: dict[str, str]) -> None:
        if self.wire == "openai":
            token = headers.get("authorization", "").removeprefix("Bearer ").strip()
            if not token:
                raise InvalidRequest(
                    "You didn't provide an API key. You need to provide your API key in an Authorization header "
                    "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                    status=401,
                )
            if token != OPENAI_KEY:
                raise InvalidRequest("Incorrect API key provided.", status=401, code="invalid_api_key")
            return
        if headers.get("x-api-key") != ANTHROPIC_KEY:
            raise InvalidRequest("invalid x-api-key", status=401)
        if not headers.get("anthropic-version"):
            raise InvalidRequest("anthropic-version: header is required")

    def _check_thinking(self, messages: list[dict[str, Any]]) -> None:
        for index, message in enumerate(messages):
            content = message.get("content")
            blocks = content if isinstance(content, list) else []
            for number, block in enumerate(blocks):
                if block.get("type") == "thinking" and self._signatures.get(block.get("signature", "")) != block.get("thinking"):
                    raise InvalidRequest(f"messages.{index}.content.{number}: Invalid `signature` in `thinking` block")
            if message.get("role") != "assistant" or index != len(messages) - 2:
                continue
            signatures = {
                self._thinking_for_call.get(str(block.get("id"))) for block in blocks if block.get("type") == "tool_use"
            }
            signatures.discard(None)
            first = blocks[0] if blocks else {}
            if signatures and (first.get("type") != "thinking" or first.get("signature") not in signatures):
                raise InvalidRequest(
                    f"messages.{index}.content.0.type: Expected `thinking` or `redacted_thinking`, but found "
                    f"`{first.get('type')}`. When `thinking` is enabled, a final `assistant` message must start with "
                    "a thinking block (preceeding the lastmost set of `tool_use` and `tool_result` blocks)."
                )

    def _error(
        self, status: int, message: str, headers: dict[str, str], *, code: str | None = None, param: str | None = None
    ) -> _Answer:
        if self.wire == "openai":
            kind = OPENAI_ERROR_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
            return _Answer(status, {"error": {"message": message, "type": kind, "param": param, "code": code}}, headers)
        kind = ANTHROPIC_ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
        return _Answer(status, {"type": "error", "error": {"type": kind, "message": message}}, headers)

    def _openai_answer(self, say: Say) -> dict[str, Any]:
        calls = [
            {
                "id": f"call_{next(self._ids):06d}",
                "type": "function",
                "function": {"name": name, "arguments": arguments if isinstance(arguments, str) else json.dumps(arguments)},
            }
            for name, arguments in say.tool_calls
        ]
        stop = say.stop or ("tool_use" if calls else "end_turn")
        refused = stop == "refusal"
        content = say.text or None
        if say.answer is not None:
            content = say.answer if isinstance(say.answer, str) else json.dumps(say.answer)
        message: dict[str, Any] = {
            "role": "assistant",
            "content": None if refused else content,
            "refusal": say.text if refused else None,
        }
        if calls:
            message["tool_calls"] = calls
        finish = {"tool_use": "tool_calls", "end_turn": "stop", "max_tokens": "length", "refusal": "stop"}.get(stop, stop)
        return {
            "id": f"chatcmpl-{next(self._ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.model,
            "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
            "usage": {
                "prompt_tokens": say.input_tokens,
                "completion_tokens": say.output_tokens,
                "total_tokens": say.input_tokens + say.output_tokens,
                "prompt_tokens_details": {"cached_tokens": say.cached_input_tokens},
            },
        }

    def _anthropic_answer(self, say: Say, request: dict[str, Any]) -> dict[str, Any]:
        content: list[dict[str, Any]] = []
        signature = ""
        if say.thinking:
            signature = f"sig_{next(self._ids):06d}"
            self._signatures[signature] = say.thinking
            content.append({"type": "thinking", "thinking": say.thinking, "signature": signature})
        if say.text:
            content.append({"type": "text", "text": say.text})
        for name, arguments in say.tool_calls:
            tool_input = json.loads(arguments) if isinstance(arguments, str) and _is_json(arguments) else arguments
            call_id = f"toolu_{next(self._ids):06d}"
            if signature:
                self._thinking_for_call[call_id] = signature
            content.append({"type": "tool_use", "id": call_id, "name": name, "input": tool_input})
        if say.answer is not None:
            answer = json.loads(say.answer) if isinstance(say.answer, str) and _is_json(say.answer) else say.answer
            forced = request.get("tool_choice") or {}
            name = forced.get("name") or next((tool.get("name") for tool in request.get("tools") or []), "answer")
            content.append({"type": "tool_use", "id": f"toolu_{next(self._ids):06d}", "name": name, "input": answer})
        stop = say.stop or ("tool_use" if say.tool_calls or say.answer is not None else "end_turn")
        return {
            "id": f"msg_{next(self._ids):06d}",
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": {
                "input_tokens": say.input_tokens - say.cached_input_tokens,
                "output_tokens": say.output_tokens,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": say.cached_input_tokens,
            },
        }


@dataclass
class _Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


def _handler(model: ScriptedModel) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            headers = {name.lower(): value for name, value in self.headers.items()}
            answer = model.handle(self.path, headers, raw, self._client_gone)
            if answer is None:
                return
            payload = json.dumps(answer.body).encode()
            try:
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                return

        def _client_gone(self) -> bool:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if not readable:
                return False
            try:
                return self.connection.recv(1, socket.MSG_PEEK) == b""
            except OSError:
                return True

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


def _failure_message(status: int) -> str:
    if status == 429:
        return "Rate limit reached: please try again later."
    if status == 529:
        return "Overloaded"
    if status >= 500:
        return "The server had an error while processing your request."
    return f"scripted failure (HTTP {status})"


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


# -- what a step sees --------------------------------------------------------------------------
def exchange_of(wire: Wire, body: dict[str, Any]) -> Exchange:
    messages = body.get("messages") or []
    if wire == "openai":
        last_assistant = max((i for i, m in enumerate(messages) if m.get("role") == "assistant"), default=-1)
        tail = messages[last_assistant + 1 :]
        results = [_text(m.get("content")) for m in tail if m.get("role") == "tool"]
        user_text = "\n".join(_text(m.get("content")) for m in tail if m.get("role") == "user")
        return Exchange(body, results, user_text)
    last = messages[-1] if messages else {}
    if last.get("role") != "user":
        return Exchange(body, [], "")
    content = last.get("content")
    if isinstance(content, str):
        return Exchange(body, [], content)
    results = [_text(block.get("content")) for block in content if block.get("type") == "tool_result"]
    user_text = "\n".join(block.get("text", "") for block in content if block.get("type") == "text")
    return Exchange(body, results, user_text)


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


# -- validation as the real APIs do it ---------------------------------------------------------
def validate_openai(body: dict[str, Any]) -> None:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise InvalidRequest("you must provide a model parameter", param="model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise InvalidRequest("[] is too short - 'messages'", param="messages")
    if _OPENAI_REASONING.match(model):
        if "max_tokens" in body:
            raise InvalidRequest(
                "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
                code="unsupported_parameter",
                param="max_tokens",
            )
        if body.get("temperature", 1) != 1:
            raise InvalidRequest(
                f"Unsupported value: 'temperature' does not support {body['temperature']} with this model. "
                "Only the default (1) value is supported.",
                code="unsupported_value",
                param="temperature",
            )
    _validate_openai_tools(body)
    _validate_openai_response_format(body.get("response_format"), messages)
    _validate_openai_messages(messages)


def _validate_openai_tools(body: dict[str, Any]) -> None:
    tools = body.get("tools")
    if tools is None:
        if "tool_choice" in body:
            raise InvalidRequest("Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.")
        return
    if not isinstance(tools, list) or not tools:
        raise InvalidRequest("Invalid 'tools': empty array. Expected an array with minimum length 1.", param="tools")
    for index, tool in enumerate(tools):
        function = tool.get("function") if isinstance(tool, dict) else None
        if tool.get("type") != "function" or not isinstance(function, dict):
            raise InvalidRequest(f"Missing required parameter: 'tools[{index}].function'.", param=f"tools[{index}]")
        if not _TOOL_NAME.match(str(function.get("name", ""))):
            raise InvalidRequest(f"Invalid 'tools[{index}].function.name': string does not match pattern.")
        if not isinstance(function.get("parameters", {}), dict):
            raise InvalidRequest(f"Invalid 'tools[{index}].function.parameters': expected an object.")


def _validate_openai_response_format(response_format: Any, messages: list[Any]) -> None:
    if response_format is None:
        return
    kind = response_format.get("type") if isinstance(response_format, dict) else None
    if kind not in {"text", "json_object", "json_schema"}:
        raise InvalidRequest(
            f"Invalid value: '{kind}'. Supported values are: 'text', 'json_object', and 'json_schema'.",
            param="response_format.type",
            code="invalid_value",
        )
    if kind == "json_object" and "json" not in json.dumps(messages).lower():
        raise InvalidRequest(
            "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
            param="messages",
        )
    if kind != "json_schema":
        return
    spec = response_format.get("json_schema")
    if not isinstance(spec, dict):
        raise InvalidRequest("Missing required parameter: 'response_format.json_schema'.", param="response_format.json_schema")
    name = spec.get("name")
    if not isinstance(name, str) or not _TOOL_NAME.match(name):
        raise InvalidRequest(
            "Invalid 'response_format.json_schema.name': string does not match pattern. Expected a string that matches "
            "the pattern '^[a-zA-Z0-9_-]+$'.",
            param="response_format.json_schema.name",
            code="invalid_value",
        )
    schema = spec.get("schema")
    if not isinstance(schema, dict):
        raise InvalidRequest("Invalid type for 'response_format.json_schema.schema': expected an object.")
    if spec.get("strict") is True:
        check_strict_schema(schema, name)


# The keywords strict Structured Outputs accept (OpenAI's Structured Outputs guide, "Supported schemas").
STRICT_KEYWORDS = frozenset(
    {
        *("type", "properties", "required", "additionalProperties", "items", "anyOf", "enum", "const", "$ref", "$defs"),
        *("definitions", "title", "description", "pattern", "format", "multipleOf", "minimum", "maximum"),
        *("exclusiveMinimum", "exclusiveMaximum", "minItems", "maxItems"),
    }
)
STRICT_MAX_DEPTH = 10


def check_strict_schema(schema: dict[str, Any], name: str) -> None:
    """Reject what strict mode rejects, with OpenAI's wording: a root that is not an object, an object without
    `additionalProperties: false` or with a property missing from `required`, an unsupported keyword, an untyped
    value, a dangling `$ref`, nesting deeper than 10 objects."""

    def fail(context: tuple[str, ...], message: str) -> InvalidRequest:
        return InvalidRequest(
            f"Invalid schema for response_format '{name}': In context={context}, {message}",
            param="response_format",
            code="invalid_json_schema",
        )

    def check(node: Any, context: tuple[str, ...], depth: int) -> None:
        if not isinstance(node, dict):
            raise fail(context, "schema must be a JSON object.")
        for key in node:
            if key not in STRICT_KEYWORDS:
                raise fail(context, f"'{key}' is not permitted.")
        if "$ref" in node:
            if len(node) > 1:
                raise fail(context, f"$ref cannot have keywords {sorted(set(node) - {'$ref'})}.")
            target: Any = schema
            for part in str(node["$ref"]).lstrip("#").split("/"):
                target = target.get(part) if part and isinstance(target, dict) else target
            if not isinstance(target, dict) or not str(node["$ref"]).startswith("#"):
                raise fail(context, f"reference to component '{node['$ref']}' which was not found in the schema.")
            return
        if not {"type", "anyOf", "enum", "const"} & set(node):
            raise fail(context, "schema must have a 'type' key.")
        types = node.get("type")
        kinds = set(types) if isinstance(types, list) else {types}
        if "object" in kinds or "properties" in node:
            if depth + 1 > STRICT_MAX_DEPTH:
                raise fail(context, f"the schema exceeds the maximum nesting depth of {STRICT_MAX_DEPTH} objects.")
            if node.get("additionalProperties") is not False:
                raise fail(context, "'additionalProperties' is required to be supplied and to be false.")
            properties = node.get("properties") or {}
            missing = [key for key in properties if key not in (node.get("required") or [])]
            if missing or not isinstance(node.get("required", []), list):
                raise fail(
                    context,
                    "'required' is required to be supplied and to be an array including every key in properties. "
                    f"Missing '{missing[0] if missing else ''}'.",
                )
            for key, child in properties.items():
                check(child, (*context, "properties", key), depth + 1)
        if "array" in kinds:
            if not isinstance(node.get("items"), dict):
                raise fail(context, "array schema missing items.")
            check(node["items"], (*context, "items"), depth)
        for index, variant in enumerate(node.get("anyOf") or []):
            check(variant, (*context, "anyOf", str(index)), depth)

    if schema.get("type") != "object" or "anyOf" in schema:
        raise fail((), f"schema must be a JSON Schema of 'type: \"object\"', got 'type: \"{schema.get('type')}\"'.")
    for key, definition in {**(schema.get("definitions") or {}), **(schema.get("$defs") or {})}.items():
        check(definition, ("$defs", key), 1)
    check({key: value for key, value in schema.items() if key not in {"$defs", "definitions"}}, (), 0)


def _validate_openai_messages(messages: list[Any]) -> None:
    pending: list[str] = []  # tool_call ids of the last assistant message not yet answered
    for index, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        if role not in {"system", "developer", "user", "assistant", "tool"}:
            raise InvalidRequest(f"Invalid value: '{role}'. Supported values are: 'system', 'assistant', 'user', 'tool'...")
        if role != "tool" and pending:
            raise _unanswered(pending)
        if role == "tool":
            call_id = message.get("tool_call_id")
            if call_id not in pending:
                raise InvalidRequest(
                    f"Invalid parameter: messages with role 'tool' must be a response to a preceeding message with "
                    f"'tool_calls' (messages[{index}], tool_call_id {call_id!r}).",
                    param=f"messages.[{index}].role",
                )
            if not isinstance(message.get("content"), str | list):
                raise InvalidRequest(f"Missing required parameter: 'messages[{index}].content'.")
            pending.remove(call_id)
        elif role == "assistant":
            calls = message.get("tool_calls") or []
            if message.get("content") is None and not calls:
                raise InvalidRequest(f"Invalid 'messages[{index}]': content is required unless tool_calls are given.")
            for number, call in enumerate(calls):
                function = call.get("function") or {}
                if call.get("type") != "function" or not call.get("id") or not isinstance(function.get("arguments"), str):
                    raise InvalidRequest(f"Invalid 'messages[{index}].tool_calls[{number}]': id, type and function required.")
            pending = [call["id"] for call in calls]
        elif not isinstance(message.get("content"), str | list):
            raise InvalidRequest(f"Missing required parameter: 'messages[{index}].content'.")
    if pending:
        raise _unanswered(pending)


def _unanswered(pending: list[str]) -> InvalidRequest:
    return InvalidRequest(
        "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. "
        f"The following tool_call_ids did not have response messages: {', '.join(pending)}",
        param="messages",
    )


def validate_anthropic(body: dict[str, Any]) -> None:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise InvalidRequest("model: Field required")
    max_tokens = body.get("max_tokens")
    if not isinstance(max_tokens, int) or max_tokens < 1:
        raise InvalidRequest("max_tokens: Field required")
    if "temperature" in body and body["temperature"] != 1 and not _ANTHROPIC_SAMPLING.match(model):
        raise InvalidRequest(f"temperature: {model} only supports the default value")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise InvalidRequest("messages: at least one message is required")
    _validate_anthropic_system(body.get("system"))
    breakpoints = _validate_anthropic_tools(body.get("tools"))
    _validate_anthropic_tool_choice(body.get("tool_choice"), body.get("tools"))
    breakpoints += sum(1 for block in body.get("system") or [] if isinstance(block, dict) and "cache_control" in block)
    if breakpoints > 4:
        raise InvalidRequest(f"A maximum of 4 blocks with cache_control may be provided. Found {breakpoints}.")
    _validate_anthropic_messages(messages)


def _validate_anthropic_system(system: Any) -> None:
    if system is None or isinstance(system, str):
        return
    if not isinstance(system, list):
        raise InvalidRequest("system: Input should be a valid string or list of text blocks")
    for index, block in enumerate(system):
        if not isinstance(block, dict) or block.get("type") != "text" or not str(block.get("text", "")).strip():
            raise InvalidRequest(f"system.{index}: text content blocks must be non-empty")
        _check_cache_control(block, f"system.{index}")


def _validate_anthropic_tools(tools: Any) -> int:
    if tools is None:
        return 0
    if not isinstance(tools, list):
        raise InvalidRequest("tools: Input should be a valid list")
    breakpoints = 0
    for index, tool in enumerate(tools):
        if not isinstance(tool, dict) or not _TOOL_NAME.match(str(tool.get("name", ""))):
            raise InvalidRequest(f"tools.{index}.name: String should match pattern '^[a-zA-Z0-9_-]{{1,64}}$'")
        schema = tool.get("input_schema")
        if not isinstance(schema, dict) or schema.get("type") != "object":
            raise InvalidRequest(f"tools.{index}.input_schema: Input should be an object schema with type 'object'")
        breakpoints += _check_cache_control(tool, f"tools.{index}")
    return breakpoints


def _validate_anthropic_tool_choice(choice: Any, tools: Any) -> None:
    """`tool_choice` as anthropic-sdk-python's `ToolChoiceParam`: auto, any, none, or {"type": "tool", "name"}."""
    if choice is None:
        return
    if not tools:
        raise InvalidRequest("tool_choice: tool_choice may only be specified while providing tools.")
    kind = choice.get("type") if isinstance(choice, dict) else None
    if kind not in {"auto", "any", "tool", "none"}:
        raise InvalidRequest("tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'")
    if "disable_parallel_tool_use" in choice and not isinstance(choice["disable_parallel_tool_use"], bool):
        raise InvalidRequest("tool_choice.disable_parallel_tool_use: Input should be a valid boolean")
    if kind == "tool":
        name = choice.get("name")
        if name not in {tool.get("name") for tool in tools}:
            raise InvalidRequest(f"tool_choice.name: Tool '{name}' not found in the provided tools")


def _check_cache_control(block: dict[str, Any], where: str) -> int:
    if "cache_control" not in block:
        return 0
    if block["cache_control"] != {"type": "ephemeral"} and (block["cache_control"] or {}).get("type") != "ephemeral":
        raise InvalidRequest(f"{where}.cache_control.type: Input should be 'ephemeral'")
    return 1


def _validate_anthropic_messages(messages: list[Any]) -> None:
    previous_role = None
    expected_results: list[str] = []
    for index, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        if role not in {"user", "assistant"}:
            raise InvalidRequest(f"messages.{index}.role: Input should be 'user' or 'assistant'")
        if index == 0 and role != "user":
            raise InvalidRequest('messages: first message must use the "user" role')
        if role == previous_role:
            raise InvalidRequest(
                f'messages: roles must alternate between "user" and "assistant", but found multiple "{role}" roles in a row'
            )
        previous_role = role
        blocks = _blocks(message.get("content"), index, final_assistant=role == "assistant" and index == len(messages) - 1)
        if role == "user":
            results = [block.get("tool_use_id") for block in blocks if block.get("type") == "tool_result"]
            unknown = [call_id for call_id in results if call_id not in expected_results]
            if unknown:
                raise InvalidRequest(
                    f"messages.{index}.content: unexpected `tool_use_id` found in `tool_result` blocks: "
                    f"{', '.join(map(str, unknown))}. "
                    "Each `tool_result` block must have a corresponding `tool_use` block in the previous message."
                )
            missing = [call_id for call_id in expected_results if call_id not in results]
            if missing:
                raise InvalidRequest(
                    f"messages.{index - 1}: `tool_use` ids were found without `tool_result` blocks immediately after: "
                    f"{', '.join(missing)}. Each `tool_use` block must have a corresponding "
                    "`tool_result` block in the next message."
                )
            if results and any(block.get("type") != "tool_result" for block in blocks[: len(results)]):
                raise InvalidRequest(f"messages.{index}.content: tool_result blocks must come before any other content")
            expected_results = []
        else:
            uses = [block for block in blocks if block.get("type") == "tool_use"]
            for block in uses:
                if not isinstance(block.get("input"), dict) or not block.get("id") or not block.get("name"):
                    raise InvalidRequest(f"messages.{index}.content: tool_use blocks need an id, a name and an object input")
            expected_results = [block["id"] for block in uses]
    if expected_results:
        raise InvalidRequest(
            f"messages.{len(messages) - 1}: `tool_use` ids were found without `tool_result` blocks immediately after: "
            f"{', '.join(expected_results)}. Each `tool_use` block must have a corresponding "
            "`tool_result` block in the next message."
        )


def _blocks(content: Any, index: int, *, final_assistant: bool) -> list[dict[str, Any]]:
    empty = InvalidRequest(
        f"messages.{index}: all messages must have non-empty content except for the optional final assistant message"
    )
    if isinstance(content, str):
        if not content.strip() and not final_assistant:
            raise empty
        return [{"type": "text", "text": content}]
    if not isinstance(content, list):
        raise InvalidRequest(f"messages.{index}.content: Input should be a valid string or list of blocks")
    if not content and not final_assistant:
        raise empty
    for number, block in enumerate(content):
        if not isinstance(block, dict) or block.get("type") not in {
            "text",
            "tool_use",
            "tool_result",
            "thinking",
            "redacted_thinking",
            "image",
            "document",
        }:
            raise InvalidRequest(f"messages.{index}.content.{number}: unknown content block type")
        if block["type"] == "text" and not str(block.get("text", "")).strip():
            raise InvalidRequest(f"messages.{index}.content.{number}.text: text content blocks must be non-empty")
        if block["type"] == "tool_result" and not isinstance(block.get("is_error", False), bool):
            raise InvalidRequest(f"messages.{index}.content.{number}.is_error: Input should be a valid boolean")
        _check_cache_control(block, f"messages.{index}.content.{number}")
    return content
