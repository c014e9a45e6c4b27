"""GitHub client rate limits and App auth; hosted LLM providers' HTTP handling; settings."""

from __future__ import annotations

import json

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from osorganicai.config import load_config
from osorganicai.github import AppAuth, GitHubClient, GitHubRateLimitError, TokenAuth
from osorganicai.llm import LLMError, LLMRequest, provider_from_settings
from osorganicai.llm.anthropic import AnthropicProvider
from osorganicai.llm.openai_compat import OpenAICompatibleProvider
from osorganicai.settings import MissingSettingError, Settings

SCHEMA = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}
REQUEST = LLMRequest(system="s", messages=[], model="m", max_tokens=10, temperature=0, schema_name="x", json_schema=SCHEMA)


def test_rate_limit_waits_until_reset_then_retries() -> None:
    answers = [
        httpx.Response(
            403, headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1030"}, json={"message": "API rate limit"}
        ),
        httpx.Response(200, json={"number": 1}),
    ]
    slept: list[float] = []
    client = GitHubClient(
        TokenAuth("t"), transport=httpx.MockTransport(lambda request: answers.pop(0)), sleep=slept.append, clock=lambda: 1000.0
    )
    assert client.get_issue("o/r", 1) == {"number": 1}
    assert slept == [31.0]


def test_rate_limit_longer_than_allowed_raises() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(429, headers={"retry-after": "3600"}))
    client = GitHubClient(TokenAuth("t"), transport=transport, sleep=lambda s: None, max_rate_limit_wait=60)
    with pytest.raises(GitHubRateLimitError) as error:
        client.get_issue("o/r", 1)
    assert error.value.wait_seconds == 3600


def test_app_auth_mints_and_caches_an_installation_token() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    seen: list[tuple[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.path, request.headers["authorization"]))
        if request.url.path == "/app/installations/42/access_tokens":
            return httpx.Response(201, json={"token": "installation-token", "expires_at": "2999-01-01T00:00:00Z"})
        return httpx.Response(200, json={"number": 1})

    client = GitHubClient(AppAuth("123", pem.decode().replace("\n", "\\n"), "42"), transport=httpx.MockTransport(handler))
    client.get_issue("o/r", 1)
    client.get_issue("o/r", 1)
    app_jwt = seen[0][1].removeprefix("Bearer ")
    claims = jwt.decode(app_jwt, key.public_key(), algorithms=["RS256"])
    assert claims["iss"] == "123"
    assert [path for path, _ in seen].count("/app/installations/42/access_tokens") == 1
    assert seen[1][1] == seen[2][1] == "Bearer installation-token"


def test_openai_compatible_provider_retries_then_parses() -> None:
    answers = [
        httpx.Response(500),
        httpx.Response(
            200,
            json={
                "model": "gpt-4o-mini",
                "choices": [{"message": {"content": '{"a": 1}'}}],
                "usage": {"prompt_tokens": 7, "completion_tokens": 3},
            },
        ),
    ]
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return answers.pop(0)

    provider_sleep: list[float] = []
    provider = OpenAICompatibleProvider(
        "sk-test", "http://127.0.0.1:1/v1", transport=httpx.MockTransport(handler), sleep=provider_sleep.append
    )
    response = provider.complete(REQUEST)
    assert (response.text, response.input_tokens, response.output_tokens) == ('{"a": 1}', 7, 3)
    assert json.loads(requests[-1].content)["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "x", "schema": SCHEMA | {"additionalProperties": False}, "strict": True},
    }
    assert requests[-1].url.path == "/v1/chat/completions" and len(provider_sleep) == 1


def test_anthropic_provider_reports_errors_without_the_key() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(401, json={"error": {"message": "invalid x-api-key"}}))
    provider = AnthropicProvider("sk-ant-secret", transport=transport)
    with pytest.raises(LLMError) as error:
        provider.complete(REQUEST)
    assert "401" in str(error.value) and "sk-ant-secret" not in str(error.value)


def test_provider_settings_are_named_when_missing() -> None:
    with pytest.raises(MissingSettingError, match="ANTHROPIC_API_KEY"):
        provider_from_settings(Settings.from_env({"LLM_PROVIDER": "anthropic"}))
    with pytest.raises(MissingSettingError, match="LLM_PROVIDER"):
        provider_from_settings(Settings.from_env({}))
    assert provider_from_settings(Settings.from_env({}), "offline").name == "offline"


def test_config_defaults_when_files_are_missing(tmp_path) -> None:
    config = load_config(tmp_path)
    assert config.domain.name == "general" and config.limits.max_llm_calls_per_job == 6
    assert config.product_owner.system_prompt and config.developer.max_tokens == 8000


def test_config_reads_the_child_files(runtime_config) -> None:
    assert runtime_config.domain.name == "e-commerce" and runtime_config.domain.review_checklist == ("PCI-DSS",)
    assert runtime_config.developer.temperature == 0.1


def test_publish_settings_are_read_and_checked(tmp_path) -> None:
    from osorganicai.config import ConfigError

    config = tmp_path / "config"
    config.mkdir()
    (config / "agents.toml").write_text('[publish]\nallow_workflow_changes = true\nprotected_paths = ["docs/legal"]\n')
    publish = load_config(tmp_path).publish
    assert publish.allow_workflow_changes is True and publish.protected_paths == ("docs/legal",)
    (config / "agents.toml").write_text('[publish]\nprotected_paths = "docs"\n')
    with pytest.raises(ConfigError, match=r"\[publish\].protected_paths must be a list"):
        load_config(tmp_path)
    (config / "agents.toml").write_text("[developer]\nmax_steps = 0\n")
    with pytest.raises(ConfigError, match=r"\[developer\].max_steps must be greater than 0"):
        load_config(tmp_path)
    (config / "agents.toml").write_text('[[developer.checks]]\nname = "lint"\ncommand = "make lint"\nfiles = "all"\n')
    with pytest.raises(ConfigError, match=r"files must be one of none, changed-python"):
        load_config(tmp_path)
