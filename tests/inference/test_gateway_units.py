"""In-process checks of the gateway's decision logic, where every case can be enumerated
quickly: the canary's promotion and rollback arithmetic and its state file, conversation
stickiness as the canary grows, the SSE relay across arbitrary chunk boundaries, config
validation, and quota slots released when a rate limit refuses."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from inference.gateway.canary import CanaryController, CanaryStatus, CanaryStore
from inference.gateway.config import (
    CanaryConfig,
    CooldownConfig,
    GatewayConfig,
    KeyConfig,
    RouteConfig,
)
from inference.gateway.protocol import GatewayError
from inference.gateway.quotas import QuotaEnforcer
from inference.gateway.routing import BackendHealth, Route
from inference.gateway.streaming import SseRelay, StreamBroken


def controller(tmp_path: Path, **overrides: Any) -> CanaryController:
    config = CanaryConfig(**{"backend": "v2", "stages": [5, 20, 50, 100], "min_sample": 20,
                             "max_p99_latency_ms": 100, "max_error_rate": 0.1, **overrides})
    return CanaryController("deepseek-v3", config, CanaryStore(tmp_path / "canary.json"))


def test_canary_promotes_through_every_stage(tmp_path: Path) -> None:
    canary = controller(tmp_path)
    seen = [canary.percent]
    for _ in range(4 * 20):
        canary.record(10.0, ok=True)
        if canary.percent != seen[-1]:
            seen.append(canary.percent)
    assert seen == [5, 20, 50, 100]
    assert canary.status is CanaryStatus.PROMOTED


def test_canary_tolerates_errors_within_budget_then_rolls_back(tmp_path: Path) -> None:
    canary = controller(tmp_path)  # 10 % of a 20-request sample: two errors are allowed
    canary.record(10.0, ok=False)
    canary.record(10.0, ok=False)
    assert canary.status is CanaryStatus.RUNNING
    canary.record(10.0, ok=False)
    assert (canary.status, canary.percent) == (CanaryStatus.ROLLED_BACK, 0.0)
    canary.record(10.0, ok=True)  # a rolled-back canary ignores further samples
    assert canary.status is CanaryStatus.ROLLED_BACK


def test_canary_p99_budget(tmp_path: Path) -> None:
    canary = controller(tmp_path, min_sample=200)  # p99 of 200 allows 2 slow requests
    for latency in (500.0, 500.0) + (10.0,) * 50:
        canary.record(latency, ok=True)
    assert canary.status is CanaryStatus.RUNNING
    canary.record(500.0, ok=True)
    assert canary.status is CanaryStatus.ROLLED_BACK
    assert "p99" in canary.reason


def test_canary_state_file_survives_and_a_new_plan_starts_over(tmp_path: Path) -> None:
    canary = controller(tmp_path)
    for _ in range(20):
        canary.record(10.0, ok=True)
    assert canary.percent == 20
    assert controller(tmp_path).percent == 20  # what a restarted gateway reads
    assert controller(tmp_path, backend="v3").percent == 5  # a different canary: fresh start
    (tmp_path / "canary.json").write_text("{not json")
    assert controller(tmp_path).percent == 5  # a damaged file does not stop the gateway


def test_conversations_in_the_canary_stay_there_as_it_grows(tmp_path: Path) -> None:
    canary = controller(tmp_path)
    health = {name: BackendHealth(name, CooldownConfig()) for name in ("v1", "v2")}
    route = Route("deepseek-v3", RouteConfig(backends={"v1": 1}), health, canary)
    conversations = [f"conv-{i}" for i in range(2000)]
    on_canary: list[set[str]] = []
    for stage in range(3):
        canary.stage_index = stage
        on_canary.append({c for c in conversations if route.candidates(c)[0] == "v2"})
    assert on_canary[0] <= on_canary[1] <= on_canary[2]
    assert 40 < len(on_canary[0]) < 170  # about 5 % of 2000
    assert all(route.candidates(c)[0] == route.candidates(c)[0] for c in conversations[:50])


def test_cooled_down_backend_is_tried_last(tmp_path: Path) -> None:
    health = {name: BackendHealth(name, CooldownConfig(consecutive_failures=2, seconds=60))
              for name in ("a", "b")}
    route = Route("m", RouteConfig(backends={"a": 1}, fallbacks=["b"]), health, None)
    assert route.candidates() == ["a", "b"]
    assert health["a"].record_failure() is False
    assert health["a"].record_failure() is True
    assert route.candidates() == ["b", "a"]
    health["a"].record_success()
    assert route.candidates() == ["a", "b"]


def _stream(usage: bool) -> bytes:
    def chunk(body: dict[str, Any]) -> bytes:
        return b"data: " + orjson.dumps({"id": "x", "model": "tiny", **body}) + b"\n\n"

    events = [chunk({"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                  "finish_reason": None}]})]
    events += [chunk({"choices": [{"index": 0, "delta": {"content": f"w{i} "},
                                   "finish_reason": None}]}) for i in range(5)]
    events.append(chunk({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}))
    if usage:
        events.append(chunk({"choices": [], "usage": {"prompt_tokens": 7,
                                                      "completion_tokens": 5}}))
    return b"".join(events) + b"data: [DONE]\n\n"


@pytest.mark.parametrize("include_usage", [True, False])
def test_sse_relay_is_independent_of_chunk_boundaries(include_usage: bool) -> None:
    raw = _stream(usage=True)
    whole = SseRelay("tiny", "deepseek-v3", include_usage)
    expected = whole.feed(raw)
    rng = random.Random(7)
    for _ in range(30):
        relay = SseRelay("tiny", "deepseek-v3", include_usage)
        cuts = sorted(rng.sample(range(1, len(raw)), 12))
        pieces = [raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)], strict=True)]
        assert b"".join(relay.feed(p) for p in pieces) == expected
        assert (relay.prompt_tokens, relay.completion_tokens, relay.done) == (7, 5, True)
    assert b'"model":"tiny"' not in expected and b'"model":"deepseek-v3"' in expected
    assert (b'"usage"' in expected) is include_usage
    assert expected.endswith(b"data: [DONE]\n\n")


def test_sse_relay_error_before_first_token_is_a_broken_stream() -> None:
    relay = SseRelay("tiny", "deepseek-v3", False)
    relay.feed(b'data: {"choices":[{"index":0,"delta":{"role":"assistant"}}]}\n\n')
    assert relay.started is False
    with pytest.raises(StreamBroken, match="engine died"):
        relay.feed(b'data: {"error":{"message":"engine died","type":"server_error"}}\n\n')


def test_config_rejects_dangling_names_and_bad_plans() -> None:
    backend = {"base_url": "http://127.0.0.1:1/v1", "models": {"m": "m"}}
    with pytest.raises(ValidationError, match="unknown backend 'nope'"):
        GatewayConfig.model_validate({"backends": {"a": backend},
                                      "routes": {"m": {"backends": {"nope": 1}}}})
    with pytest.raises(ValidationError, match="no mapping for model 'other'"):
        GatewayConfig.model_validate({"backends": {"a": backend},
                                      "routes": {"other": {"backends": {"a": 1}}}})
    with pytest.raises(ValidationError, match="must increase"):
        CanaryConfig(backend="a", stages=[50, 20])
    with pytest.raises(ValidationError, match="exactly one of key, key_sha256"):
        KeyConfig(name="k", key="x", key_sha256="ab")


def test_quota_slot_is_released_when_a_rate_limit_refuses() -> None:
    key = KeyConfig(name="k", key="x", requests_per_minute=1, max_concurrent=5)

    async def scenario() -> int:
        quotas = QuotaEnforcer("async+memory://")
        await quotas.admit(key)
        with pytest.raises(GatewayError):
            await quotas.admit(key)
        await quotas.release(key, tokens=0, cost_usd=0.0)
        return quotas._in_flight["k"]

    assert asyncio.run(scenario()) == 0
