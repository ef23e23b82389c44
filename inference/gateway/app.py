"""The gateway's HTTP surface as a plain ASGI application (no framework on the hot path: a chat
request costs one dict lookup to dispatch). It builds the pooled client, backends, routes,
canaries, quotas, metrics and ledger at start-up (ASGI lifespan), hands chat requests to
``ChatCompletionsService``, and serves ``/v1/models``, ``/health``, ``/metrics`` and the admin
endpoints (canary state and restart, usage summary) behind the admin key."""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import aiohttp
import orjson
from sqlalchemy import Engine

from app.core.db import make_engine
from app.core.errors import AuthenticationFailed, InvalidInput, LexLedgerError, NotFound
from app.core.settings import Settings
from inference.gateway.canary import CanaryController, CanaryStore
from inference.gateway.config import GatewayConfig, backend_api_key
from inference.gateway.ledger import LedgerWriter, monthly_spend, usage_summary
from inference.gateway.metrics import GatewayMetrics
from inference.gateway.protocol import (
    ChatRequest,
    GatewayError,
    error_body,
    model_list,
    upstream_error_body,
)
from inference.gateway.quotas import KeyRegistry, QuotaEnforcer, month_start
from inference.gateway.routing import BackendHealth, Route
from inference.gateway.serving import CallContext, ChatCompletionsService, Outcome
from inference.gateway.upstream import Backend, UpstreamRejected, new_session

log = logging.getLogger(__name__)

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

JSON = [(b"content-type", b"application/json")]
SSE = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]


async def _read_body(receive: Receive) -> bytes:
    message = await receive()
    body = message.get("body", b"")
    while message.get("more_body"):
        message = await receive()
        body += message.get("body", b"")
    return body


async def _respond(send: Send, status: int, body: bytes,
                   headers: list[tuple[bytes, bytes]] | None = None,
                   content_type: list[tuple[bytes, bytes]] = JSON) -> None:
    # a known length spares the client chunked decoding of a body that is complete already
    length = [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status,
                "headers": content_type + length + (headers or [])})
    await send({"type": "http.response.body", "body": body})


async def _error(send: Send, exc: LexLedgerError,
                 headers: list[tuple[bytes, bytes]] | None = None) -> None:
    extra = (headers or []) + list(getattr(exc, "headers", []))
    await _respond(send, exc.status_code, error_body(exc), extra)


class GatewayApp:
    """The ASGI callable. ``engine`` is the ledger's database; none disables the ledger."""

    def __init__(self, config: GatewayConfig, settings: Settings,
                 engine: Engine | None = None) -> None:
        self.config = config
        self.settings = settings
        self.engine = engine
        self.metrics = GatewayMetrics()
        self.keys = KeyRegistry(config.keys)
        self.service: ChatCompletionsService | None = None
        self.session: aiohttp.ClientSession | None = None
        self.canaries: dict[str, CanaryController] = {}
        self._get: dict[str, Callable[[Scope, Receive, Send], Awaitable[None]]] = {
            "/v1/models": self._models, "/health": self._health, "/metrics": self._metrics,
            "/admin/canary": self._canary_state, "/admin/usage/summary": self._usage_summary,
        }

    # -- lifespan ------------------------------------------------------------------------------

    async def startup(self) -> None:
        gateway = self.settings.gateway
        self.session = new_session()
        backends = {name: Backend(name, cfg, backend_api_key(cfg, gateway.backend_keys),
                                  self.session) for name, cfg in self.config.backends.items()}
        health = {name: BackendHealth(name, self.config.cooldown) for name in backends}
        store = CanaryStore(gateway.state_path)
        routes: dict[str, Route] = {}
        for model, route_cfg in self.config.routes.items():
            canary = CanaryController(model, route_cfg.canary, store) \
                if route_cfg.canary else None
            if canary is not None:
                self.canaries[model] = canary
                self.metrics.observe_canary(canary)
            routes[model] = Route(model, route_cfg, health, canary)
        quotas = QuotaEnforcer(gateway.limits_storage_uri)
        ledger = None
        if self.engine is not None:
            ledger = LedgerWriter(self.engine, gateway.ledger_flush_interval_s)
            try:
                quotas.seed_spend(await asyncio.to_thread(monthly_spend, self.engine,
                                                          month_start()))
            except Exception as exc:  # noqa: BLE001 - budgets start from zero, loudly
                log.error("could not read this month's spend from the usage ledger: %s", exc)
            ledger.start()
        self.service = ChatCompletionsService(self.config, backends, routes, health, quotas,
                                              self.metrics, ledger)

    async def shutdown(self) -> None:
        if self.service is not None and self.service.ledger is not None:
            await self.service.ledger.stop()
        if self.session is not None:
            await self.session.close()

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:
                    log.exception("gateway start-up failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    # -- dispatch ------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        method: str = scope["method"]
        if path == "/v1/chat/completions":
            if method != "POST":
                await _error(send, GatewayError(InvalidInput("use POST"), code="method"))
                return
            await self._chat(scope, receive, send)
            return
        handler = self._get.get(path)
        if handler is not None and method == "GET":
            await handler(scope, receive, send)
        elif method == "POST" and path.startswith("/admin/canary/") and path.endswith(
                "/restart"):
            await self._canary_restart(scope, receive, send)
        else:
            await _error(send, GatewayError(NotFound(f"no route {method} {path}"),
                                            code="unknown_url"))

    # -- chat ----------------------------------------------------------------------------------

    async def _chat(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        service = self.service
        assert service is not None, "lifespan start-up has not run"
        authorization = request_id = conversation_id = document_id = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value
            elif name == b"x-request-id":
                request_id = value.decode(errors="replace")[:64]
            elif name == b"x-conversation-id":
                conversation_id = value.decode(errors="replace")[:200]
            elif name == b"x-lexledger-document-id":
                document_id = value.decode(errors="replace")[:64]
        request_id = request_id or uuid.uuid4().hex
        headers = [(b"x-request-id", request_id.encode())]
        try:
            key = self.keys.authenticate(authorization)
            request = ChatRequest.parse(await _read_body(receive))
            route = service.route_for(key, request.model)
            ctx = CallContext(key, request_id, conversation_id, document_id)
            await service.admit(ctx)
        except GatewayError as exc:
            await _error(send, exc, headers)
            return
        outcome = Outcome()
        responded = False
        try:
            if not request.stream:
                body = await service.complete(ctx, request, route, outcome)
                headers.append((b"x-lexledger-backend", (outcome.backend or "").encode()))
                responded = True
                await _respond(send, 200, body, headers)
                return
            opened = await service.open_stream(ctx, request, route, outcome, started)
            headers.append((b"x-lexledger-backend", opened.backend.encode()))
            responded = True
            await send({"type": "http.response.start", "status": 200, "headers": SSE + headers})
            await send({"type": "http.response.body", "body": opened.prelude,
                        "more_body": True})
            # the client hanging up shows only as a disconnect message from receive()
            gone = asyncio.ensure_future(receive())
            try:
                async for chunk in opened.rest:
                    if gone.done() and gone.result().get("type") == "http.disconnect":
                        outcome.status = 499
                        break
                    await send({"type": "http.response.body", "body": chunk,
                                "more_body": True})
            finally:
                gone.cancel()
                await opened.rest.aclose()  # type: ignore[attr-defined]
            await send({"type": "http.response.body", "body": b""})
        except GatewayError as exc:
            outcome.status = exc.status_code
            if not responded:
                await _error(send, exc, headers)
        except UpstreamRejected as exc:
            outcome.status = exc.status
            await _respond(send, exc.status, upstream_error_body(exc.status, exc.body), headers)
        except asyncio.CancelledError:
            outcome.status = 499
            raise
        except Exception:
            outcome.status = 500
            log.exception("chat request %s failed", request_id)
            if not responded:
                await _error(send, LexLedgerError("internal gateway error"), headers)
        finally:
            await service.finish(ctx, request.model, request.stream, outcome, started)

    # -- other endpoints -----------------------------------------------------------------------

    def _header(self, scope: Scope, wanted: bytes) -> bytes | None:
        for name, value in scope["headers"]:
            if name == wanted:
                return value
        return None

    async def _models(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            key = self.keys.authenticate(self._header(scope, b"authorization"))
        except GatewayError as exc:
            await _error(send, exc)
            return
        models = [m for m in self.config.routes if key.models is None or m in key.models]
        await _respond(send, 200, model_list(models))

    async def _health(self, scope: Scope, receive: Receive, send: Send) -> None:
        service = self.service
        now = time.monotonic()
        backends = {name: {"cooled_down": h.cooled_down(now),
                           "consecutive_failures": h.consecutive_failures}
                    for name, h in (service.health.items() if service else [])}
        await _respond(send, 200, orjson.dumps({"status": "ok", "backends": backends}))

    async def _metrics(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.service is not None and self.service.ledger is not None:
            self.metrics.ledger_pending.set(self.service.ledger.pending)
            self.metrics.ledger_failed_flushes.set(self.service.ledger.failed_flushes)
        await _respond(send, 200, self.metrics.render(),
                       content_type=[(b"content-type", b"text/plain; version=0.0.4")])

    def _admin(self, scope: Scope) -> None:
        value = self._header(scope, b"authorization") or b""
        expected = f"Bearer {self.settings.gateway.admin_key}".encode()
        if not hmac.compare_digest(value, expected):
            raise GatewayError(AuthenticationFailed("admin endpoints need the admin key"))

    async def _canary_state(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            self._admin(scope)
        except GatewayError as exc:
            await _error(send, exc)
            return
        body = {"routes": {m: c.snapshot() for m, c in self.canaries.items()}}
        await _respond(send, 200, orjson.dumps(body))

    async def _canary_restart(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = scope["path"].removeprefix("/admin/canary/").removesuffix("/restart")
        try:
            self._admin(scope)
            canary = self.canaries.get(route)
            if canary is None:
                raise GatewayError(NotFound(f"route '{route}' has no canary"))
        except GatewayError as exc:
            await _error(send, exc)
            return
        canary.restart()
        self.metrics.observe_canary(canary)
        await _respond(send, 200, orjson.dumps(canary.snapshot()))

    async def _usage_summary(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            self._admin(scope)
            if self.engine is None or self.service is None or self.service.ledger is None:
                raise GatewayError(NotFound("the usage ledger is disabled"))
            query = parse_qs(scope.get("query_string", b"").decode())
            since = None
            if "since" in query:
                try:
                    since = datetime.fromisoformat(query["since"][0]).replace(tzinfo=UTC)
                except ValueError as exc:
                    raise GatewayError(InvalidInput(f"bad 'since': {exc}"),
                                       param="since") from exc
        except GatewayError as exc:
            await _error(send, exc)
            return
        await self.service.ledger.flush()
        summary = await asyncio.to_thread(usage_summary, self.engine, since,
                                          query.get("key", [None])[0])
        await _respond(send, 200, orjson.dumps(summary))


def create_app(config: GatewayConfig, settings: Settings) -> GatewayApp:
    """The gateway for ``config``, with the ledger on the configured database when enabled."""
    engine = None
    if settings.gateway.ledger_enabled:
        engine = make_engine(settings.db.url, pool_size=2)
    return GatewayApp(config, settings, engine)
