"""Batches: many PDFs (or one zip of them) analysed together. Creating a batch stores every
document and a job for each, but queues none of them at once: the feeder hands out at most
``max_in_flight_per_batch`` of a batch's jobs (and ``max_in_flight_per_tenant`` over a tenant's
batches, round-robin) and hands out the next one when one finishes, so one tenant's 500 contracts
never fill the queues in front of another tenant's batch or the interactive queue. Cancel marks
queued and running jobs cancelled (stages stop at their next boundary); retry gives failed and
cancelled documents a new job; documents already done are never run again. The feeder itself is
``app.services.batch_feeder``; reading a zip safely is ``app.services.batch_intake``'s job."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.callbacks import validate_callback_url
from app.core.errors import InvalidInput, NotFound
from app.core.settings import get_settings
from app.models import Document, DocumentStatus, Job
from app.models.base import utcnow
from app.models.batch import Batch, BatchItem, BatchStatus
from app.services.audit import record_event
from app.services.batch_feeder import CALLBACK_TASK, as_utc, kick, lock_job, safe_enqueue
from app.services.batch_intake import open_upload
from app.services.documents import blob_store, clean_filename
from app.services.jobs import cancel_job, create_job, latest_job
from app.services.tenants import Caller
from app.storage import StagedBlob


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
    started = [as_utc(v.started_at) for v in items if v.started_at is not None]
    end = as_utc(batch.finished_at or utcnow())
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
            job = lock_job(session, item.job_id)
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
        safe_enqueue(CALLBACK_TASK, str(batch_id))
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


def _callback_due(batch: Batch) -> bool:
    return bool(batch.callback_url) and batch.callback_delivered_at is None
