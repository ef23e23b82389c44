"""The progressive canary, end to end with stub upstreams: a healthy canary is promoted stage by
stage (25 -> 50 -> 100 %) and then takes all traffic; a failing or slow canary is rolled back
the moment it breaks its SLO while every client request still succeeds; the canary's state
survives a gateway restart and shows in the admin endpoint and the metrics."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import openai

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

MESSAGES: list[Any] = [{"role": "user", "content": "When does the NDA expire?"}]


def canary_config(stable: Server, candidate: Server, **slo: Any) -> dict[str, Any]:
    canary = {"backend": "candidate", "stages": [25, 50, 100], "min_sample": 3,
              "max_p99_latency_ms": 2000, "max_error_rate": 0.0, **slo}
    return {"backends": {"stable": stub_backend(stable), "candidate": stub_backend(candidate)},
            "routes": {"deepseek-v3": {"backends": {"stable": 1}, "canary": canary}},
            "keys": [client_key()],
            "retry": {"max_attempts": 2, "backoff_base_s": 0.01}}


def canary_state(gateway: Gateway) -> dict[str, Any]:
    response = gateway.admin("GET", "/admin/canary")
    response.raise_for_status()
    return response.json()["routes"]["deepseek-v3"]


def chat(gateway: Gateway, n: int = 1) -> list[str]:
    """Sends n requests; returns the backend that served each (any error fails the test)."""
    client = openai.OpenAI(base_url=gateway.base_url, api_key=CLIENT_KEY, max_retries=0)
    served = []
    for _ in range(n):
        raw = client.chat.completions.with_raw_response.create(model="deepseek-v3",
                                                               messages=MESSAGES)
        assert raw.parse().choices[0].message.content == "tok " * 16
        served.append(raw.headers["x-lexledger-backend"])
    return served


def chat_until(gateway: Gateway, done: Callable[[dict[str, Any]], bool],
               limit: int = 150) -> dict[str, Any]:
    for _ in range(limit):
        chat(gateway)
        state = canary_state(gateway)
        if done(state):
            return state
    raise AssertionError(f"canary never reached the expected state: {canary_state(gateway)}")


def test_healthy_canary_is_promoted_stage_by_stage_across_a_restart(
        stubs: Callable[..., Server], gateway_factory: GatewayFactory) -> None:
    stable, candidate = stubs(), stubs()
    config = canary_config(stable, candidate)
    gateway = gateway_factory(config)
    state = canary_state(gateway)
    assert (state["status"], state["percent"]) == ("running", 25)

    state = chat_until(gateway, lambda s: s["percent"] == 50)
    assert state["status"] == "running"

    # a new gateway process with the same state file carries on at 50 %
    gateway.server.stop()
    gateway = gateway_factory(config, state_path=gateway.state_path)
    state = canary_state(gateway)
    assert (state["status"], state["percent"]) == ("running", 50)

    state = chat_until(gateway, lambda s: s["status"] == "promoted")
    assert [h["percent"] for h in state["history"]] == [25, 50, 100, 100]
    metrics = httpx.get(gateway.url + "/metrics").text
    assert 'lexledger_gateway_canary_percent{backend="candidate",route="deepseek-v3"} 100.0' \
        in metrics
    stable_before = stub_requests(stable)
    assert set(chat(gateway, 5)) == {"candidate"}
    assert stub_requests(stable) == stable_before


def test_failing_canary_rolls_back_and_clients_see_no_error(
        stubs: Callable[..., Server], gateway_factory: GatewayFactory) -> None:
    stable, candidate = stubs(), stubs()
    set_mode(candidate, fail_status=500)
    config = canary_config(stable, candidate)
    gateway = gateway_factory(config)

    served = chat(gateway, 30)  # raises on any client-visible error
    assert set(served) == {"stable"}
    state = canary_state(gateway)
    assert (state["status"], state["percent"]) == ("rolled_back", 0)
    assert "error rate" in state["reason"]
    assert stub_requests(candidate) == 1  # rolled back at its first failure, never tried again

    metrics = httpx.get(gateway.url + "/metrics").text
    assert 'lexledger_gateway_canary_status{route="deepseek-v3",status="rolled_back"} 1.0' \
        in metrics

    # the rollback survives a restart; an operator restarts the canary once it is fixed
    gateway.server.stop()
    gateway = gateway_factory(config, state_path=gateway.state_path)
    assert canary_state(gateway)["status"] == "rolled_back"
    assert httpx.post(gateway.url + "/admin/canary/deepseek-v3/restart").status_code == 401
    restarted = gateway.admin("POST", "/admin/canary/deepseek-v3/restart").json()
    assert (restarted["status"], restarted["percent"]) == ("running", 25)


def test_slow_canary_rolls_back_on_p99_latency(stubs: Callable[..., Server],
                                               gateway_factory: GatewayFactory) -> None:
    stable, candidate = stubs(), stubs()
    set_mode(candidate, delay_ms=400)
    gateway = gateway_factory(canary_config(stable, candidate, max_p99_latency_ms=150))
    client = openai.OpenAI(base_url=gateway.base_url, api_key=CLIENT_KEY, max_retries=0)

    for _ in range(40):
        text = "".join(c.choices[0].delta.content or "" for c in client.chat.completions.create(
            model="deepseek-v3", messages=MESSAGES, stream=True) if c.choices)
        assert text == "tok " * 16  # slow, but answered
        if canary_state(gateway)["status"] != "running":
            break
    state = canary_state(gateway)
    assert state["status"] == "rolled_back"
    assert "p99 latency" in state["reason"]
    assert stub_requests(candidate) == 1
