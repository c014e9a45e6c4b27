"""Structured output: ask for JSON, validate it with a pydantic model, retry on bad output."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from .base import Budget, ChatMessage, LLMProvider, LLMRequest, LLMResponse

Model = TypeVar("Model", bound=BaseModel)
_FENCED = re.compile(r"```(?:json)?\s*(\{.*\})\s*```", re.DOTALL)


class StructuredOutputError(RuntimeError):
    """The model's replies never matched the schema."""

    def __init__(self, schema_name: str, attempts: int, last_error: str) -> None:
        self.schema_name = schema_name
        self.last_error = last_error
        super().__init__(f"the model gave no valid {schema_name} in {attempts} attempts: {last_error}")


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
) -> tuple[Model, LLMResponse]:
    """Call the provider until its reply validates against `model`, within `budget`."""
    last_error = ""
    for _ in range(attempts):
        budget.check()
        response = provider.complete(request)
        budget.charge(provider.name, response)
        try:
            return model.model_validate(json.loads(extract_json(response.text))), response
        except (ValueError, ValidationError) as error:
            last_error = _short(error)
        request = replace(
            request,
            messages=[
                *request.messages,
                ChatMessage("assistant", response.text[:4000]),
                ChatMessage(
                    "user",
                    f"That reply was not valid ({last_error}). Reply again with one JSON object only, "
                    "matching the schema exactly.",
                ),
            ],
        )
    raise StructuredOutputError(request.schema_name, attempts, last_error)


def _short(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(
            f"{'.'.join(str(part) for part in item['loc']) or 'value'}: {item['msg']}" for item in error.errors()[:5]
        )
    return f"{error.__class__.__name__}: {str(error)[:200]}"
