"""Answer streams: how a worker's answer tokens reach the API request that relays them as
server-sent events. A stream is a short ordered log of events per query (``token``, then one
final ``answer`` or ``error``); a reader may subscribe late and still gets every event from the
start. Two implementations behind one interface: Redis streams (``XADD``/``XREAD``, expiring)
when workers run in other processes, and an in-process log when Celery runs eagerly (the
embedded default). ``get_answer_stream()`` picks one from ``settings.support``."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator
from functools import lru_cache
from typing import Any, Protocol

from app.core.settings import get_settings

FINAL_EVENTS = ("answer", "error")
POLL_S = 0.02


class AnswerStream(Protocol):
    def publish(self, query_id: str, event: str, data: dict[str, Any]) -> None:
        """Appends one event to the query's stream."""
        ...

    def events(self, query_id: str, *, timeout_s: float
               ) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """Every event of the query from the first, ending after the final one (or with an
        ``error`` event when nothing final arrives within ``timeout_s``)."""
        ...


class MemoryAnswerStream:
    """Events kept in this process (eager Celery: the worker code runs here too)."""

    def __init__(self, ttl_s: float) -> None:
        self._ttl_s = ttl_s
        self._events: dict[str, tuple[float, list[tuple[str, dict[str, Any]]]]] = {}
        self._lock = threading.Lock()

    def publish(self, query_id: str, event: str, data: dict[str, Any]) -> None:
        now = time.monotonic()
        with self._lock:
            for key in [k for k, (t, _) in self._events.items() if now - t > self._ttl_s]:
                del self._events[key]
            self._events.setdefault(query_id, (now, []))[1].append((event, data))

    async def events(self, query_id: str, *, timeout_s: float
                     ) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        deadline = time.monotonic() + timeout_s
        seen = 0
        while time.monotonic() < deadline:
            with self._lock:
                pending = list(self._events.get(query_id, (0.0, []))[1][seen:])
            for event, data in pending:
                seen += 1
                yield event, data
                if event in FINAL_EVENTS:
                    return
            await asyncio.sleep(POLL_S)
        yield "error", {"message": f"no answer within {timeout_s:.0f} s", "query_id": query_id}


class RedisAnswerStream:
    """Events in a Redis stream per query, expiring ``ttl_s`` after the last event."""

    def __init__(self, url: str, ttl_s: int, prefix: str = "") -> None:
        self._url = url
        self._ttl_s = ttl_s
        self._prefix = prefix

    def _key(self, query_id: str) -> str:
        return f"{self._prefix}lexledger:answers:{query_id}"

    @lru_cache(maxsize=1)  # noqa: B019  (one client per stream object, which lives forever)
    def _client(self) -> Any:
        import redis

        return redis.Redis.from_url(self._url)

    def publish(self, query_id: str, event: str, data: dict[str, Any]) -> None:
        key = self._key(query_id)
        pipe = self._client().pipeline()
        pipe.xadd(key, {"event": event, "data": json.dumps(data, ensure_ascii=False)})
        pipe.expire(key, self._ttl_s)
        pipe.execute()

    async def events(self, query_id: str, *, timeout_s: float
                     ) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(self._url)
        deadline = time.monotonic() + timeout_s
        last = "0-0"
        try:
            while time.monotonic() < deadline:
                block_ms = max(1, int(min(1.0, deadline - time.monotonic()) * 1000))
                reply: Any = await client.xread({self._key(query_id): last},
                                                block=block_ms, count=256)
                for _stream, entries in reply or []:
                    for entry_id, fields in entries:
                        last = entry_id
                        event = fields[b"event"].decode()
                        yield event, json.loads(fields[b"data"])
                        if event in FINAL_EVENTS:
                            return
            yield "error", {"message": f"no answer within {timeout_s:.0f} s",
                            "query_id": query_id}
        finally:
            await client.aclose()


@lru_cache(maxsize=1)
def get_answer_stream() -> AnswerStream:
    """The stream the settings call for: in-process when Celery is eager (or when asked),
    otherwise Redis (the broker's, unless ``support.stream_redis_url`` names another)."""
    settings = get_settings()
    support = settings.support
    backend = support.stream_backend
    if backend == "auto":
        backend = "memory" if settings.celery.eager else "redis"
    if backend == "memory":
        return MemoryAnswerStream(ttl_s=support.stream_ttl_s)
    url = support.stream_redis_url or settings.celery.broker_url
    return RedisAnswerStream(url, ttl_s=support.stream_ttl_s, prefix=settings.celery.key_prefix)
