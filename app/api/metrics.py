"""Prometheus metrics of the API: request counts and latency per route template, and the number
of documents per status (read from the database when scraped, so it is right across replicas)."""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.db import session_scope
from app.models import Document

REQUESTS = Counter("lexledger_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("lexledger_http_request_seconds", "HTTP request latency", ["method", "route"])


class RequestMetrics:
    """ASGI middleware counting requests and timing them per route template (the matched
    route's path, so ``/v1/documents/{document_id}`` is one series, not one per id)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            method = scope["method"]
            LATENCY.labels(method, template).observe(time.perf_counter() - started)
            REQUESTS.labels(method, template, str(status)).inc()


class DocumentStatusCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily("lexledger_documents", "Documents by status", labels=["status"])
        try:
            with session_scope() as session:
                rows = session.execute(select(Document.status, func.count())
                                       .group_by(Document.status)).all()
        except Exception:  # a scrape must not fail because the database is briefly away
            rows = []
        for status, count in rows:
            gauge.add_metric([str(status)], count)
        yield gauge


_registered = False


def register_collectors() -> None:
    global _registered
    if not _registered:
        REGISTRY.register(DocumentStatusCollector())
        _registered = True
