"""The chat-completions service: given an authenticated key and a parsed request, it checks the
key's limits, asks the route for backends in order, and tries them with retries (backoff with
jitter, ``Retry-After`` honoured) and fallback until one answers; a stream counts as answered
only once its first token has arrived, so a stream that fails before that moves to another
backend without the client noticing. Every attempt feeds the backend's cooldown and, for a
canary, the canary's SLO sample; every request ends in the metrics, the key's quotas and the
usage ledger. Backends, routes, quotas and ledger are injected, so tests and benchmarks build
it around anything that speaks HTTP."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import aiohttp
import orjson

from app.core.errors import LexLedgerError, NotFound, UpstreamUnavailable
from inference.gateway.config import GatewayConfig, KeyConfig
from inference.gateway.ledger import LedgerWriter, UsageEvent
from inference.gateway.metrics import GatewayMetrics
from inference.gateway.protocol import ChatRequest, GatewayError, sse_error_event
from inference.gateway.quotas import QuotaEnforcer, rate_limited
from inference.gateway.routing import BackendHealth, Route
from inference.gateway.streaming import SseRelay, StreamBroken
from inference.gateway.upstream import Backend, UpstreamFailure, UpstreamRejected

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(slots=True)
class CallContext:
    """Who asked, and the ids the ledger keeps with the call."""

    key: KeyConfig
    request_id: str
    conversation_id: str | None = None
    document_id: str | None = None


@dataclass(slots=True)
class Outcome:
    """What a finished call is metered as."""

    backend: str | None = None
    status: int = 200
    prompt_tokens: int = 0
    completion_tokens: int = 0
    ttft_ms: float | None = None
    attempts: int = 0


@dataclass(slots=True)
class OpenStream:
    """A stream that has produced its first token: the events so far, then the rest."""

    backend: str
    prelude: bytes
    rest: AsyncIterator[bytes]


class ChatCompletionsService:
    def __init__(self, config: GatewayConfig, backends: dict[str, Backend],
                 routes: dict[str, Route], health: dict[str, BackendHealth],
                 quotas: QuotaEnforcer, metrics: GatewayMetrics,
                 ledger: LedgerWriter | None) -> None:
        self.config = config
        self.backends = backends
        self.routes = routes
        self.health = health
        self.quotas = quotas
        self.metrics = metrics
        self.ledger = ledger

    def route_for(self, key: KeyConfig, model: str) -> Route:
        route = self.routes.get(model)
        if route is None or (key.models is not None and model not in key.models):
            raise GatewayError(NotFound(f"the model '{model}' does not exist or this key does "
                                        "not have access to it"),
                               code="model_not_found", param="model")
        return route

    async def admit(self, ctx: CallContext) -> None:
        try:
            await self.quotas.admit(ctx.key)
        except GatewayError:
            self.metrics.rate_limited.labels(ctx.key.name).inc()
            raise

    # -- attempts ------------------------------------------------------------------------------

    async def _with_fallback(self, ctx: CallContext, route: Route, outcome: Outcome,
                             attempt: Callable[[Backend], Awaitable[T]]) -> T:
        retry = self.config.retry
        candidates = route.candidates(ctx.conversation_id)
        first_choice = candidates[0]
        tried: set[str] = set()
        last: UpstreamFailure | None = None
        for number in range(retry.max_attempts):
            if not candidates:
                break
            name = candidates[number % len(candidates)]
            if name in tried:
                # back on a backend that already failed: wait as it asked, or back off
                if last is not None and last.retry_after is not None and last.backend == name:
                    await asyncio.sleep(last.retry_after)
                else:
                    cap = min(retry.backoff_max_s, retry.backoff_base_s * 2 ** number)
                    await asyncio.sleep(random.uniform(0, cap))
            tried.add(name)
            outcome.attempts = number + 1
            started = time.perf_counter()
            try:
                result = await attempt(self.backends[name])
            except UpstreamFailure as failure:
                self._failed(route, name, failure.reason, started)
                last = failure
                if failure.retry_after is not None and \
                        failure.retry_after > retry.max_retry_after_s:
                    candidates = [c for c in candidates if c != name]
                continue
            except UpstreamRejected:
                self.health[name].record_success()
                outcome.backend = name
                raise
            if name != first_choice:
                self.metrics.fallbacks.labels(route.model).inc()
            outcome.backend = name
            return result
        if last is not None and last.status == 429:
            raise rate_limited(f"every backend for '{route.model}' is over capacity",
                               last.retry_after or 1.0)
        reason = last.reason if last is not None else "no backend available"
        raise GatewayError(UpstreamUnavailable(
            f"no backend for '{route.model}' answered ({reason})"))

    def _failed(self, route: Route, name: str, reason: str, started: float) -> None:
        kind = reason.split(":")[0].split(" ")[0].lower() if reason else "error"
        self.metrics.upstream_failures.labels(name, kind).inc()
        health = self.health[name]
        if health.record_failure():
            log.warning("backend %s cooled down for %gs after repeated failures", name,
                        health.policy.seconds)
            self.metrics.cooldowns.labels(name).inc()
            self.metrics.cooled_down.labels(name).set(1)
        canary = route.canary
        if canary is not None and canary.backend == name:
            canary.record((time.perf_counter() - started) * 1000, ok=False)
            self.metrics.observe_canary(canary)

    def _succeeded(self, route: Route, name: str, latency_ms: float) -> None:
        health = self.health[name]
        if health.cooled_until:
            self.metrics.cooled_down.labels(name).set(0)
        health.record_success()
        canary = route.canary
        if canary is not None and canary.backend == name:
            canary.record(latency_ms, ok=True)
            self.metrics.observe_canary(canary)

    # -- non-streaming -------------------------------------------------------------------------

    async def complete(self, ctx: CallContext, request: ChatRequest, route: Route,
                       outcome: Outcome) -> bytes:
        """One non-streaming completion; the response body with the public model name."""

        async def attempt(backend: Backend) -> bytes:
            started = time.perf_counter()
            raw = await backend.complete(request.upstream_payload(
                backend.config.models[route.model]))
            try:
                body = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise UpstreamFailure(backend.name, "response is not JSON") from exc
            self._succeeded(route, backend.name, (time.perf_counter() - started) * 1000)
            usage = body.get("usage") if isinstance(body, dict) else None
            if isinstance(usage, dict):
                outcome.prompt_tokens = int(usage.get("prompt_tokens") or 0)
                outcome.completion_tokens = int(usage.get("completion_tokens") or 0)
            if isinstance(body, dict) and "model" in body:
                body["model"] = route.model
            return orjson.dumps(body)

        return await self._with_fallback(ctx, route, outcome, attempt)

    # -- streaming -----------------------------------------------------------------------------

    async def open_stream(self, ctx: CallContext, request: ChatRequest, route: Route,
                          outcome: Outcome, started: float) -> OpenStream:
        """Tries backends until one stream yields its first token."""

        async def attempt(backend: Backend) -> OpenStream:
            attempt_started = time.perf_counter()
            upstream_model = backend.config.models[route.model]
            response = await backend.open_stream(request.upstream_payload(upstream_model))
            relay = SseRelay(upstream_model, route.model, request.include_usage)
            prelude: list[bytes] = []
            chunks = response.content.iter_any()
            try:
                while not relay.started:
                    try:
                        data = await chunks.__anext__()
                    except StopAsyncIteration:
                        raise UpstreamFailure(backend.name,
                                              "stream ended before the first token") from None
                    prelude.append(relay.feed(data))
            except StreamBroken as exc:
                response.release()
                raise UpstreamFailure(backend.name, f"stream error: {exc}") from exc
            except (aiohttp.ClientError, TimeoutError) as exc:
                response.release()
                raise UpstreamFailure(backend.name,
                                      f"stream broke before the first token: {exc!r}") from exc
            except BaseException:
                response.release()
                raise
            now = time.perf_counter()
            outcome.ttft_ms = (now - started) * 1000
            self._succeeded(route, backend.name, (now - attempt_started) * 1000)
            return OpenStream(backend.name, b"".join(prelude),
                              self._rest(backend, route, response, chunks, relay, outcome))

        return await self._with_fallback(ctx, route, outcome, attempt)

    async def _rest(self, backend: Backend, route: Route, response: aiohttp.ClientResponse,
                    chunks: AsyncIterator[bytes], relay: SseRelay,
                    outcome: Outcome) -> AsyncIterator[bytes]:
        try:
            async for data in chunks:
                out = relay.feed(data)
                if out:
                    yield out
            if not relay.done:
                raise UpstreamFailure(backend.name, "stream ended without [DONE]")
        except (aiohttp.ClientError, TimeoutError, UpstreamFailure) as exc:
            # tokens already reached the client: the only honest thing left is an error event
            outcome.status = 502
            self._failed(route, backend.name, "stream broke", time.perf_counter())
            log.warning("stream from %s broke after the first token: %r", backend.name, exc)
            yield sse_error_event(UpstreamUnavailable(
                f"the stream from the model backend broke off: {exc}"))
        finally:
            response.release()
            outcome.prompt_tokens = relay.prompt_tokens
            outcome.completion_tokens = relay.completion_tokens

    # -- metering ------------------------------------------------------------------------------

    async def finish(self, ctx: CallContext, model: str, stream: bool, outcome: Outcome,
                     started: float) -> None:
        """Meters a finished request: quotas, metrics and the usage ledger."""
        latency_ms = (time.perf_counter() - started) * 1000
        backend = self.backends.get(outcome.backend) if outcome.backend else None
        cost = backend.config.price.cost(outcome.prompt_tokens, outcome.completion_tokens) \
            if backend is not None else 0.0
        await self.quotas.release(ctx.key, outcome.prompt_tokens + outcome.completion_tokens,
                                  cost)
        self.metrics.request_done(
            model, outcome.backend or "none", outcome.status, latency_ms / 1000,
            outcome.ttft_ms / 1000 if outcome.ttft_ms is not None else None,
            outcome.prompt_tokens, outcome.completion_tokens, cost)
        if self.ledger is not None:
            self.ledger.record(UsageEvent(
                request_id=ctx.request_id, key_name=ctx.key.name, model=model,
                backend=outcome.backend, prompt_tokens=outcome.prompt_tokens,
                completion_tokens=outcome.completion_tokens, cost_usd=cost,
                latency_ms=latency_ms, ttft_ms=outcome.ttft_ms, status=outcome.status,
                stream=stream, attempts=outcome.attempts, document_id=ctx.document_id,
                conversation_id=ctx.conversation_id))


def status_of(exc: BaseException) -> int:
    """The HTTP status a failed request is metered with."""
    if isinstance(exc, LexLedgerError):
        return exc.status_code
    if isinstance(exc, UpstreamRejected):
        return exc.status
    return 500
