"""Batches: many PDFs (or one zip of them) analysed together. Creating a batch stores every
document and a job for each, but queues none of them at once: the feeder hands out at most
``max_in_flight_per_batch`` of a batch's jobs (and ``max_in_flight_per_tenant`` over a tenant's
batches, round-robin) and hands out the next one when one finishes, so one tenant's 500 contracts
never fill the queues in front of another tenant's batch or the interactive queue. Cancel marks
queued and running jobs cancelled (stages stop at their next boundary); retry gives failed and
cancelled documents a new job; documents already done are never run again. Reading a zip
safely is ``app.services.batch_intake``'s job; the Celery tasks calling in here are in
``app.batch_tasks``."""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from app.callbacks import validate_callback_url
from app.core.errors import InvalidInput, NotFound
from app.core.settings import get_settings
from app.models import Document, DocumentStatus, Job
from app.models.base import utcnow
from app.models.batch import Batch, BatchItem, BatchStatus
from app.queue import enqueue
from app.services.audit import record_event
from app.services.batch_intake import open_upload
from app.services.documents import INGEST_TASK, blob_store, clean_filename
from app.services.jobs import cancel_job, create_job, latest_job
from app.services.tenants import Caller
from app.storage import StagedBlob

log = logging.getLogger(__name__)

FEED_TASK = "lexledger.batches.feed"
JOB_FINISHED_TASK = "lexledger.batches.job_finished"
CALLBACK_TASK = "lexledger.batches.callback"


@dataclass
class CreatedBatch:
    batch: Batch
    skipped: list[str] = field(default_factory=list)


def create_batch(session: Session, caller: Caller, files: list[tuple[str | None, BinaryIO]], *,
                 name: str = "", callback_url: str | None = None,
                 start: bool = True) -> CreatedBatch:
    """Stores the PDFs (or the PDFs inside one zip) as a new batch and starts feeding it (unless
    ``start`` is false: then the caller calls ``kick``). All or nothing: a bad file or a refused
    zip entry stores nothing and names the culprit."""
    settings = get_settings()
    if callback_url:
        validate_callback_url(callback_url)
    entries, skipped = open_upload(files, settings.batches)
    if not entries:
        raise InvalidInput("no PDFs in the request" + (
            f" (skipped: {', '.join(skipped[:10])})" if skipped else "")
            + ": send PDFs or one zip of PDFs as multipart field 'files'")
    if len(entries) > settings.batches.max_documents:
        raise InvalidInput(f"too many documents for one batch: {len(entries)} > "
                           f"{settings.batches.max_documents}")
    store = blob_store()
    staged: list[tuple[str, StagedBlob]] = []
    try:
        for raw_name, stream in entries:
            clean = clean_filename(raw_name)
            staged.append((clean, store.stage(stream, filename=clean,
                                              max_bytes=settings.limits.max_upload_bytes)))
        with session.begin():
            batch = Batch(tenant_id=caller.tenant_id, name=name[:200],
                          callback_url=callback_url or None)
            session.add(batch)
            session.flush()
            seen: set[str] = set()
            for position, (filename, blob) in enumerate(staged):
                if blob.sha256 in seen:
                    continue
                seen.add(blob.sha256)
                store.commit(blob, caller.tenant_id)
                session.add(_join(session, caller, batch, filename, blob, position))
            record_event(session=session, tenant_id=caller.tenant_id, actor=caller.actor,
                         action="batch.created", subject_type="batch", subject_id=batch.id,
                         detail={"documents": len(seen), "skipped": skipped[:50]})
    finally:
        for _, blob in staged:
            store.discard(blob)
    if start:
        kick(caller.tenant_id)
    return CreatedBatch(batch=batch, skipped=skipped)


def _join(session: Session, caller: Caller, batch: Batch, filename: str, blob: StagedBlob,
          position: int) -> BatchItem:
    """The batch item for one stored file: a new document, or the tenant's existing one with the
    same bytes (done: kept as is; failed or cancelled: run again; running: followed)."""
    document = session.scalar(select(Document).where(Document.tenant_id == caller.tenant_id,
                                                     Document.sha256 == blob.sha256))
    item = BatchItem(batch_id=batch.id, position=position, filename=filename)
    if document is None:
        document = Document(tenant_id=caller.tenant_id, sha256=blob.sha256, filename=filename,
                            size_bytes=blob.size, batch_id=batch.id)
        session.add(document)
        session.flush()
        item.job_id = create_job(session=session, document=document).id
    else:
        job = latest_job(session=session, document_id=document.id)
        status = DocumentStatus(document.status)
        if job is None or status in (DocumentStatus.FAILED, DocumentStatus.CANCELLED):
            job = create_job(session=session, document=document)
        elif not status.finished:
            item.enqueued_at = utcnow()  # already in the queues through another upload
        item.job_id = job.id
    item.document_id = document.id
    return item


def get_batch(*, session: Session, caller: Caller, batch_id: uuid.UUID,
              lock: bool = False) -> Batch:
    query = select(Batch).where(Batch.id == batch_id, Batch.tenant_id == caller.tenant_id)
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    batch = session.scalar(query)
    if batch is None:
        raise NotFound(f"batch {batch_id} not found")
    return batch


def list_batches(session: Session, caller: Caller, *, limit: int = 50) -> list[Batch]:
    with session.begin():
        return list(session.scalars(select(Batch).where(Batch.tenant_id == caller.tenant_id)
                                    .order_by(Batch.created_at.desc()).limit(limit)))


@dataclass(frozen=True)
class ItemView:
    document_id: uuid.UUID
    filename: str
    position: int
    status: str
    doc_type: str | None
    page_count: int | None
    failure_reason: str | None
    enqueued: bool
    started_at: Any
    finished_at: Any


def batch_items(session: Session, batch: Batch) -> list[ItemView]:
    """Every item of ``batch`` with the status of the job it runs under, in upload order."""
    rows = session.execute(
        select(BatchItem, Document, Job).join(Document, Document.id == BatchItem.document_id)
        .outerjoin(Job, Job.id == BatchItem.job_id).where(BatchItem.batch_id == batch.id)
        .order_by(BatchItem.position)).all()
    views = []
    for item, document, job in rows:
        status = job.status if job is not None else document.status
        views.append(ItemView(
            document_id=document.id, filename=item.filename, position=item.position,
            status=str(status), doc_type=document.doc_type, page_count=document.page_count,
            failure_reason=(job.error if job is not None else None) or document.failure_reason,
            enqueued=item.enqueued_at is not None,
            started_at=job.started_at if job else None,
            finished_at=job.finished_at if job else None))
    return views


def summarize(session: Session, batch: Batch) -> dict[str, Any]:
    """Counts per status, every document's status, throughput and an ETA: what the API, the
    events stream, the web page and the completion callback all show."""
    items = batch_items(session, batch)
    counts: dict[str, int] = {}
    for view in items:
        counts[view.status] = counts.get(view.status, 0) + 1
    finished = sum(DocumentStatus(v.status).finished for v in items)
    started = [_aware(v.started_at) for v in items if v.started_at is not None]
    end = _aware(batch.finished_at or utcnow())
    elapsed_s = (end - min(started)).total_seconds() if started else 0.0
    processed = sum(1 for v in items if v.status in ("done", "failed")
                    and v.started_at is not None)
    per_minute = processed / elapsed_s * 60 if elapsed_s > 0 else 0.0
    remaining = len(items) - finished
    eta_s = None
    if batch.status == BatchStatus.RUNNING and per_minute > 0:
        eta_s = round(remaining / per_minute * 60, 1)
    return {
        "id": str(batch.id), "name": batch.name, "status": str(batch.status),
        "created_at": batch.created_at.isoformat(),
        "finished_at": batch.finished_at.isoformat() if batch.finished_at else None,
        "total": len(items), "finished": finished, "counts": counts,
        "documents_per_minute": round(per_minute, 2), "eta_s": eta_s,
        "callback_url": batch.callback_url,
        "callback_delivered_at": (batch.callback_delivered_at.isoformat()
                                  if batch.callback_delivered_at else None),
        "documents": [{
            "document_id": str(v.document_id), "filename": v.filename, "status": v.status,
            "doc_type": v.doc_type, "page_count": v.page_count,
            "failure_reason": v.failure_reason, "queued_for_work": v.enqueued,
        } for v in items],
    }


def batch_summary(session: Session, caller: Caller, batch_id: uuid.UUID, *,
                  nudge: bool = True) -> dict[str, Any]:
    """The batch's summary; with ``nudge`` it also wakes the feeder when a slot is free (or the
    batch is over) but no completion arrived, so a lost message never stalls a batch."""
    caps = get_settings().batches
    session.expire_all()  # rows this session created are changed by the workers meanwhile
    with session.begin():
        batch = get_batch(session=session, caller=caller, batch_id=batch_id)
        summary = summarize(session, batch)
    if nudge and summary["status"] == BatchStatus.RUNNING:
        docs = summary["documents"]
        active = [d for d in docs if not DocumentStatus(d["status"]).finished]
        flying = sum(1 for d in active if d["queued_for_work"])
        if not active or (flying < caps.max_in_flight_per_batch and flying < len(active)):
            kick(caller.tenant_id)
    return summary


def cancel_batch(session: Session, caller: Caller, batch_id: uuid.UUID) -> int:
    """Cancels every unfinished document of the batch; returns how many were cancelled.
    Queued documents never start; running ones stop at their next stage boundary."""
    cancelled = 0
    with session.begin():
        batch = get_batch(session=session, caller=caller, batch_id=batch_id, lock=True)
        for item in session.scalars(select(BatchItem).where(BatchItem.batch_id == batch.id)):
            job = _locked_job(session, item.job_id)
            if job is None:
                continue
            document = session.get(Document, job.document_id)
            cancelled += cancel_job(session=session, job=job, document=document,
                                    reason="cancelled with its batch")
        if batch.status == BatchStatus.RUNNING:
            batch.status = BatchStatus.CANCELLED
            batch.finished_at = utcnow()
        send_callback = _callback_due(batch)
        record_event(session=session, tenant_id=caller.tenant_id, actor=caller.actor,
                     action="batch.cancelled", subject_type="batch", subject_id=batch.id,
                     detail={"cancelled": cancelled})
    if send_callback:
        _safe_enqueue(CALLBACK_TASK, str(batch_id))
    kick(caller.tenant_id)  # the freed slots go to the tenant's other batches
    return cancelled


def retry_batch(session: Session, caller: Caller, batch_id: uuid.UUID) -> int:
    """Gives each failed or cancelled document of the batch a new job and feeds the batch again;
    documents already done are skipped. Returns how many documents will run again."""
    retried = 0
    with session.begin():
        batch = get_batch(session=session, caller=caller, batch_id=batch_id, lock=True)
        for item in session.scalars(select(BatchItem).where(BatchItem.batch_id == batch.id)):
            document = session.get(Document, item.document_id)
            job = session.get(Job, item.job_id) if item.job_id else None
            if document is None or (job is not None and job.status == DocumentStatus.DONE):
                continue
            if document.status not in (DocumentStatus.FAILED, DocumentStatus.CANCELLED):
                continue  # done through another upload, or running now
            item.job_id = create_job(session=session, document=document).id
            item.enqueued_at = None
            retried += 1
        if retried:
            batch.status = BatchStatus.RUNNING
            batch.finished_at = None
            batch.callback_delivered_at = None
            batch.callback_error = None
        record_event(session=session, tenant_id=caller.tenant_id, actor=caller.actor,
                     action="batch.retried", subject_type="batch", subject_id=batch.id,
                     detail={"retried": retried})
    kick(caller.tenant_id)
    return retried


def _locked_job(session: Session, job_id: uuid.UUID | None) -> Job | None:
    if job_id is None:
        return None
    query = select(Job).where(Job.id == job_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.scalar(query)


def _aware(moment: datetime) -> datetime:
    # SQLite hands timestamps back without their zone; they were written in UTC
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _callback_due(batch: Batch) -> bool:
    return bool(batch.callback_url) and batch.callback_delivered_at is None


# --- the feeder -------------------------------------------------------------------------------

_local = threading.local()


def kick(tenant_id: uuid.UUID) -> None:
    """Asks the feeder to look at the tenant's batches (after commit, never inside one)."""
    _safe_enqueue(FEED_TASK, str(tenant_id))


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
                _safe_enqueue(CALLBACK_TASK, str(batch_id))
            for job_id in jobs:
                _safe_enqueue(INGEST_TASK, str(job_id))
    finally:
        _local.feeding = False


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
            if started_at is None and _aware(item.enqueued_at) < stale_before:
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
                if _callback_due(batch):
                    finished.append(batch.id)
    return to_send, finished


def tenant_of_batch_job(session: Session, job_id: str) -> uuid.UUID | None:
    """The tenant whose batch ran ``job_id``, or ``None`` for a job outside any batch."""
    with session.begin():
        return session.scalar(select(Batch.tenant_id)
                              .join(BatchItem, BatchItem.batch_id == Batch.id)
                              .where(BatchItem.job_id == uuid.UUID(job_id)).limit(1))


def _safe_enqueue(task_name: str, *args: Any) -> None:
    # a lost message is recovered by the next completion, the next status read or the stale-job
    # re-send, so a broker hiccup here must not fail the request or task that committed already
    try:
        enqueue(task_name, *args)
    except Exception:
        log.exception("could not enqueue %s%s", task_name, args)


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
        _safe_enqueue(JOB_FINISHED_TASK, job_id)


@event.listens_for(Session, "after_rollback")
def _forget_finished_jobs(session: Session) -> None:
    session.info.pop("finished_jobs", None)
