"""The gateway's OpenAI-compatible surface, seen through the unmodified ``openai`` client and
LangChain's ``ChatOpenAI``, in front of a stub upstream: completions, streams with and without
the usage chunk, the model list, OpenAI-shaped errors (401, 404, 400, upstream 4xx passed
through), per-key limits and budgets answered with 429 and Retry-After, and the usage ledger's
cost summary per key, day and backend."""

from __future__ import annotations

import concurrent.futures
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import openai
import pytest
from langchain_openai import ChatOpenAI

from tests.inference.gateway_fixtures import (  # noqa: F401  (fixtures)
    CLIENT_KEY,
    Gateway,
    GatewayFactory,
    Server,
    client_key,
    gateway_factory_fixture,
    set_mode,
    stub_backend,
    stub_requests,
    stubs_fixture,
)

MESSAGES: list[Any] = [{"role": "user", "content": "Summarise the lease term, please."}]


def single_backend_config(stub: Server, **key_limits: Any) -> dict[str, Any]:
    return {"backends": {"local": stub_backend(stub, model="tiny-upstream")},
            "routes": {"deepseek-v3": {"backends": {"local": 1}}},
            "keys": [client_key(**key_limits)]}


def client(gateway: Gateway, key: str = CLIENT_KEY) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.base_url, api_key=key, max_retries=0)


@pytest.fixture
def stub(stubs: Callable[..., Server]) -> Server:
    return stubs(model="tiny-upstream")


def test_chat_and_streams_look_like_openai(stub: Server,
                                           gateway_factory: GatewayFactory) -> None:
    gateway = gateway_factory(single_backend_config(stub))
    api = client(gateway)

    raw = api.chat.completions.with_raw_response.create(model="deepseek-v3", messages=MESSAGES)
    completion = raw.parse()
    assert raw.headers["x-lexledger-backend"] == "local"
    assert completion.model == "deepseek-v3"  # the public name, not the backend's
    assert completion.choices[0].message.content == "tok " * 16
    assert completion.usage is not None and completion.usage.completion_tokens == 16

    chunks = list(api.chat.completions.create(model="deepseek-v3", messages=MESSAGES,
                                              stream=True,
                                              stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == completion.choices[0].message.content
    assert {c.model for c in chunks} == {"deepseek-v3"}
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 16

    # the gateway always meters streams, but a client that did not ask sees no usage chunk
    plain = list(api.chat.completions.create(model="deepseek-v3", messages=MESSAGES,
                                             stream=True))
    assert all(c.usage is None for c in plain)
    assert all(c.choices for c in plain)

    models = api.models.list()
    assert [m.id for m in models.data] == ["deepseek-v3"]


def test_langchain_chat_openai(stub: Server, gateway_factory: GatewayFactory) -> None:
    gateway = gateway_factory(single_backend_config(stub))
    llm = ChatOpenAI(base_url=gateway.base_url, api_key=CLIENT_KEY, model="deepseek-v3",
                     max_retries=0, stream_usage=True)
    answer = llm.invoke("What is the governing law?")
    assert answer.content == "tok " * 16
    assert answer.usage_metadata is not None and answer.usage_metadata["output_tokens"] == 16
    streamed = list(llm.stream("And the term?"))
    assert "".join(str(part.content) for part in streamed) == "tok " * 16
    assert sum((p.usage_metadata or {}).get("output_tokens", 0) for p in streamed) == 16


def test_errors_have_openai_shape_and_status(stub: Server,
                                             gateway_factory: GatewayFactory) -> None:
    gateway = gateway_factory(single_backend_config(stub))

    with pytest.raises(openai.AuthenticationError) as bad_key:
        client(gateway, key="sk-wrong").chat.completions.create(model="deepseek-v3",
                                                               messages=MESSAGES)
    assert bad_key.value.status_code == 401
    assert set(bad_key.value.body) == {"message", "type", "param", "code"}  # type: ignore[arg-type]

    with pytest.raises(openai.NotFoundError) as unknown:
        client(gateway).chat.completions.create(model="gpt-nonexistent", messages=MESSAGES)
    assert unknown.value.code == "model_not_found"

    response = httpx.post(gateway.base_url + "/chat/completions",
                          headers={"Authorization": f"Bearer {CLIENT_KEY}"},
                          json={"model": "deepseek-v3"})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "messages"

    # an upstream's own 4xx reaches the client unchanged, and is not retried
    set_mode(stub, fail_status=400)
    before = stub_requests(stub)
    with pytest.raises(openai.BadRequestError) as rejected:
        client(gateway).chat.completions.create(model="deepseek-v3", messages=MESSAGES)
    assert "injected failure" in rejected.value.message
    assert stub_requests(stub) == before + 1


def test_requests_per_minute_limit_answers_429_with_retry_after(
        stub: Server, gateway_factory: GatewayFactory) -> None:
    gateway = gateway_factory(single_backend_config(stub, requests_per_minute=2))
    api = client(gateway)
    for _ in range(2):
        api.chat.completions.create(model="deepseek-v3", messages=MESSAGES)
    with pytest.raises(openai.RateLimitError) as limited:
        api.chat.completions.create(model="deepseek-v3", messages=MESSAGES)
    retry_after = int(limited.value.response.headers["retry-after"])
    assert 1 <= retry_after <= 60
    assert stub_requests(stub) == 2  # the refused request never reached the backend


def test_tokens_per_minute_budget_and_concurrency_limits(
        stubs: Callable[..., Server], gateway_factory: GatewayFactory) -> None:
    stub = stubs(model="tiny-upstream")
    # each call uses 16 completion + 9 prompt tokens: the second call crosses 40
    gateway = gateway_factory(single_backend_config(stub, tokens_per_minute=40))
    api = client(gateway)
    api.chat.completions.create(model="deepseek-v3", messages=MESSAGES)
    api.chat.completions.create(model="deepseek-v3", messages=MESSAGES)
    with pytest.raises(openai.RateLimitError) as tpm:
        api.chat.completions.create(model="deepseek-v3", messages=MESSAGES)
    assert "tokens per minute" in tpm.value.message

    # $1/MTok in, $2/MTok out: one call costs about $0.00004, the budget holds one call
    # budgets count this month's spend in the ledger, so this key has a name of its own
    budget_config = single_backend_config(stub)
    budget_config["keys"] = [{"name": "budget-test", "key": CLIENT_KEY,
                              "monthly_budget_usd": 0.00002}]
    budget_gateway = gateway_factory(budget_config)
    budget_api = client(budget_gateway)
    budget_api.chat.completions.create(model="deepseek-v3", messages=MESSAGES)
    with pytest.raises(openai.RateLimitError) as spent:
        budget_api.chat.completions.create(model="deepseek-v3", messages=MESSAGES)
    assert spent.value.code == "insufficient_quota"

    set_mode(stub, delay_ms=600)
    slow_gateway = gateway_factory(single_backend_config(stub, max_concurrent=1))
    slow_api = client(slow_gateway)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(slow_api.chat.completions.create, model="deepseek-v3",
                               messages=MESSAGES) for _ in range(2)]
        outcomes = [f.exception() for f in futures]
    refused = [e for e in outcomes if e is not None]
    assert len(refused) == 1 and isinstance(refused[0], openai.RateLimitError)


def test_usage_ledger_summary_per_key_day_backend(stub: Server,
                                                  gateway_factory: GatewayFactory) -> None:
    config = single_backend_config(stub)
    config["keys"] = [{"name": "ledger-team-a", "key": "sk-team-a"},
                      {"name": "ledger-team-b", "key": "sk-team-b"}]
    gateway = gateway_factory(config)
    for key, calls in (("sk-team-a", 3), ("sk-team-b", 1)):
        api = client(gateway, key=key)
        for _ in range(calls):
            api.chat.completions.create(model="deepseek-v3", messages=MESSAGES,
                                        extra_headers={"X-LexLedger-Document-Id": "doc-42"})
        list(api.chat.completions.create(model="deepseek-v3", messages=MESSAGES, stream=True))

    assert httpx.get(gateway.url + "/admin/usage/summary").status_code == 401
    summary = gateway.admin("GET", "/admin/usage/summary").json()
    by_key = {row["key"]: row for row in summary["by_key"]}
    prompt = len(MESSAGES[0]["content"]) // 4 + 1  # the stub's token count
    for name, requests in (("ledger-team-a", 4), ("ledger-team-b", 2)):
        row = by_key[name]
        assert row["requests"] == requests  # streams are metered too
        assert row["completion_tokens"] == 16 * requests
        assert row["cost_usd"] == pytest.approx(requests * (prompt * 1.0 + 16 * 2.0) / 1e6)
    assert any(row["backend"] == "local" and row["requests"] >= 6 for row in summary["by_backend"])
    assert sum(row["requests"] for row in summary["by_day"]) >= 6
    only_b = gateway.admin("GET", "/admin/usage/summary", params={"key": "ledger-team-b"}).json()
    assert [row["key"] for row in only_b["by_key"]] == ["ledger-team-b"]

    metrics = httpx.get(gateway.url + "/metrics").text
    assert 'lexledger_gateway_requests_total{backend="local",model="deepseek-v3",status="200"}' \
        in metrics


def test_replicas_share_rate_limits_through_redis(stub: Server,
                                                  gateway_factory: GatewayFactory) -> None:
    config = single_backend_config(stub)
    # a fresh key name per run: the counters live in the shared Redis
    config["keys"] = [{"name": f"shared-{uuid.uuid4().hex[:8]}", "key": CLIENT_KEY,
                       "requests_per_minute": 3}]
    redis = {"LEXLEDGER_GATEWAY__LIMITS_STORAGE_URI": "async+redis://127.0.0.1:6379/0"}
    replicas = [gateway_factory(config, **redis) for _ in range(2)]
    answered = 0
    for attempt in range(6):
        try:
            client(replicas[attempt % 2]).chat.completions.create(model="deepseek-v3",
                                                                  messages=MESSAGES)
            answered += 1
        except openai.RateLimitError:
            pass
    assert answered == 3  # one budget of 3 per minute across both replicas, not 3 each


def test_requests_are_served_while_the_ledger_database_is_down(
        stub: Server, gateway_factory: GatewayFactory) -> None:
    nowhere = "postgresql+psycopg://postgres@127.0.0.1:5432/lexledger_gateway_no_such_db"
    gateway = gateway_factory(single_backend_config(stub), LEXLEDGER_DB__URL=nowhere)
    api = client(gateway)
    for _ in range(3):
        api.chat.completions.create(model="deepseek-v3", messages=MESSAGES)
    deadline = time.monotonic() + 10
    while True:
        metrics = httpx.get(gateway.url + "/metrics").text
        # the rows wait in memory for the database instead of being dropped
        if "lexledger_gateway_ledger_failed_flushes 0.0" not in metrics:
            break
        assert time.monotonic() < deadline, "the failed ledger writes never showed"
        time.sleep(0.2)
    assert "lexledger_gateway_ledger_pending 3.0" in metrics
