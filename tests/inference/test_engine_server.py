"""The real vLLM CPU server on the tiny DeepSeek-V3, driven by the official ``openai`` client
exactly as LexLedger's agents drive it: chat, streaming with a usage chunk, JSON-schema output
that parses and validates, and tool calls parsed by the ``deepseek_v3`` tool parser."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Literal

import httpx
import openai
import pytest
from openai import OpenAI
from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from tests.inference.conftest import VllmServer

pytestmark = [pytest.mark.vllm, pytest.mark.slow]


@pytest.fixture(scope="module")
def client(vllm_server: VllmServer) -> OpenAI:
    return OpenAI(base_url=vllm_server.base_url, api_key="unused", max_retries=0, timeout=120)


class LeaseFacts(BaseModel):
    """What the legal agent asks for; every field bounded so that a random-weight model must
    close the object well within max_tokens."""

    model_config = ConfigDict(extra="forbid")

    document_type: Literal["lease", "nda", "annual_report"]
    term_months: int = Field(ge=1, le=120)
    auto_renewal: bool
    governing_law: str = Field(max_length=12)


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_rent_schedule",
        "description": "Look up the rent schedule of a lease by year.",
        "parameters": {
            "type": "object",
            "properties": {"year": {"enum": [2024, 2025, 2026]},
                           "currency": {"enum": ["THB", "USD"]}},
            "required": ["year", "currency"],
            "additionalProperties": False,
        },
    },
}


def test_models_lists_the_served_name(client: OpenAI, vllm_server: VllmServer) -> None:
    assert [m.id for m in client.models.list().data] == [vllm_server.model]


def test_chat_completion_counts_tokens(client: OpenAI, vllm_server: VllmServer) -> None:
    reply = client.chat.completions.create(
        model=vllm_server.model, max_tokens=12, temperature=0,
        messages=[{"role": "user", "content": "Summarise clause 4 of the lease."}])
    choice = reply.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content
    assert choice.finish_reason in {"stop", "length"}
    assert reply.usage is not None
    assert 0 < reply.usage.completion_tokens <= 12
    assert reply.usage.prompt_tokens > 5


def test_same_seed_same_text(client: OpenAI, vllm_server: VllmServer) -> None:
    """Greedy decoding of the deterministic tiny model answers the same prompt identically."""
    answers = {
        client.chat.completions.create(
            model=vllm_server.model, max_tokens=10, temperature=0,
            messages=[{"role": "user", "content": "Who are the parties?"}],
        ).choices[0].message.content
        for _ in range(2)}
    assert len(answers) == 1


def test_stream_ends_with_a_usage_chunk(client: OpenAI, vllm_server: VllmServer) -> None:
    stream = client.chat.completions.create(
        model=vllm_server.model, max_tokens=10, temperature=0, stream=True,
        stream_options={"include_usage": True},
        messages=[{"role": "user", "content": "List the termination rights."}])
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text
    assert [c for c in chunks if c.choices][-1].choices[0].finish_reason in {"stop", "length"}
    usage_chunks = [c for c in chunks if c.usage is not None]
    assert len(usage_chunks) == 1 and usage_chunks[0] is chunks[-1]
    assert usage_chunks[0].choices == []
    assert 0 < usage_chunks[0].usage.completion_tokens <= 10


def test_stream_on_the_wire_ends_with_done(vllm_server: VllmServer) -> None:
    body = {"model": vllm_server.model, "max_tokens": 4, "stream": True,
            "messages": [{"role": "user", "content": "hi"}]}
    with httpx.stream("POST", f"{vllm_server.base_url}/chat/completions", json=body,
                      timeout=60) as response:
        events = [line for line in response.iter_lines() if line.startswith("data:")]
    assert response.headers["content-type"].startswith("text/event-stream")
    assert events[-1] == "data: [DONE]"
    assert all(json.loads(e[5:])["object"] == "chat.completion.chunk" for e in events[:-1])


def test_json_schema_output_parses_and_validates(client: OpenAI,
                                                 vllm_server: VllmServer) -> None:
    reply = client.chat.completions.create(
        model=vllm_server.model, max_tokens=120, temperature=0,
        messages=[{"role": "user", "content": "Extract the lease facts as JSON."}],
        response_format={"type": "json_schema", "json_schema": {
            "name": "lease_facts", "strict": True, "schema": LeaseFacts.model_json_schema()}})
    assert reply.choices[0].finish_reason == "stop"
    facts = LeaseFacts.model_validate_json(reply.choices[0].message.content or "")
    assert 1 <= facts.term_months <= 120


def test_openai_parse_helper_returns_the_model(client: OpenAI,
                                               vllm_server: VllmServer) -> None:
    """The client's own structured-output helper, as LangChain's ``with_structured_output``
    uses it, gets a validated object back."""
    reply = client.beta.chat.completions.parse(
        model=vllm_server.model, max_tokens=120, temperature=0, response_format=LeaseFacts,
        messages=[{"role": "user", "content": "Extract the lease facts."}])
    assert isinstance(reply.choices[0].message.parsed, LeaseFacts)


def test_named_tool_choice_returns_a_parsed_tool_call(client: OpenAI,
                                                      vllm_server: VllmServer) -> None:
    reply = client.chat.completions.create(
        model=vllm_server.model, max_tokens=60, temperature=0, tools=[WEATHER_TOOL],
        tool_choice={"type": "function", "function": {"name": "get_rent_schedule"}},
        messages=[{"role": "user", "content": "What is the rent in 2025?"}])
    calls = reply.choices[0].message.tool_calls or []
    assert len(calls) == 1
    assert calls[0].type == "function"
    assert calls[0].function.name == "get_rent_schedule"
    arguments = json.loads(calls[0].function.arguments)
    assert arguments["year"] in {2024, 2025, 2026}
    assert arguments["currency"] in {"THB", "USD"}
    assert calls[0].id


def test_required_tool_choice_calls_a_tool(client: OpenAI, vllm_server: VllmServer) -> None:
    reply = client.chat.completions.create(
        model=vllm_server.model, max_tokens=80, temperature=0, tools=[WEATHER_TOOL],
        tool_choice="required", parallel_tool_calls=False,
        messages=[{"role": "user", "content": "What is the rent in 2025?"}])
    calls = reply.choices[0].message.tool_calls or []
    assert [c.function.name for c in calls] == ["get_rent_schedule"]
    assert set(json.loads(calls[0].function.arguments)) == {"year", "currency"}


def test_auto_tool_choice_is_accepted(client: OpenAI, vllm_server: VllmServer) -> None:
    """With tools offered and no constraint the model may answer in text (the tiny model does):
    the request must still succeed with a well-formed message."""
    reply = client.chat.completions.create(
        model=vllm_server.model, max_tokens=8, temperature=0, tools=[WEATHER_TOOL],
        tool_choice="auto", messages=[{"role": "user", "content": "Hello"}])
    message = reply.choices[0].message
    assert message.content or message.tool_calls


def test_unknown_model_is_a_404(client: OpenAI) -> None:
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="gpt-5", max_tokens=4,
                                       messages=[{"role": "user", "content": "hi"}])
