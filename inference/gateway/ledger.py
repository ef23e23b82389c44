"""The usage ledger writer and its summaries. Requests append a ``UsageEvent`` to an in-memory
list (no I/O on the hot path); a background task inserts the accumulated rows in one batch every
``flush_interval_s`` through the app's SQLAlchemy engine, in a worker thread. Rows that fail to
insert are kept and retried, and counted in the metrics, rather than dropped. The summary
queries give cost and tokens per key, per day and per backend."""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, Table, func, select
from sqlalchemy.exc import SQLAlchemyError

from app.models.usage import UsageRecord

log = logging.getLogger(__name__)

# a ledger that cannot write keeps at most this many rows in memory before it sheds the oldest
MAX_PENDING = 100_000
_TABLE: Table = UsageRecord.__table__  # type: ignore[assignment]


@dataclass(slots=True)
class UsageEvent:
    request_id: str
    key_name: str
    model: str
    backend: str | None
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    latency_ms: float
    ttft_ms: float | None
    status: int
    stream: bool
    attempts: int
    document_id: str | None = None
    conversation_id: str | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))


class LedgerWriter:
    """Batches usage rows into the ``usage_records`` table."""

    def __init__(self, engine: Engine, flush_interval_s: float = 0.5) -> None:
        self.engine = engine
        self.flush_interval_s = flush_interval_s
        self._pending: list[UsageEvent] = []
        self._writing = 0  # rows taken out of _pending by the flush in progress
        self._task: asyncio.Task[None] | None = None
        self._flush_lock = asyncio.Lock()
        self.written = 0
        self.failed_flushes = 0
        self.shed = 0

    @property
    def pending(self) -> int:
        """Rows not yet in the database, the ones being written now included."""
        return len(self._pending) + self._writing

    def record(self, event: UsageEvent) -> None:
        """Queues one row; never blocks the request."""
        self._pending.append(event)
        if len(self._pending) > MAX_PENDING:
            excess = len(self._pending) - MAX_PENDING
            del self._pending[:excess]
            self.shed += excess
            log.error("usage ledger backlog over %d rows; shed %d oldest", MAX_PENDING, excess)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stops the background task and writes whatever is still pending."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        await self.flush()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.flush_interval_s)
            await self.flush()

    async def flush(self) -> int:
        """Inserts the pending rows now; returns how many were written."""
        async with self._flush_lock:
            if not self._pending:
                return 0
            batch, self._pending = self._pending, []
            self._writing = len(batch)
            try:
                await asyncio.to_thread(self._insert, batch)
            except SQLAlchemyError as exc:
                self.failed_flushes += 1
                self._pending[:0] = batch
                log.error("usage ledger write of %d rows failed, will retry: %s", len(batch), exc)
                return 0
            finally:
                self._writing = 0
            self.written += len(batch)
            return len(batch)

    def _insert(self, batch: list[UsageEvent]) -> None:
        # plain Core executemany with rows built by hand: the ORM bulk path and
        # dataclasses.asdict cost more than the database round trip at this size
        rows = [{
            "id": uuid.uuid4(), "created_at": e.created_at, "request_id": e.request_id,
            "key_name": e.key_name, "model": e.model, "backend": e.backend,
            "prompt_tokens": e.prompt_tokens, "completion_tokens": e.completion_tokens,
            "cost_usd": Decimal(repr(e.cost_usd)), "latency_ms": e.latency_ms,
            "ttft_ms": e.ttft_ms, "status": e.status, "stream": e.stream,
            "attempts": e.attempts, "document_id": e.document_id,
            "conversation_id": e.conversation_id,
        } for e in batch]
        with self.engine.begin() as connection:
            connection.execute(_TABLE.insert(), rows)


def monthly_spend(engine: Engine, since: datetime) -> dict[str, float]:
    """Cost per key name recorded since ``since`` (seeds the budgets at start-up)."""
    query = (select(UsageRecord.key_name, func.sum(UsageRecord.cost_usd))
             .where(UsageRecord.created_at >= since).group_by(UsageRecord.key_name))
    with engine.connect() as connection:
        return {name: float(total or 0) for name, total in connection.execute(query)}


def usage_summary(engine: Engine, since: datetime | None = None,
                  key_name: str | None = None) -> dict[str, Any]:
    """Requests, tokens and cost per key, per day and per backend."""
    totals = (func.count().label("requests"),
              func.coalesce(func.sum(UsageRecord.prompt_tokens), 0).label("prompt_tokens"),
              func.coalesce(func.sum(UsageRecord.completion_tokens), 0).label(
                  "completion_tokens"),
              func.coalesce(func.sum(UsageRecord.cost_usd), 0).label("cost_usd"))
    day = func.date(UsageRecord.created_at).label("day")
    groups: dict[str, list[Any]] = {"by_key": [UsageRecord.key_name], "by_day": [day],
              "by_backend": [UsageRecord.backend]}
    result: dict[str, Any] = {}
    with engine.connect() as connection:
        for label, columns in groups.items():
            query = select(*columns, *totals).group_by(*columns).order_by(*columns)
            if since is not None:
                query = query.where(UsageRecord.created_at >= since)
            if key_name is not None:
                query = query.where(UsageRecord.key_name == key_name)
            rows = []
            for row in connection.execute(query):
                group = row[0]
                rows.append({
                    label.removeprefix("by_"): str(group) if group is not None else None,
                    "requests": int(row.requests), "prompt_tokens": int(row.prompt_tokens),
                    "completion_tokens": int(row.completion_tokens),
                    "cost_usd": round(float(row.cost_usd), 9),
                })
            result[label] = rows
    return result
