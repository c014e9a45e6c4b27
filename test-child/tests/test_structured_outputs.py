"""Structured answers through the real providers against the scripted model server: OpenAI's strict Structured
Outputs (the schema transform, checked by the fake as the API checks it), Anthropic's forced tool, the clear
outcomes for cut, refused and filtered answers, and usage with its cost per call."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field

from osorganicai.agents.schemas import DeveloperChange, ProductOwnerAnalysis
from osorganicai.config import ModelPrice
from osorganicai.llm import Budget, ChatMessage, LLMError, LLMRequest, cost_of, price_of
from osorganicai.llm.base import LLMResponse
from osorganicai.llm.pricing import UNKNOWN_MODEL_PRICE, price_for
from osorganicai.llm.strict_schema import StrictSchemaError, drop_optional_nulls, strict_schema
from osorganicai.llm.structured import (
    CallRecord,
    ContentFilteredError,
    ModelRefusedError,
    OutputTruncatedError,
    StructuredOutputError,
    ask_structured,
)
from tests.fake_models import Say, ScriptedModel, check_strict_schema

WIRES = ["openai", "anthropic"]
READY = {
    "needs_clarification": False,
    "questions": [],
    "refined_description": "Fix the typo.\n\n- [ ] README says 'commit'",
    "is_complete": True,
}


class Address(BaseModel):
    street: str = Field(min_length=1)
    note: str | None = None


class Customer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=80, description="Full name")
    tags: list[str] = Field(default_factory=list, min_length=1, max_length=5)
    home: Address = Field(description="Where they live")
    work: Address | None = None
    previous: list[Address] = []
    kind: str = Field(default="person", pattern="^(person|company)$")


def request_for(schema: type[BaseModel], name: str, model: str, max_tokens: int = 2000) -> LLMRequest:
    return LLMRequest(
        system="You are the Product Owner.",
        messages=[ChatMessage("user", "Analyse issue #1.")],
        model=model,
        max_tokens=max_tokens,
        temperature=0.2,
        schema_name=name,
        json_schema=schema.model_json_schema(),
    )


def budget(prices: dict[str, ModelPrice] | None = None) -> Budget:
    return Budget(max_calls=5, max_cost_usd=5.0, timeout_seconds=60, prices=prices or {})


def ask(model: ScriptedModel, schema: type[BaseModel] = ProductOwnerAnalysis, **kwargs: Any):
    request = request_for(schema, "product_owner_analysis", model.model, kwargs.pop("max_tokens", 2000))
    return ask_structured(model.provider(), request, schema, kwargs.pop("budget", None) or budget(), **kwargs)


# -- the strict schema transform ------------------------------------------------------------------
def test_the_product_owner_schema_becomes_strict_with_optional_fields_nullable() -> None:
    original = ProductOwnerAnalysis.model_json_schema()
    kept = copy.deepcopy(original)
    schema = strict_schema(original)
    assert original == kept  # the pydantic schema is not touched
    properties = schema["properties"]
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["needs_clarification", "questions", "refined_description", "is_complete"]
    assert properties["needs_clarification"]["type"] == "boolean"  # required in pydantic: not nullable
    assert properties["questions"]["type"] == ["array", "null"] and properties["questions"]["maxItems"] == 10
    description = properties["refined_description"]
    assert description["type"] == ["string", "null"] and "maxLength" not in description and "default" not in description
    assert "at most 20000 characters" in description["description"]
    check_strict_schema(schema, "product_owner_analysis")


def test_nested_models_keep_their_defs_and_refs_and_every_object_is_closed() -> None:
    schema = strict_schema(Customer.model_json_schema())
    check_strict_schema(schema, "customer")
    address = schema["$defs"]["Address"]
    assert address["additionalProperties"] is False and address["required"] == ["street", "note"]
    assert address["properties"]["note"]["anyOf"] == [{"type": "string"}, {"type": "null"}]  # already nullable
    assert "minLength" not in address["properties"]["street"]
    properties = schema["properties"]
    # A $ref with a description beside it is inlined (strict mode refuses keywords next to $ref).
    assert properties["home"]["description"] == "Where they live" and properties["home"]["additionalProperties"] is False
    assert properties["previous"] == {"title": "Previous", "type": ["array", "null"], "items": {"$ref": "#/$defs/Address"}}
    assert {"$ref": "#/$defs/Address"} in properties["work"]["anyOf"]
    assert properties["kind"]["pattern"] == "^(person|company)$" and properties["kind"]["type"] == ["string", "null"]
    assert properties["tags"]["minItems"] == 1 and properties["tags"]["maxItems"] == 5
    check_strict_schema(strict_schema(DeveloperChange.model_json_schema()), "developer_change")


def test_recursive_models_stay_a_ref_to_themselves() -> None:
    class Node(BaseModel):
        label: str
        children: list[Node] = []

    schema = strict_schema(Node.model_json_schema())
    check_strict_schema(schema, "node")
    assert schema["$defs"]["Node"]["properties"]["children"]["items"] == {"$ref": "#/$defs/Node"}


@pytest.mark.parametrize(
    ("schema", "where", "reason"),
    [
        ({"type": "object"}, "the root", "accepts any keys"),
        ({"type": "array", "items": {"type": "string"}}, "the root", "must be an object"),
        (
            {"type": "object", "properties": {"extra": {"type": "object", "additionalProperties": True}}},
            "extra",
            "arbitrary keys",
        ),
        ({"type": "object", "properties": {"value": {}}}, "value", "any type"),
        (
            {"type": "object", "properties": {"pair": {"type": "array", "prefixItems": [{"type": "string"}]}}},
            "pair",
            "prefixItems",
        ),
        ({"type": "object", "properties": {"both": {"allOf": [{"type": "string"}, {"type": "string"}]}}}, "both", "allOf"),
        ({"type": "object", "properties": {"x": {"$ref": "#/$defs/Missing"}}}, "x", "points to nothing"),
    ],
)
def test_schemas_strict_mode_cannot_express_are_named(schema: dict[str, Any], where: str, reason: str) -> None:
    with pytest.raises(StrictSchemaError, match=reason) as error:
        strict_schema(schema)
    assert error.value.where == where


def test_deep_nesting_is_refused_past_ten_objects() -> None:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(11):
        schema = {"type": "object", "properties": {"inner": schema}, "required": ["inner"]}
    with pytest.raises(StrictSchemaError, match="nest more than 10"):
        strict_schema(schema)


def test_nulls_for_optional_fields_give_way_to_the_defaults() -> None:
    schema = Customer.model_json_schema()
    answer = {
        "name": "Ada",
        "tags": ["vip"],
        "home": {"street": "Main", "note": None},
        "work": None,
        "previous": [{"street": "Old", "note": None}],
        "kind": None,
    }
    cleaned = drop_optional_nulls(answer, schema)
    # `note` and `work` are nullable in the model itself: their null stays; `kind` and `previous` go to defaults.
    assert cleaned == {
        "name": "Ada",
        "tags": ["vip"],
        "home": {"street": "Main", "note": None},
        "work": None,
        "previous": [{"street": "Old", "note": None}],
    }
    assert Customer.model_validate(cleaned).kind == "person"
    assert drop_optional_nulls({"name": None}, schema) == {"name": None}  # required: left for validation to report


# -- OpenAI: Structured Outputs ----------------------------------------------------------------------
def test_openai_asks_for_strict_structured_outputs_and_validates_the_answer() -> None:
    answer = READY | {"questions": None}  # strict mode: an optional field may come back as null
    with ScriptedModel("openai", [Say(answer=answer)]) as model:
        analysis, response = ask(model)
    body = model.requests[-1]
    response_format = body["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["name"] == "product_owner_analysis"
    assert response_format["json_schema"]["strict"] is True
    assert response_format["json_schema"]["schema"] == strict_schema(ProductOwnerAnalysis.model_json_schema())
    assert body["messages"][0] == {"role": "system", "content": "You are the Product Owner."}  # no schema text needed
    assert analysis.is_complete and analysis.questions == [] and response.stop_reason == "end_turn"


def test_the_fake_refuses_a_schema_that_is_not_strict_as_openai_does() -> None:
    schema = strict_schema(ProductOwnerAnalysis.model_json_schema())
    with_default = copy.deepcopy(schema)
    with_default["properties"]["refined_description"]["default"] = ""
    for broken, message in [
        ({**schema, "additionalProperties": True}, "'additionalProperties' is required to be supplied and to be false"),
        ({**schema, "required": ["is_complete"]}, "Missing 'needs_clarification'"),
        (ProductOwnerAnalysis.model_json_schema(), "Missing 'questions'"),
        (with_default, r"In context=\('properties', 'refined_description'\), 'default' is not permitted"),
        ({"type": "array", "items": schema}, "must be a JSON Schema of 'type: \"object\"'"),
    ]:
        with pytest.raises(Exception, match=message):
            check_strict_schema(broken, "product_owner_analysis")


def test_a_schema_that_cannot_be_strict_is_asked_in_json_mode_with_the_schema_in_the_prompt() -> None:
    class Loose(BaseModel):
        facts: dict[str, int]

    with ScriptedModel("openai", [Say(text='{"facts": {"a": 1}}')]) as model:
        request = request_for(Loose, "loose", model.model)
        value, _ = ask_structured(model.provider(), request, Loose, budget())
    body = model.requests[-1]
    assert body["response_format"] == {"type": "json_object"}
    assert "JSON Schema" in body["messages"][0]["content"] and value.facts == {"a": 1}


def test_openai_refusal_is_a_clear_outcome_not_a_retry() -> None:
    script = [Say(text="I can't help with that request.", stop="refusal"), Say(answer=READY)]
    with ScriptedModel("openai", script) as model, pytest.raises(ModelRefusedError) as error:
        ask(model)
    assert len(model.requests) == 1 and model.remaining == 1
    assert isinstance(error.value, StructuredOutputError) and error.value.refusal == "I can't help with that request."
    assert "refused to give a product_owner_analysis: I can't help with that request." in str(error.value)


@pytest.mark.parametrize("wire", WIRES)
def test_an_answer_cut_at_max_tokens_names_the_setting_to_raise(wire: str) -> None:
    script = [Say(answer='{"needs_clarification": tr', stop="max_tokens"), Say(answer=READY)]
    with ScriptedModel(wire, script) as model, pytest.raises(OutputTruncatedError) as error:
        ask(model, max_tokens=300)
    assert len(model.requests) == 1
    assert "output limit of 300 tokens" in str(error.value) and "`max_tokens` in config/agents.toml" in str(error.value)
    assert error.value.stop_reason == "max_tokens"


def test_openai_content_filter_is_a_clear_outcome() -> None:
    with (
        ScriptedModel("openai", [Say(text="", stop="content_filter")]) as model,
        pytest.raises(ContentFilteredError, match="content filter stopped"),
    ):
        ask(model)
    assert len(model.requests) == 1


# -- Anthropic: one forced tool ---------------------------------------------------------------------
def test_anthropic_answers_through_one_forced_tool_whose_input_is_the_schema() -> None:
    with ScriptedModel("anthropic", [Say(answer=READY, cached_input_tokens=800)]) as model:
        analysis, response = ask(model)
    body, headers = model.requests[-1], model.headers[-1]
    assert headers["anthropic-version"] == "2023-06-01"
    assert body["tool_choice"] == {"type": "tool", "name": "product_owner_analysis"}
    [tool] = body["tools"]
    assert tool["name"] == "product_owner_analysis" and tool["input_schema"] == ProductOwnerAnalysis.model_json_schema()
    assert tool["cache_control"] == {"type": "ephemeral"}
    assert body["system"] == [{"type": "text", "text": "You are the Product Owner.", "cache_control": {"type": "ephemeral"}}]
    assert analysis.refined_description.startswith("Fix the typo") and response.stop_reason == "end_turn"
    assert (response.input_tokens, response.cached_input_tokens) == (1000, 800)


def test_anthropic_invalid_input_is_sent_back_and_the_next_answer_counts() -> None:
    script = [Say(answer={"needs_clarification": True, "is_complete": False}), Say(answer=READY)]
    with ScriptedModel("anthropic", script) as model:
        analysis, _ = ask(model)
    retry = model.requests[-1]["messages"]
    assert [message["role"] for message in retry] == ["user", "assistant", "user"]
    assert "needs_clarification is true but no question was given" in retry[-1]["content"]
    assert analysis.is_complete


def test_anthropic_refusal_is_a_clear_outcome() -> None:
    with (
        ScriptedModel("anthropic", [Say(text="I won't do that.", stop="refusal")]) as model,
        pytest.raises(ModelRefusedError, match=r"refused to give a product_owner_analysis: I won't do that\."),
    ):
        ask(model)
    assert len(model.requests) == 1


def test_anthropic_needs_an_object_schema_and_says_so_before_calling() -> None:
    request = LLMRequest("s", [ChatMessage("user", "hi")], "claude-sonnet-5-5", 10, 0.2, "names", {"type": "array"})
    with ScriptedModel("anthropic", [Say(answer={})]) as model:
        with pytest.raises(LLMError, match="the names schema has type 'array'"):
            model.provider().complete(request)
        assert model.requests == []
        untyped = LLMRequest("s", [ChatMessage("user", "hi")], "claude-sonnet-5-5", 10, 0.2, "any", {})
        assert model.provider().complete(untyped).text == "{}"
    assert model.requests[-1]["tools"][0]["input_schema"] == {"type": "object"}


def test_the_fake_refuses_a_tool_choice_naming_no_offered_tool() -> None:
    import httpx

    from tests.fake_models import ANTHROPIC_KEY

    body = {
        "model": "claude-sonnet-5-5",
        "max_tokens": 10,
        "messages": [{"role": "user", "content": "hi"}],
        "tools": [{"name": "answer", "input_schema": {"type": "object"}}],
        "tool_choice": {"type": "tool", "name": "other"},
    }
    with ScriptedModel("anthropic", [Say(text="never")]) as model:
        headers = {"x-api-key": ANTHROPIC_KEY, "anthropic-version": "2023-06-01"}
        answer = httpx.post(f"{model.base_url}/v1/messages", headers=headers, json=body)
    assert answer.status_code == 400 and "Tool 'other' not found" in answer.json()["error"]["message"]


# -- usage and cost per call ------------------------------------------------------------------------
@pytest.mark.parametrize("wire", WIRES)
def test_each_call_is_reported_with_tokens_cached_tokens_cost_and_stop_reason(wire: str) -> None:
    prices = {"gpt-6": ModelPrice(1.0, 4.0, 0.25), "claude-sonnet-5": ModelPrice(2.0, 10.0, 0.2)}
    calls: list[CallRecord] = []
    ticks = iter([10.0, 10.5, 20.0, 21.25])
    script = [
        Say(answer={"needs_clarification": True}, input_tokens=4000, output_tokens=200, cached_input_tokens=3000),
        Say(answer=READY, input_tokens=5000, output_tokens=300, cached_input_tokens=0),
    ]
    spent = budget(prices)
    with ScriptedModel(wire, script) as model:
        ask(model, budget=spent, on_call=calls.append, clock=lambda: next(ticks))
    price = price_of(model.model, prices)
    assert price is not None
    first = (1000 * price.input + 3000 * price.cached_input + 200 * price.output) / 1_000_000
    second = (5000 * price.input + 300 * price.output) / 1_000_000
    assert [(call.attempt, call.input_tokens, call.cached_input_tokens, call.output_tokens) for call in calls] == [
        (1, 4000, 3000, 200),
        (2, 5000, 0, 300),
    ]
    assert [call.cost_usd for call in calls] == pytest.approx([first, second])
    assert [call.duration_seconds for call in calls] == [0.5, 1.25]
    assert {call.provider for call in calls} == {wire} and {call.stop_reason for call in calls} == {"end_turn"}
    assert calls[0].payload()["model"] == model.model and calls[0].payload()["schema_name"] == "product_owner_analysis"
    assert spent.cost_usd == pytest.approx(first + second) and spent.calls == 2


def test_a_refused_call_is_still_reported_and_charged() -> None:
    calls: list[CallRecord] = []
    spent = budget()
    script = [Say(text="No.", stop="refusal", input_tokens=500, output_tokens=5)]
    with ScriptedModel("openai", script) as model, pytest.raises(ModelRefusedError):
        ask(model, budget=spent, on_call=calls.append)
    assert [call.stop_reason for call in calls] == ["refusal"] and spent.calls == 1 and spent.cost_usd > 0


def test_prices_come_from_the_table_then_the_runtime_then_a_high_rate() -> None:
    configured = {"gpt-6": ModelPrice(1.0, 2.0), "gpt-6-luna": ModelPrice(0.5, 1.0, 0.05)}
    response = LLMResponse("{}", 1_000_000, 1_000_000, "gpt-6-luna-2026", cached_input_tokens=500_000)
    assert cost_of("openai", response, configured) == pytest.approx(0.25 + 0.025 + 1.0)  # the longest prefix wins
    assert cost_of("openai", response, {"gpt-6": ModelPrice(1.0, 2.0)}) == pytest.approx(1.0 + 2.0)  # no cached price
    assert price_for("gpt-6-luna-2026").input == 0.10 and price_of("gpt-6-luna", {}) is None
    assert price_for("mystery-model") == UNKNOWN_MODEL_PRICE
    assert cost_of("offline", response, configured) == 0.0


def test_a_hostile_answer_nested_too_deep_is_sent_back_not_a_crash() -> None:
    hostile = '{"needs_clarification": ' + "[" * 100_000 + "]" * 100_000 + "}"
    with ScriptedModel("openai", [Say(answer=hostile), Say(answer=READY)]) as model:
        analysis, _ = ask(model)
    assert analysis.is_complete and "nests too deeply" in model.requests[-1]["messages"][-1]["content"]


def test_usage_fields_that_are_not_counts_count_as_zero() -> None:
    import httpx

    from osorganicai.llm.openai_compat import OpenAICompatibleProvider

    answer = {
        "model": "gpt-6-luna",
        "choices": [{"message": {"content": '{"a": 1}'}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": "lots", "completion_tokens": 1e300, "prompt_tokens_details": {"cached_tokens": -5}},
    }
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=answer))
    provider = OpenAICompatibleProvider("sk-test", "http://127.0.0.1:1/v1", transport=transport)
    request = LLMRequest("s", [ChatMessage("user", "json")], "gpt-6-luna", 10, 0.2, "x", {"type": "object"})
    response = provider.complete(request)
    assert (response.input_tokens, response.output_tokens, response.cached_input_tokens) == (0, 0, 0)


def test_a_provider_error_is_still_an_llm_error() -> None:
    with ScriptedModel("openai", [Say(answer=READY)]) as model:
        model.fail_next(400, message="Invalid schema for response_format")
        with pytest.raises(LLMError, match="HTTP 400: Invalid schema"):
            ask(model)
