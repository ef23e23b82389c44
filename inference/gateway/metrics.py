"""The gateway's Prometheus metrics, on a registry of its own (so several gateways in one process,
as in tests, do not collide): requests by model, backend and status; latency and time to first
token per backend; tokens and cost; retries, fallbacks and cooldowns; the canary's share and
status per route; and the usage ledger's backlog."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from inference.gateway.canary import CanaryController, CanaryStatus

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class GatewayMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter("lexledger_gateway_requests", "Chat requests answered",
                                ["model", "backend", "status"], registry=r)
        self.latency = Histogram("lexledger_gateway_request_seconds",
                                 "Gateway request latency (to the last byte)", ["backend"],
                                 buckets=LATENCY_BUCKETS, registry=r)
        self.ttft = Histogram("lexledger_gateway_time_to_first_token_seconds",
                              "Time to the first streamed token", ["backend"],
                              buckets=LATENCY_BUCKETS, registry=r)
        self.tokens = Counter("lexledger_gateway_tokens", "Tokens metered",
                              ["backend", "direction"], registry=r)
        self.cost = Counter("lexledger_gateway_cost_usd", "Cost metered at backend prices",
                            ["backend"], registry=r)
        self.upstream_failures = Counter("lexledger_gateway_upstream_failures",
                                         "Failed upstream attempts", ["backend", "reason"],
                                         registry=r)
        self.fallbacks = Counter("lexledger_gateway_fallbacks",
                                 "Requests served by another backend after a failure",
                                 ["model"], registry=r)
        self.cooldowns = Counter("lexledger_gateway_cooldowns", "Backends put in cooldown",
                                 ["backend"], registry=r)
        self.cooled_down = Gauge("lexledger_gateway_backend_cooled_down",
                                 "1 while a backend is cooled down", ["backend"], registry=r)
        self.canary_percent = Gauge("lexledger_gateway_canary_percent",
                                    "Share of a route's traffic sent to its canary",
                                    ["route", "backend"], registry=r)
        self.canary_status = Gauge("lexledger_gateway_canary_status",
                                   "1 for the canary's current status", ["route", "status"],
                                   registry=r)
        self.rate_limited = Counter("lexledger_gateway_rate_limited",
                                    "Requests refused by a per-key limit or budget", ["key"],
                                    registry=r)
        self.ledger_pending = Gauge("lexledger_gateway_ledger_pending",
                                    "Usage rows waiting to be written", registry=r)
        self.ledger_failed_flushes = Gauge("lexledger_gateway_ledger_failed_flushes",
                                           "Usage ledger batch writes that failed", registry=r)
        self._children: dict[tuple[str, str, int], tuple[Any, ...]] = {}

    def request_done(self, model: str, backend: str, status: int, latency_s: float,
                     ttft_s: float | None, prompt_tokens: int, completion_tokens: int,
                     cost_usd: float) -> None:
        """Counts one finished chat request."""
        key = (model, backend, status)
        children = self._children.get(key)
        if children is None:
            # label lookups hash and validate every call; cache the children per label set
            children = self._children[key] = (
                self.requests.labels(model, backend, str(status)),
                self.latency.labels(backend), self.ttft.labels(backend),
                self.tokens.labels(backend, "input"), self.tokens.labels(backend, "output"),
                self.cost.labels(backend))
        requests, latency, ttft, tokens_in, tokens_out, cost = children
        requests.inc()
        latency.observe(latency_s)
        if ttft_s is not None:
            ttft.observe(ttft_s)
        if prompt_tokens or completion_tokens:
            tokens_in.inc(prompt_tokens)
            tokens_out.inc(completion_tokens)
            cost.inc(cost_usd)

    def observe_canary(self, canary: CanaryController) -> None:
        self.canary_percent.labels(canary.route, canary.backend).set(canary.percent)
        for status in CanaryStatus:
            self.canary_status.labels(canary.route, status.value).set(
                1 if canary.status is status else 0)

    def render(self) -> bytes:
        return generate_latest(self.registry)
