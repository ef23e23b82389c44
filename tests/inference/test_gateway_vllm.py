"""The gateway in front of the real vLLM CPU server on the tiny DeepSeek-V3, with the unmodified
``openai`` client and LangChain's ``ChatOpenAI``: chat, a stream with the final usage chunk, a
``json_schema`` answer that parses and validates, a tool call passed through, and OpenAI-shaped
401 / 404 / 429. The model's words are random; its structure (schema, tool call, usage) is not."""

from __future__ import annotations

import json
from typing import Any, Literal

import openai
import pytest
from langchain_openai import ChatOpenAI
from pydantic import BaseModel, ConfigDict, Field

from tests.inference.gateway_fixtures import (  # noqa: F401  (fixtures)
    CLIENT_KEY,
    Gateway,
    GatewayFactory,
    gateway_factory_fixture,
)

pytestmark = [pytest.mark.vllm, pytest.mark.slow]

MESSAGES: list[Any] = [{"role": "user", "content": "Who are the parties to this lease?"}]
LIMITED_KEY = "sk-limited"


class Party(BaseModel):
    # bounded strings: a random-weight model would otherwise write until max_tokens
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=16)
    role: Literal["lessor", "lessee", "guarantor"]
    signed: bool


CLAUSE_TOOL = {"type": "function", "function": {
    "name": "find_clause",
    "description": "Find a clause of the contract by its category.",
    "parameters": {"type": "object", "additionalProperties": False,
                   "properties": {"category": {"type": "string", "maxLength": 16},
                                  "page": {"type": "integer", "minimum": 1,
                                           "maximum": 9999}},
                   "required": ["category", "page"]}}}


@pytest.fixture
def gateway(vllm_server: Any, gateway_factory: GatewayFactory) -> Gateway:
    """A gateway in front of the session's vLLM server (tests/inference/conftest.py)."""
    base_url, model = vllm_server
    backend = {"base_url": base_url, "models": {"deepseek-v3": model},
               "price": {"input_per_mtok": 0.27, "output_per_mtok": 1.10},
               "read_timeout_s": 120}
    return gateway_factory({
        "backends": {"local-vllm": backend},
        "routes": {"deepseek-v3": {"backends": {"local-vllm": 1}}},
        "keys": [{"name": "vllm-test", "key": CLIENT_KEY},
                 {"name": "vllm-limited", "key": LIMITED_KEY, "requests_per_minute": 1}],
    })


def client(gateway: Gateway, key: str = CLIENT_KEY) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.base_url, api_key=key, max_retries=0, timeout=120)


def test_chat_and_stream_with_usage(gateway: Gateway) -> None:
    api = client(gateway)
    completion = api.chat.completions.create(model="deepseek-v3", messages=MESSAGES,
                                             max_tokens=8, extra_body={"ignore_eos": True})
    assert completion.model == "deepseek-v3"
    assert isinstance(completion.choices[0].message.content, str)
    assert completion.usage is not None
    assert completion.usage.prompt_tokens > 0 and completion.usage.completion_tokens == 8

    chunks = list(api.chat.completions.create(
        model="deepseek-v3", messages=MESSAGES, max_tokens=6, stream=True,
        stream_options={"include_usage": True}, extra_body={"ignore_eos": True}))
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 6
    assert any(c.choices and c.choices[0].finish_reason == "length" for c in chunks)
    assert {c.model for c in chunks} == {"deepseek-v3"}


def test_json_schema_output_parses_and_validates(gateway: Gateway) -> None:
    response_format = {"type": "json_schema", "json_schema": {
        "name": "party", "strict": True, "schema": Party.model_json_schema()}}
    completion = client(gateway).chat.completions.create(
        model="deepseek-v3", messages=MESSAGES, max_tokens=200, temperature=0,
        response_format=response_format)  # type: ignore[arg-type]
    content = completion.choices[0].message.content or ""
    party = Party.model_validate_json(content)  # raises unless the schema was followed
    assert party.role in ("lessor", "lessee", "guarantor") and len(party.name) <= 16


def test_tool_call_passes_through(gateway: Gateway) -> None:
    completion = client(gateway).chat.completions.create(
        model="deepseek-v3", messages=MESSAGES, max_tokens=200, temperature=0,
        tools=[CLAUSE_TOOL],  # type: ignore[list-item]
        tool_choice={"type": "function", "function": {"name": "find_clause"}})
    calls = completion.choices[0].message.tool_calls
    assert calls, completion
    call = calls[0]
    assert call.type == "function" and call.function.name == "find_clause"
    arguments = json.loads(call.function.arguments)
    assert set(arguments) == {"category", "page"} and isinstance(arguments["page"], int)
    assert 1 <= arguments["page"] <= 9999  # the schema's bounds are enforced in decoding


def test_langchain_chat_openai_through_the_gateway(gateway: Gateway) -> None:
    llm = ChatOpenAI(base_url=gateway.base_url, api_key=CLIENT_KEY, model="deepseek-v3",
                     max_retries=0, max_tokens=6, stream_usage=True,
                     extra_body={"ignore_eos": True})
    answer = llm.invoke("Summarise the termination clause.")
    assert answer.usage_metadata is not None and answer.usage_metadata["output_tokens"] == 6
    parts = list(llm.stream("And the renewal terms?"))
    assert sum((p.usage_metadata or {}).get("output_tokens", 0) for p in parts) == 6

    free = ChatOpenAI(base_url=gateway.base_url, api_key=CLIENT_KEY, model="deepseek-v3",
                      max_retries=0, max_tokens=200, temperature=0)
    party = free.with_structured_output(Party, method="json_schema").invoke("Name one party.")
    assert isinstance(party, Party)


def test_errors_bad_key_unknown_model_over_limit(gateway: Gateway) -> None:
    with pytest.raises(openai.AuthenticationError):
        client(gateway, key="sk-nope").chat.completions.create(model="deepseek-v3",
                                                              messages=MESSAGES)
    with pytest.raises(openai.NotFoundError) as unknown:
        client(gateway).chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert unknown.value.code == "model_not_found"

    limited = client(gateway, key=LIMITED_KEY)
    limited.chat.completions.create(model="deepseek-v3", messages=MESSAGES, max_tokens=2)
    with pytest.raises(openai.RateLimitError) as over:
        limited.chat.completions.create(model="deepseek-v3", messages=MESSAGES, max_tokens=2)
    assert int(over.value.response.headers["retry-after"]) >= 1
