"""Prometheus metrics of the API: request counts and latency per route template, and the number
of documents per status (read from the database when scraped, so it is right across replicas)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator

from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import Response

from app.core.db import session_scope
from app.models import Document

REQUESTS = Counter("lexledger_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("lexledger_http_request_seconds", "HTTP request latency", ["method", "route"])


async def record_request(request: Request,
                         call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    started = time.perf_counter()
    response = await call_next(request)
    route = request.scope.get("route")
    template = getattr(route, "path", "unmatched")
    LATENCY.labels(request.method, template).observe(time.perf_counter() - started)
    REQUESTS.labels(request.method, template, str(response.status_code)).inc()
    return response


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
