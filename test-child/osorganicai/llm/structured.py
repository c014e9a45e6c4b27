"""Structured output: ask for one JSON object of a schema, validate it with a pydantic model, retry on bad output.

The providers constrain the answer natively (OpenAI: Structured Outputs in strict mode; Anthropic: one
forced tool whose input is the schema), and pydantic still validates it. An answer that does not
validate is sent back with the reason, within `attempts`. An answer that ended in a way a retry would
not fix is a clear outcome instead, raised at once as a subclass of `StructuredOutputError`:
`OutputTruncatedError` (cut at the output-token limit), `ModelRefusedError` (the model declined) and
`ContentFilteredError` (the provider's filter stopped it). Each answered call is reported as a
`CallRecord` (tokens, cached tokens, cost, stop reason, duration) to the caller's `on_call`.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from .base import Budget, ChatMessage, LLMProvider, LLMRequest, LLMResponse
from .strict_schema import drop_optional_nulls

Model = TypeVar("Model", bound=BaseModel)
_FENCED = re.compile(r"```(?:json)?\s*(\{.*\})\s*```", re.DOTALL)


class StructuredOutputError(RuntimeError):
    """The model's replies never matched the schema."""

    stop_reason = "invalid"

    def __init__(self, schema_name: str, attempts: int, last_error: str) -> None:
        self.schema_name = schema_name
        self.last_error = last_error
        super().__init__(f"the model gave no valid {schema_name} in {attempts} attempts: {last_error}")


class UnusableAnswerError(StructuredOutputError):
    """The answer ended in a way a retry with the same request would not fix; `stop_reason` says how."""

    def __init__(self, schema_name: str, message: str, model: str) -> None:
        self.schema_name = schema_name
        self.last_error = message
        self.model = model
        RuntimeError.__init__(self, message)


class OutputTruncatedError(UnusableAnswerError):
    stop_reason = "max_tokens"

    def __init__(self, schema_name: str, model: str, max_tokens: int) -> None:
        self.max_tokens = max_tokens
        super().__init__(
            schema_name,
            f"the model ({model}) was cut off at the output limit of {max_tokens} tokens before its {schema_name} "
            "was complete; raise the agent's `max_tokens` in config/agents.toml",
            model,
        )


class ModelRefusedError(UnusableAnswerError):
    stop_reason = "refusal"

    def __init__(self, schema_name: str, model: str, refusal: str) -> None:
        self.refusal = refusal
        said = " ".join(refusal.split())[:300] or "no reason given"
        super().__init__(schema_name, f"the model ({model}) refused to give a {schema_name}: {said}", model)


class ContentFilteredError(UnusableAnswerError):
    stop_reason = "content_filter"

    def __init__(self, schema_name: str, model: str) -> None:
        super().__init__(
            schema_name,
            f"the provider's content filter stopped the model's ({model}) {schema_name}; "
            "a maintainer should read the issue and rephrase what triggered it",
            model,
        )


@dataclass(frozen=True)
class CallRecord:
    """One answered model call, as it goes to `agent_actions` (`llm_call`)."""

    provider: str
    model: str
    schema_name: str
    attempt: int
    input_tokens: int
    output_tokens: int
    cached_input_tokens: int
    cost_usd: float
    stop_reason: str
    duration_seconds: float

    def payload(self) -> dict[str, Any]:
        return asdict(self) | {"cost_usd": round(self.cost_usd, 6), "duration_seconds": round(self.duration_seconds, 3)}


def extract_json(text: str) -> str:
    """The JSON object in a reply, tolerating code fences and prose around it."""
    text = text.strip()
    fenced = _FENCED.search(text)
    if fenced:
        return fenced.group(1)
    start, end = text.find("{"), text.rfind("}")
    if start != -1 and end > start:
        return text[start : end + 1]
    return text


def ask_structured(
    provider: LLMProvider,
    request: LLMRequest,
    model: type[Model],
    budget: Budget,
    attempts: int = 3,
    *,
    on_call: Callable[[CallRecord], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[Model, LLMResponse]:
    """Call the provider until its reply validates against `model`, within `budget` and `attempts`."""
    last_error = ""
    for attempt in range(1, attempts + 1):
        budget.check()
        started = clock()
        response = provider.complete(request)
        cost = budget.charge(provider.name, response)
        if on_call is not None:
            on_call(_record(provider.name, request, response, attempt, cost, clock() - started))
        raise_for_stop_reason(request, response)
        try:
            data = drop_optional_nulls(json.loads(extract_json(response.text)), request.json_schema)
            return model.model_validate(data), response
        except (ValueError, ValidationError, RecursionError) as error:  # nesting too deep for the parser is bad input too
            last_error = _short(error)
        request = replace(
            request,
            messages=[
                *request.messages,
                ChatMessage("assistant", response.text[:4000] or "(no reply)"),
                ChatMessage(
                    "user",
                    f"That reply was not valid ({last_error}). Reply again with one JSON object only, "
                    "matching the schema exactly.",
                ),
            ],
        )
    raise StructuredOutputError(request.schema_name, attempts, last_error)


def raise_for_stop_reason(request: LLMRequest, response: LLMResponse) -> None:
    """Raise the clear outcome for an answer that was cut, refused or filtered."""
    if response.stop_reason == "max_tokens":
        raise OutputTruncatedError(request.schema_name, response.model, request.max_tokens)
    if response.stop_reason == "refusal":
        raise ModelRefusedError(request.schema_name, response.model, response.text)
    if response.stop_reason == "content_filter":
        raise ContentFilteredError(request.schema_name, response.model)


def _record(provider: str, request: LLMRequest, response: LLMResponse, attempt: int, cost: float, seconds: float) -> CallRecord:
    return CallRecord(
        provider=provider,
        model=response.model,
        schema_name=request.schema_name,
        attempt=attempt,
        input_tokens=response.input_tokens,
        output_tokens=response.output_tokens,
        cached_input_tokens=response.cached_input_tokens,
        cost_usd=cost,
        stop_reason=response.stop_reason,
        duration_seconds=max(seconds, 0.0),
    )


def _short(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(
            f"{'.'.join(str(part) for part in item['loc']) or 'value'}: {item['msg']}" for item in error.errors()[:5]
        )
    if isinstance(error, RecursionError):
        return "the JSON nests too deeply"
    return f"{error.__class__.__name__}: {str(error)[:200]}"
