"""The batch feeder: hands each tenant's running batches their next documents, at most
``batches.max_in_flight_per_batch`` of a batch and ``batches.max_in_flight_per_tenant`` of a
tenant at once, round-robin between the tenant's batches, and closes batches with nothing left
to run. It runs when a batch is created, cancelled or retried (``kick``) and whenever a job
finishes: a commit hook notes jobs that became done or failed and, after the commit, sends
``lexledger.batches.job_finished`` for each, so slots are refilled by completions rather than by
dumping a whole batch into the queues."""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from app.core.settings import get_settings
from app.models import DocumentStatus, Job
from app.models.base import utcnow
from app.models.batch import Batch, BatchItem, BatchStatus
from app.queue import enqueue
from app.services.documents import INGEST_TASK
from app.services.jobs import fail_unfinished
from app.worker import celery_app

log = logging.getLogger(__name__)

FEED_TASK = "lexledger.batches.feed"
JOB_FINISHED_TASK = "lexledger.batches.job_finished"
CALLBACK_TASK = "lexledger.batches.callback"


def lock_job(session: Session, job_id: uuid.UUID | None) -> Job | None:
    """The job, locked for this transaction on Postgres; ``None`` when there is none."""
    if job_id is None:
        return None
    query = select(Job).where(Job.id == job_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.scalar(query)


def as_utc(moment: datetime) -> datetime:
    """``moment`` with its zone: SQLite hands timestamps back without one (they are UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


_local = threading.local()


def kick(tenant_id: uuid.UUID) -> None:
    """Asks the feeder to look at the tenant's batches (after commit, never inside one)."""
    safe_enqueue(FEED_TASK, str(tenant_id))


def run_feeder(tenant_id: str) -> None:
    """Feeds the tenant's running batches until no slot is free. When Celery runs eagerly a
    finished job asks for more from inside this loop; that request is noted and served by this
    loop instead of nesting one call per document."""
    if getattr(_local, "feeding", False):
        _local.again = True
        return
    _local.feeding = True
    try:
        _local.again = True
        while _local.again:
            _local.again = False
            from app.core.db import session_scope

            with session_scope() as session:
                jobs, finished = feed_tenant(session, uuid.UUID(tenant_id))
            for batch_id in finished:
                safe_enqueue(CALLBACK_TASK, str(batch_id))
            for job_id in jobs:
                error = safe_enqueue(INGEST_TASK, str(job_id))
                if error is not None and celery_app.conf.task_always_eager:
                    # run in this process, the stage itself broke: say so on the document
                    # rather than leave it "parsing" for ever
                    _fail_unfinished(job_id, f"processing error: {error}")
    finally:
        _local.feeding = False


def _fail_unfinished(job_id: uuid.UUID, reason: str) -> None:
    from app.core.db import session_scope

    with session_scope() as session, session.begin():
        failed = fail_unfinished(session=session, job_id=job_id, reason=reason)
    if failed:
        _local.again = True  # the failed job's slot is free again


def feed_tenant(session: Session, tenant_id: uuid.UUID) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    """Picks the jobs to hand to the queue now, round-robin over the tenant's running batches
    within both caps, and closes batches with nothing left to run. Returns the job ids to enqueue
    and the ids of the batches that finished and owe a callback."""
    caps = get_settings().batches
    stale_before = utcnow() - timedelta(seconds=caps.requeue_after_s)
    to_send: list[uuid.UUID] = []
    finished: list[uuid.UUID] = []
    with session.begin():
        query = (select(Batch).where(Batch.tenant_id == tenant_id,
                                     Batch.status == BatchStatus.RUNNING).order_by(Batch.id))
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        batches = list(session.scalars(query))
        if not batches:
            return [], []
        rows = session.execute(
            select(BatchItem, Job.status, Job.started_at)
            .outerjoin(Job, Job.id == BatchItem.job_id)
            .where(BatchItem.batch_id.in_([b.id for b in batches]))
            .order_by(BatchItem.position)).all()
        pending: dict[uuid.UUID, list[BatchItem]] = {b.id: [] for b in batches}
        in_flight: dict[uuid.UUID, int] = {b.id: 0 for b in batches}
        for item, status, started_at in rows:
            if status is None or DocumentStatus(status).finished:
                continue
            if item.enqueued_at is None:
                pending[item.batch_id].append(item)
                continue
            in_flight[item.batch_id] += 1
            if started_at is None and as_utc(item.enqueued_at) < stale_before:
                # handed over long ago and never started: the message was lost; send it again
                item.enqueued_at = utcnow()
                to_send.append(item.job_id)  # type: ignore[arg-type]
        free = caps.max_in_flight_per_tenant - sum(in_flight.values())
        while free > 0:
            open_batches = [b for b in batches if pending[b.id]
                            and in_flight[b.id] < caps.max_in_flight_per_batch]
            if not open_batches:
                break
            batch = min(open_batches, key=lambda b: (in_flight[b.id], b.created_at))
            item = pending[batch.id].pop(0)
            item.enqueued_at = utcnow()
            in_flight[batch.id] += 1
            to_send.append(item.job_id)  # type: ignore[arg-type]
            free -= 1
        for batch in batches:
            if not pending[batch.id] and in_flight[batch.id] == 0:
                batch.status = BatchStatus.DONE
                batch.finished_at = utcnow()
                if batch.callback_url and batch.callback_delivered_at is None:
                    finished.append(batch.id)
    return to_send, finished


def tenant_of_batch_job(session: Session, job_id: str) -> uuid.UUID | None:
    """The tenant whose batch ran ``job_id``, or ``None`` for a job outside any batch."""
    with session.begin():
        return session.scalar(select(Batch.tenant_id)
                              .join(BatchItem, BatchItem.batch_id == Batch.id)
                              .where(BatchItem.job_id == uuid.UUID(job_id)).limit(1))


def safe_enqueue(task_name: str, *args: Any) -> Exception | None:
    """Sends a task; a failure is logged and returned, never raised."""
    # a lost message is recovered by the next completion, the next status read or the stale-job
    # re-send, so a broker hiccup here must not fail the request or task that committed already
    try:
        enqueue(task_name, *args)
    except Exception as exc:
        log.exception("could not enqueue %s%s", task_name, args)
        return exc
    return None


# --- completions: a job that finishes frees a slot in its batch ----------------------------------

# cancellations free their slots through the cancel itself, which feeds the tenant afterwards
_FINISHED = {DocumentStatus.DONE.value, DocumentStatus.FAILED.value}


@event.listens_for(Session, "after_flush")
def _note_finished_jobs(session: Session, _context: Any) -> None:
    for obj in session.dirty:
        if isinstance(obj, Job):
            history = inspect(obj).attrs.status.history
            if history.added and str(history.added[0]) in _FINISHED:
                session.info.setdefault("finished_jobs", set()).add(str(obj.id))


@event.listens_for(Session, "after_commit")
def _announce_finished_jobs(session: Session) -> None:
    for job_id in session.info.pop("finished_jobs", ()):
        safe_enqueue(JOB_FINISHED_TASK, job_id)


@event.listens_for(Session, "after_rollback")
def _forget_finished_jobs(session: Session) -> None:
    session.info.pop("finished_jobs", None)
