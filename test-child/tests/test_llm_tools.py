"""Native tool calling through the real providers against the scripted model server (both wire formats),
retries within a deadline, and the offline provider's Developer script run in a real checkout."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from email.utils import formatdate
from pathlib import Path

import httpx
import pytest

from osorganicai.llm import (
    DEFAULT_MODELS,
    AssistantTurn,
    ChatMessage,
    LLMError,
    LLMRequest,
    ToolCall,
    ToolRequest,
    ToolResponse,
    ToolResult,
    ToolResultsTurn,
    ToolSpec,
    Turn,
    estimate_tool_cost,
    model_for,
)
from osorganicai.llm.http import retry_after_seconds
from osorganicai.llm.offline import OFFLINE_LABEL, OfflineProvider
from osorganicai.llm.openai_compat import OpenAICompatibleProvider
from tests.fake_models import ANTHROPIC_KEY, OPENAI_KEY, Exchange, Say, ScriptedModel

WIRES = ["openai", "anthropic"]
BASH = ToolSpec(
    "bash",
    "Run a shell command in the checkout.",
    {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]},
)
FINISH = ToolSpec(
    "finish",
    "Stop and hand the change over.",
    {"type": "object", "properties": {"summary": {"type": "string"}, "title": {"type": "string"}}, "required": ["summary"]},
)
TASK = ChatMessage("user", "Implement issue #7: add a greeting.")


def tool_request(messages: list[Turn], *, model: str, temperature: float | None = 0.2, **extra) -> ToolRequest:
    return ToolRequest(
        system="You are the Developer.",
        messages=messages,
        tools=[BASH, FINISH],
        model=model,
        max_tokens=4000,
        temperature=temperature,
        **extra,
    )


def results_for(response: ToolResponse, *contents: str, text: str = "") -> ToolResultsTurn:
    return ToolResultsTurn(
        tuple(ToolResult(call.id, call.name, content) for call, content in zip(response.tool_calls, contents, strict=True)),
        text,
    )


# -- a round trip with tools -------------------------------------------------------------------
@pytest.mark.parametrize("wire", WIRES)
def test_a_tool_round_trip_replays_calls_and_results_in_the_wire_format(wire) -> None:
    def after_listing(exchange: Exchange) -> Say:
        assert exchange.tool_results == ["README.md\nsrc/app.py"]
        assert exchange.last_user_text == "Two steps left."
        return Say(text="All done.", input_tokens=1500, output_tokens=20)

    script = [Say(tool_calls=[("bash", {"command": "git ls-files"})], text="Looking first."), after_listing]
    with ScriptedModel(wire, script) as model:
        provider = model.provider()
        first = provider.complete_with_tools(tool_request([TASK], model=model.model))
        assert first.stop_reason == "tool_use" and first.text == "Looking first."
        assert [(call.name, json.loads(call.arguments)) for call in first.tool_calls] == [("bash", {"command": "git ls-files"})]
        assert (first.input_tokens, first.output_tokens, first.model) == (1000, 100, model.model)
        conversation: list[Turn] = [TASK, first.as_turn(), results_for(first, "README.md\nsrc/app.py", text="Two steps left.")]
        second = provider.complete_with_tools(tool_request(conversation, model=model.model))
        assert (second.stop_reason, second.text, second.tool_calls) == ("end_turn", "All done.", ())
        assert len(model.exchanges()) == 2 and model.remaining == 0
        body = model.requests[-1]

    call_id = first.tool_calls[0].id
    if wire == "openai":
        assert call_id.startswith("call_")
        assert body["tools"][0] == {
            "type": "function",
            "function": {"name": "bash", "description": BASH.description, "parameters": BASH.parameters},
        }
        assert body["tool_choice"] == "auto" and body["messages"][0] == {"role": "system", "content": "You are the Developer."}
        assert body["messages"][2] == {
            "role": "assistant",
            "content": "Looking first.",
            "tool_calls": [
                {"id": call_id, "type": "function", "function": {"name": "bash", "arguments": first.tool_calls[0].arguments}}
            ],
        }
        assert body["messages"][3:] == [
            {"role": "tool", "tool_call_id": call_id, "content": "README.md\nsrc/app.py"},
            {"role": "user", "content": "Two steps left."},
        ]
    else:
        assert call_id.startswith("toolu_")
        assert body["tools"][0]["input_schema"] == BASH.parameters and "cache_control" not in body["tools"][0]
        assert body["messages"][1] == {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Looking first."},
                {"type": "tool_use", "id": call_id, "name": "bash", "input": {"command": "git ls-files"}},
            ],
        }
        assert body["messages"][2] == {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": call_id, "content": "README.md\nsrc/app.py", "is_error": False},
                {"type": "text", "text": "Two steps left."},
            ],
        }


@pytest.mark.parametrize("wire", WIRES)
def test_several_calls_in_one_turn_each_get_their_result(wire) -> None:
    script = [Say(tool_calls=[("bash", {"command": "ls"}), ("bash", {"command": "pwd"})]), Say(text="ok")]
    with ScriptedModel(wire, script) as model:
        provider = model.provider()
        first = provider.complete_with_tools(tool_request([TASK], model=model.model))
        assert len({call.id for call in first.tool_calls}) == 2
        turn = ToolResultsTurn(
            (ToolResult(first.tool_calls[0].id, "bash", "a b"), ToolResult(first.tool_calls[1].id, "bash", "", is_error=True))
        )
        provider.complete_with_tools(tool_request([TASK, first.as_turn(), turn], model=model.model))
        assert model.exchanges()[-1].tool_results[0] == "a b"


@pytest.mark.parametrize("wire", WIRES)
def test_a_result_missing_for_a_call_is_rejected_as_the_api_would(wire) -> None:
    with ScriptedModel(wire, [Say(tool_calls=[("bash", {"command": "ls"})]), Say(text="never")]) as model:
        provider = model.provider()
        first = provider.complete_with_tools(tool_request([TASK], model=model.model))
        with pytest.raises(LLMError, match="HTTP 400") as error:
            provider.complete_with_tools(tool_request([TASK, first.as_turn(), ChatMessage("user", "go on")], model=model.model))
        assert first.tool_calls[0].id in str(error.value)
        assert model.remaining == 1


# -- hostile or odd model output ---------------------------------------------------------------
def test_malformed_arguments_reach_the_caller_raw_and_are_replayed_raw_to_openai() -> None:
    raw = '{"command": "ls'
    with ScriptedModel("openai", [Say(tool_calls=[("bash", raw)]), Say(text="sorry")]) as model:
        provider = model.provider()
        first = provider.complete_with_tools(tool_request([TASK], model=model.model))
        assert first.tool_calls[0].arguments == raw
        error = ToolResultsTurn((ToolResult(first.tool_calls[0].id, "bash", "arguments are not JSON", is_error=True),))
        assert provider.complete_with_tools(tool_request([TASK, first.as_turn(), error], model=model.model)).text == "sorry"
        replayed = model.requests[-1]["messages"][2]["tool_calls"][0]["function"]["arguments"]
        assert replayed == raw
        assert model.requests[-1]["messages"][3]["content"] == "error: arguments are not JSON"


def test_non_object_arguments_from_anthropic_are_passed_on_and_replayed_as_an_empty_input() -> None:
    with ScriptedModel("anthropic", [Say(tool_calls=[("bash", "not json at all")]), Say(text="sorry")]) as model:
        provider = model.provider()
        first = provider.complete_with_tools(tool_request([TASK], model=model.model))
        assert json.loads(first.tool_calls[0].arguments) == "not json at all"  # valid JSON, but not an object
        error = ToolResultsTurn((ToolResult(first.tool_calls[0].id, "bash", "arguments must be an object", is_error=True),))
        provider.complete_with_tools(tool_request([TASK, first.as_turn(), error], model=model.model))
        assistant, results = model.requests[-1]["messages"][1:3]
        assert assistant["content"][0]["input"] == {}
        assert results["content"][0]["is_error"] is True


def test_anthropic_thinking_blocks_are_replayed_unmodified_before_the_tool_calls() -> None:
    script = [Say(tool_calls=[("bash", {"command": "ls"})], thinking="I should list the files."), Say(text="done")]
    with ScriptedModel("anthropic", script) as model:
        provider = model.provider()
        first = provider.complete_with_tools(tool_request([TASK], model=model.model))
        assert first.text == "" and first.stop_reason == "tool_use"
        conversation: list[Turn] = [TASK, first.as_turn(), results_for(first, "a.txt")]
        assert provider.complete_with_tools(tool_request(conversation, model=model.model)).text == "done"
        replayed = model.requests[-1]["messages"][1]["content"]
        assert replayed[0]["type"] == "thinking" and replayed[0]["thinking"] == "I should list the files."
        # A provider that lost the thinking block is refused, as by the real API while thinking is on.
        with pytest.raises(LLMError, match="Expected `thinking` or `redacted_thinking`"):
            model.provider().complete_with_tools(tool_request(conversation, model=model.model))


def test_no_empty_assistant_turn_is_ever_sent_to_anthropic() -> None:
    conversation: list[Turn] = [
        TASK,
        AssistantTurn(""),
        ChatMessage("user", "Please use the tools."),
        AssistantTurn("", (ToolCall("toolu_old", "bash", "{broken"),)),
        ToolResultsTurn((ToolResult("toolu_old", "bash", "error: arguments are not JSON", is_error=True),)),
        ChatMessage("user", "Try again."),
    ]
    with ScriptedModel("anthropic", [Say(text="ok")]) as model:
        model.provider().complete_with_tools(tool_request(conversation, model=model.model))
        messages = model.requests[-1]["messages"]
    assert [message["role"] for message in messages] == ["user", "assistant", "user", "assistant", "user"]
    assert messages[1]["content"] == [{"type": "text", "text": "(no reply)"}]
    assert messages[3]["content"] == [{"type": "tool_use", "id": "toolu_old", "name": "bash", "input": {}}]
    assert [block["type"] for block in messages[4]["content"]] == ["tool_result", "text"]


def test_the_fake_rejects_an_empty_assistant_turn_like_the_real_api() -> None:
    body = {
        "model": "claude-sonnet-5-5",
        "max_tokens": 10,
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": []},
            {"role": "user", "content": "again"},
        ],
    }
    with ScriptedModel("anthropic", [Say(text="never")]) as model:
        headers = {"x-api-key": ANTHROPIC_KEY, "anthropic-version": "2023-06-01"}
        answer = httpx.post(f"{model.base_url}/v1/messages", headers=headers, json=body)
    assert answer.status_code == 400
    assert answer.json()["type"] == "error" and "non-empty content" in answer.json()["error"]["message"]


@pytest.mark.parametrize(
    ("wire", "stop", "expected"),
    [
        ("openai", "max_tokens", "max_tokens"),
        ("openai", "content_filter", "content_filter"),
        ("anthropic", "max_tokens", "max_tokens"),
        ("anthropic", "pause_turn", "end_turn"),
    ],
)
def test_stop_reasons_are_mapped_to_neutral_names(wire, stop, expected) -> None:
    with ScriptedModel(wire, [Say(text="cut sho", stop=stop)]) as model:
        response = model.provider().complete_with_tools(tool_request([TASK], model=model.model))
    assert (response.stop_reason, response.text) == (expected, "cut sho")


@pytest.mark.parametrize("wire", WIRES)
def test_a_refusal_is_reported_with_its_text(wire) -> None:
    with ScriptedModel(wire, [Say(text="I can't help with that.", stop="refusal")]) as model:
        response = model.provider().complete_with_tools(tool_request([TASK], model=model.model))
    assert (response.stop_reason, response.text, response.tool_calls) == ("refusal", "I can't help with that.", ())


# -- retries, deadlines, errors ----------------------------------------------------------------
@pytest.mark.parametrize("wire", WIRES)
def test_a_rate_limit_is_retried_after_the_seconds_asked_for(wire) -> None:
    with ScriptedModel(wire, [Say(text="ok")]) as model:
        model.fail_next(429, headers={"retry-after": "7"})
        response = model.provider().complete_with_tools(tool_request([TASK], model=model.model, deadline_seconds=60))
        assert response.text == "ok" and model.slept == [7.0] and len(model.requests) == 2


def test_a_rate_limit_with_an_http_date_waits_until_that_date() -> None:
    with ScriptedModel("anthropic", [Say(text="ok")]) as model:
        model.fail_next(429, headers={"retry-after": formatdate(time.time() + 20, usegmt=True)})
        model.provider().complete_with_tools(tool_request([TASK], model=model.model, deadline_seconds=60))
        assert len(model.slept) == 1 and 17 <= model.slept[0] <= 21


def test_retry_after_headers_are_read_in_every_documented_form() -> None:
    now = 1_000_000.0
    assert retry_after_seconds({"retry-after-ms": "1500", "retry-after": "9"}, now) == 1.5
    assert retry_after_seconds({"retry-after": "3"}, now) == 3.0
    assert retry_after_seconds({"retry-after": formatdate(now + 42, usegmt=True)}, now) == 42.0
    assert retry_after_seconds({"retry-after": formatdate(now - 42, usegmt=True)}, now) == 0.0
    assert retry_after_seconds({"retry-after": "soon"}, now) is None
    assert retry_after_seconds({}, now) is None


@pytest.mark.parametrize("wire", WIRES)
def test_a_rate_limit_longer_than_the_deadline_gives_up_at_once_saying_why(wire) -> None:
    with ScriptedModel(wire, [Say(text="never")]) as model:
        model.fail_next(429, headers={"retry-after": "120"}, message="Rate limit reached for requests")
        with pytest.raises(LLMError) as error:
            model.provider().complete_with_tools(tool_request([TASK], model=model.model, deadline_seconds=30))
        assert model.slept == [] and len(model.requests) == 1
    message = str(error.value)
    assert "rate limited for 120 s, more than the 30 s left in the budget" in message
    assert "Rate limit reached for requests" in message


@pytest.mark.parametrize(("wire", "status"), [("openai", 500), ("openai", 503), ("anthropic", 529), ("anthropic", 502)])
def test_server_errors_are_retried_with_backoff(wire, status) -> None:
    with ScriptedModel(wire, [Say(text="ok")]) as model:
        model.fail_next(status, times=2)
        response = model.provider().complete_with_tools(tool_request([TASK], model=model.model))
        assert response.text == "ok" and model.slept == [2.0, 4.0] and len(model.requests) == 3


def test_persistent_server_errors_give_up_with_the_providers_message() -> None:
    with ScriptedModel("anthropic", [Say(text="never")]) as model:
        model.fail_next(529, times=10, message="Overloaded")
        with pytest.raises(LLMError, match=r"anthropic: gave up after 5 attempts \(HTTP 529: Overloaded\)"):
            model.provider().complete_with_tools(tool_request([TASK], model=model.model))
        assert len(model.requests) == 5


@pytest.mark.parametrize("wire", WIRES)
def test_error_bodies_are_surfaced_without_the_key(wire) -> None:
    key = OPENAI_KEY if wire == "openai" else ANTHROPIC_KEY
    with ScriptedModel(wire, []) as model:
        with pytest.raises(LLMError, match="the script is exhausted after 0 answers"):
            model.provider().complete_with_tools(tool_request([TASK], model=model.model))
        model.fail_next(401, message=f"Incorrect API key provided: {key}")
        with pytest.raises(LLMError) as error:
            model.provider().complete_with_tools(tool_request([TASK], model=model.model))
    assert "HTTP 401: Incorrect API key provided: [redacted]" in str(error.value) and key not in str(error.value)


def test_a_late_answer_times_out_and_is_retried_without_losing_the_step() -> None:
    with ScriptedModel("openai", [Say(text="on time")]) as model:
        model.delay_next(1.5)
        response = model.provider(timeout=0.3).complete_with_tools(tool_request([TASK], model=model.model))
        assert response.text == "on time" and len(model.requests) == 2 and len(model.exchanges()) == 1


def test_a_late_answer_never_keeps_the_caller_past_its_deadline() -> None:
    with ScriptedModel("anthropic", [Say(text="too late")]) as model:
        model.delay_next(5)
        started = time.monotonic()
        with pytest.raises(LLMError, match="timed out"):
            model.provider().complete_with_tools(tool_request([TASK], model=model.model, deadline_seconds=0.6))
        assert time.monotonic() - started < 3


# -- parameters per model ----------------------------------------------------------------------
@pytest.mark.parametrize("model_name", ["gpt-6-luna", "gpt-5-mini", "o3", "o4-mini"])
def test_reasoning_models_get_max_completion_tokens_and_no_temperature(model_name) -> None:
    with ScriptedModel("openai", [Say(text="ok"), Say(text='{"a": 1}')], model=model_name) as model:
        provider = model.provider()
        provider.complete_with_tools(tool_request([TASK], model=model_name, temperature=0.2))
        structured = LLMRequest("s", [ChatMessage("user", "hi")], model_name, 50, 0.2, "x", {"type": "object"})
        assert provider.complete(structured).text == '{"a": 1}'
    for body in model.requests:
        assert body["max_completion_tokens"] in (4000, 50) and "max_tokens" not in body and "temperature" not in body


def test_other_openai_models_keep_their_temperature_unless_none_is_given() -> None:
    with ScriptedModel("openai", [Say(text="a"), Say(text="b")], model="gpt-4.1-mini") as model:
        provider = model.provider()
        provider.complete_with_tools(tool_request([TASK], model="gpt-4.1-mini", temperature=0.2))
        provider.complete_with_tools(tool_request([TASK], model="gpt-4.1-mini", temperature=None))
    assert model.requests[0]["temperature"] == 0.2 and "temperature" not in model.requests[1]
    assert model.requests[0]["max_completion_tokens"] == 4000


def test_the_fake_rejects_max_tokens_for_reasoning_models_like_the_real_api() -> None:
    body = {"model": "gpt-6-luna", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
    with ScriptedModel("openai", [Say(text="never")]) as model:
        answer = httpx.post(f"{model.base_url}/chat/completions", headers={"Authorization": f"Bearer {OPENAI_KEY}"}, json=body)
    assert answer.status_code == 400
    assert (
        answer.json()["error"]["code"] == "unsupported_parameter" and "max_completion_tokens" in answer.json()["error"]["message"]
    )


def test_anthropic_requests_mark_the_system_prompt_and_the_tools_for_caching() -> None:
    with ScriptedModel("anthropic", [Say(text="ok", input_tokens=5000, cached_input_tokens=4000)]) as model:
        response = model.provider().complete_with_tools(tool_request([TASK], model=model.model, temperature=0.3))
        body, headers = model.requests[-1], model.headers[-1]
    assert body["system"] == [{"type": "text", "text": "You are the Developer.", "cache_control": {"type": "ephemeral"}}]
    assert [tool.get("cache_control") for tool in body["tools"]] == [None, {"type": "ephemeral"}]
    assert headers["anthropic-version"] == "2023-06-01" and headers["x-api-key"] == ANTHROPIC_KEY
    assert "temperature" not in body  # Claude 5 models answer 400 to a non-default temperature
    assert (response.input_tokens, response.cached_input_tokens) == (5000, 4000)
    assert estimate_tool_cost("anthropic", response) < estimate_tool_cost(
        "anthropic", ToolResponse("", (), "end_turn", 5000, 100, model.model)
    )


def test_openai_reports_cached_prompt_tokens() -> None:
    with ScriptedModel("openai", [Say(text="ok", input_tokens=3000, cached_input_tokens=2048)]) as model:
        response = model.provider().complete_with_tools(tool_request([TASK], model=model.model))
    assert (response.input_tokens, response.cached_input_tokens) == (3000, 2048)


def test_older_claude_models_keep_their_temperature() -> None:
    with ScriptedModel("anthropic", [Say(text="ok")], model="claude-sonnet-4-5") as model:
        model.provider().complete_with_tools(tool_request([TASK], model="claude-sonnet-4-5", temperature=0.3))
    assert model.requests[-1]["temperature"] == 0.3


def test_an_anthropic_provider_never_sends_an_openai_model_name() -> None:
    assert model_for("anthropic", None, "gpt-4.1-mini") == DEFAULT_MODELS["anthropic"] == "claude-sonnet-5-5"
    assert model_for("anthropic", "claude-opus-5-5", "gpt-4.1-mini") == "claude-opus-5-5"
    assert model_for("openai", "claude-sonnet-4-5", "gpt-6-luna") == "gpt-6-luna"
    assert model_for("offline", "gpt-6-luna") == "offline"
    with ScriptedModel("anthropic", [Say(text="ok")]) as model:
        model.provider().complete_with_tools(tool_request([TASK], model="gpt-4o-mini"))
    assert model.requests[-1]["model"] == "claude-sonnet-5-5"


def test_openai_itself_is_never_asked_for_a_claude_model() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        message = {"role": "assistant", "content": "ok", "refusal": None}
        return httpx.Response(200, json={"model": "gpt-6-luna", "choices": [{"message": message, "finish_reason": "stop"}]})

    provider = OpenAICompatibleProvider("sk-test", transport=httpx.MockTransport(answer))
    provider.complete_with_tools(tool_request([TASK], model="claude-sonnet-4-5"))
    assert str(seen[0].url) == "https://api.openai.com/v1/chat/completions"
    assert json.loads(seen[0].content)["model"] == DEFAULT_MODELS["openai"]


# -- the offline Developer script --------------------------------------------------------------
def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def run_bash(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run(["bash", "-c", command], cwd)


@pytest.fixture
def checkout(tmp_path: Path, pytestconfig: pytest.Config) -> Path:
    repo = tmp_path / "child"
    (repo / "src").mkdir(parents=True)
    (repo / "tests").mkdir()
    (repo / "src" / "__init__.py").write_text("")
    (repo / "tests" / "__init__.py").write_text("")
    shutil.copy(pytestconfig.rootpath / "pyproject.toml", repo / "pyproject.toml")  # the child's ruff and pytest settings
    for command in (
        ["git", "init", "-q"],
        ["git", "add", "-A"],
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "base"],
    ):
        assert run(command, repo).returncode == 0
    return repo


def test_the_offline_developer_script_writes_a_module_and_test_that_pass_the_checks(checkout: Path) -> None:
    provider = OfflineProvider()
    title = 'Add a "greeting" endpoint \\ with care, ' + "and a title far longer than any line of code should be " * 2
    metadata = {"issue_number": 42, "issue_title": title, "slug": "Add greeting!"}
    conversation: list[Turn] = [ChatMessage("user", "Implement issue #42.")]
    commands: list[str] = []
    for _ in range(4):
        response = provider.complete_with_tools(tool_request(conversation, model="offline", metadata=metadata))
        assert response.stop_reason == "tool_use" and len(response.tool_calls) == 1
        call = response.tool_calls[0]
        arguments = json.loads(call.arguments)
        conversation.append(response.as_turn())
        if call.name == "finish":
            break
        commands.append(arguments["command"])
        outcome = run_bash(arguments["command"], checkout)
        assert outcome.returncode == 0, outcome.stderr
        conversation.append(ToolResultsTurn((ToolResult(call.id, call.name, outcome.stdout),)))
    assert call.name == "finish" and len(commands) == 3 and commands[0] == "git ls-files | head -50"
    assert OFFLINE_LABEL in arguments["summary"] and arguments["title"].startswith("Issue #42: Add a 'greeting' endpoint")

    module = checkout / "src/features/issue_42_add_greeting.py"
    test = checkout / "tests/test_issue_42_add_greeting.py"
    assert (checkout / "src/features/__init__.py").read_text() == ""
    assert OFFLINE_LABEL in module.read_text()
    files = [str(module), str(test)]
    lint = run([sys.executable, "-m", "ruff", "check", *files], checkout)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    formatting = run([sys.executable, "-m", "ruff", "format", "--check", *files], checkout)
    assert formatting.returncode == 0, formatting.stdout + formatting.stderr
    for lines in ("79", "88"):  # whatever line length a child chooses
        for command in (["check", "--select", "E,F,I,W"], ["format", "--check"]):
            strict = run([sys.executable, "-m", "ruff", *command, "--isolated", "--line-length", lines, *files], checkout)
            assert strict.returncode == 0, strict.stdout + strict.stderr
    tests = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test)], checkout)
    assert tests.returncode == 0 and "1 passed" in tests.stdout, tests.stdout + tests.stderr

    # A failed check is answered with `finish` again; the loop bounds how often.
    conversation.append(ToolResultsTurn((ToolResult(call.id, "finish", "checks failed: pytest exited 1", is_error=True),)))
    again = provider.complete_with_tools(tool_request(conversation, model="offline", metadata=metadata))
    assert again.tool_calls[0].name == "finish" and again.tool_calls[0].id != call.id


def test_the_offline_developer_script_keeps_an_existing_package_init(checkout: Path) -> None:
    (checkout / "src/features").mkdir()
    (checkout / "src/features/__init__.py").write_text('"""Features."""\n')
    provider = OfflineProvider()
    conversation: list[Turn] = [TASK, AssistantTurn("", (ToolCall("c1", "bash", "{}"),))]
    conversation.append(ToolResultsTurn((ToolResult("c1", "bash", ""),)))
    response = provider.complete_with_tools(
        tool_request(conversation, model="offline", metadata={"issue_number": 3, "slug": "x"})
    )
    assert run_bash(json.loads(response.tool_calls[0].arguments)["command"], checkout).returncode == 0
    assert (checkout / "src/features/__init__.py").read_text() == '"""Features."""\n'
    assert (checkout / "src/features/issue_3_x.py").is_file()


def test_the_offline_developer_script_needs_its_tools() -> None:
    request = ToolRequest("s", [TASK], [BASH], "offline", 100, None)
    with pytest.raises(LLMError, match="`bash` and `finish`"):
        OfflineProvider().complete_with_tools(request)
