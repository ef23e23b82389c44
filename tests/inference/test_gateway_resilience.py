"""Retries, fallback and cooldown with stub upstreams (one healthy, one injected failing or
unreachable): a non-streaming client sees no error when another backend can answer, a stream that
fails before its first token is served whole by the fallback, transient failures are retried on
the same backend, a backend that keeps failing is cooled down and skipped, and when nothing can
answer the client gets a clean OpenAI error. Also weighted and per-conversation sticky routing."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import openai
import pytest

from tests.inference.gateway_fixtures import (  # noqa: F401  (fixtures)
    CLIENT_KEY,
    Gateway,
    GatewayFactory,
    Server,
    client_key,
    free_port,
    gateway_factory_fixture,
    set_mode,
    stub_backend,
    stub_requests,
    stubs_fixture,
)

MESSAGES: list[Any] = [{"role": "user", "content": "Is there a liability cap?"}]


def api(gateway: Gateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.base_url, api_key=CLIENT_KEY, max_retries=0)


def two_backend_config(primary: dict[str, Any], fallback: dict[str, Any],
                       **route: Any) -> dict[str, Any]:
    return {"backends": {"primary": primary, "fallback": fallback},
            "routes": {"deepseek-v3": {"backends": {"primary": 1}, "fallbacks": ["fallback"],
                                       **route}},
            "keys": [client_key()],
            "retry": {"max_attempts": 3, "backoff_base_s": 0.01, "backoff_max_s": 0.05},
            "cooldown": {"consecutive_failures": 2, "seconds": 60}}


def served_by(gateway: Gateway, stream: bool = False) -> tuple[str, str]:
    """(backend header, text) of one request through the gateway."""
    client = api(gateway)
    if not stream:
        raw = client.chat.completions.with_raw_response.create(model="deepseek-v3",
                                                               messages=MESSAGES)
        return raw.headers["x-lexledger-backend"], raw.parse().choices[0].message.content or ""
    with client.chat.completions.with_streaming_response.create(
            model="deepseek-v3", messages=MESSAGES, stream=True) as response:
        backend = response.headers["x-lexledger-backend"]
        text = "".join(c.choices[0].delta.content or "" for c in response.parse() if c.choices)
    return backend, text


def test_failing_backend_falls_back_then_cools_down(stubs: Callable[..., Server],
                                                    gateway_factory: GatewayFactory) -> None:
    bad, good = stubs(), stubs()
    set_mode(bad, fail_status=503)
    gateway = gateway_factory(two_backend_config(stub_backend(bad), stub_backend(good)))

    for _ in range(2):
        assert served_by(gateway) == ("fallback", "tok " * 16)
    assert stub_requests(bad) == 2
    # two consecutive failures cooled the primary down: it is no longer tried first
    health = httpx.get(gateway.url + "/health").json()
    assert health["backends"]["primary"]["cooled_down"] is True
    for _ in range(3):
        assert served_by(gateway)[0] == "fallback"
    assert stub_requests(bad) == 2
    metrics = httpx.get(gateway.url + "/metrics").text
    assert 'lexledger_gateway_cooldowns_total{backend="primary"} 1.0' in metrics
    # only the two requests that first tried the primary count as fallbacks
    assert 'lexledger_gateway_fallbacks_total{model="deepseek-v3"} 2.0' in metrics


def test_stream_failing_before_first_token_is_served_by_fallback(
        stubs: Callable[..., Server], gateway_factory: GatewayFactory) -> None:
    breaking, good = stubs(), stubs()
    set_mode(breaking, break_stream=True)  # 200, a role chunk, then the connection ends
    gateway = gateway_factory(two_backend_config(stub_backend(breaking), stub_backend(good)))
    assert served_by(gateway, stream=True) == ("fallback", "tok " * 16)
    assert stub_requests(breaking) == 1

    set_mode(breaking, break_stream=False, fail_status=500)
    assert served_by(gateway, stream=True) == ("fallback", "tok " * 16)


def test_unreachable_backend_falls_back(stubs: Callable[..., Server],
                                        gateway_factory: GatewayFactory) -> None:
    good = stubs()
    nowhere = {"base_url": f"http://127.0.0.1:{free_port()}/v1",
               "models": {"deepseek-v3": "m"}, "connect_timeout_s": 0.5}
    gateway = gateway_factory(two_backend_config(nowhere, stub_backend(good)))
    assert served_by(gateway) == ("fallback", "tok " * 16)
    assert served_by(gateway, stream=True) == ("fallback", "tok " * 16)


def test_transient_errors_are_retried_on_the_same_backend(
        stubs: Callable[..., Server], gateway_factory: GatewayFactory) -> None:
    flaky = stubs()
    config = {"backends": {"only": stub_backend(flaky)},
              "routes": {"deepseek-v3": {"backends": {"only": 1}}},
              "keys": [client_key()],
              "retry": {"max_attempts": 3, "backoff_base_s": 0.01, "max_retry_after_s": 2}}
    gateway = gateway_factory(config)
    set_mode(flaky, fail_status=502, fail_count=2)
    assert served_by(gateway) == ("only", "tok " * 16)
    assert stub_requests(flaky) == 3

    set_mode(flaky, fail_status=429, fail_count=1, retry_after=1)
    assert served_by(gateway, stream=True) == ("only", "tok " * 16)

    # nothing left to try: the upstream's 429 and its Retry-After reach the client
    set_mode(flaky, fail_status=429, fail_count=0, retry_after=30)
    with pytest.raises(openai.RateLimitError) as limited:
        api(gateway).chat.completions.create(model="deepseek-v3", messages=MESSAGES)
    assert int(limited.value.response.headers["retry-after"]) == 30

    set_mode(flaky, fail_status=500, retry_after=None)
    with pytest.raises(openai.InternalServerError) as down:
        api(gateway).chat.completions.create(model="deepseek-v3", messages=MESSAGES)
    assert down.value.status_code == 503
    assert down.value.code == "upstream_unavailable"


def test_weighted_and_sticky_routing(stubs: Callable[..., Server],
                                     gateway_factory: GatewayFactory) -> None:
    a, b = stubs(), stubs()
    config = {"backends": {"a": stub_backend(a), "b": stub_backend(b)},
              "routes": {"deepseek-v3": {"backends": {"a": 3, "b": 1}}},
              "keys": [client_key()]}
    gateway = gateway_factory(config)
    client = httpx.Client(base_url=gateway.base_url,
                          headers={"Authorization": f"Bearer {CLIENT_KEY}"})
    body = {"model": "deepseek-v3", "messages": MESSAGES}
    for _ in range(80):
        client.post("/chat/completions", json=body).raise_for_status()
    share_a = stub_requests(a) / 80
    assert 0.55 < share_a < 0.92  # 3:1 weights; wide bounds, the split is random

    seen: dict[str, set[str]] = {}
    for conversation in ("c-1", "c-2", "c-3", "c-4", "c-5", "c-6", "c-7", "c-8"):
        for _ in range(4):
            response = client.post("/chat/completions", json=body,
                                   headers={"X-Conversation-Id": conversation})
            seen.setdefault(conversation, set()).add(response.headers["x-lexledger-backend"])
    assert all(len(backends) == 1 for backends in seen.values())
    client.close()


def test_client_hanging_up_mid_stream_is_metered_as_499(stubs: Callable[..., Server],
                                                        gateway_factory: GatewayFactory) -> None:
    slow = stubs()
    set_mode(slow, chunk_delay_ms=150)  # 16 chunks: about 2.4 s for the whole answer
    config = {"backends": {"only": stub_backend(slow)},
              "routes": {"deepseek-v3": {"backends": {"only": 1}}}, "keys": [client_key()]}
    gateway = gateway_factory(config)
    body = {"model": "deepseek-v3", "messages": MESSAGES, "stream": True}
    with httpx.stream("POST", gateway.base_url + "/chat/completions", json=body, timeout=10,
                      headers={"Authorization": f"Bearer {CLIENT_KEY}"}) as response:
        lines = response.iter_lines()
        assert next(lines).startswith("data: ")
    # the gateway notices at its next chunk and stops relaying
    deadline = time.monotonic() + 5
    metric = 'lexledger_gateway_requests_total{backend="only",model="deepseek-v3",status="499"}'
    while metric not in httpx.get(gateway.url + "/metrics").text:
        assert time.monotonic() < deadline, "the hang-up was never metered"
        time.sleep(0.1)
