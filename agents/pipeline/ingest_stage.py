"""The ingest stage: open the stored PDF, extract page text page by page (bounded memory),
gate each page's quality, chunk it with page and character offsets, and store pages and chunks
in batches while publishing progress. Safe to run twice: a rerun first removes whatever an
interrupted attempt stored, so pages and chunks exist exactly once.

One transaction per batch of pages: the first also starts the stage (under the job's row lock,
taken once the batch is parsed: no lock is held while a PDF is read) and the last also finishes
it, so a document of up to ``PAGE_BATCH`` pages costs one. Only the last commit waits for the WAL
flush; an earlier one lost in a database crash is redone by the redelivered task."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from agents.ingest import PageText, PdfInfo, PdfReading, chunk_page, read_pdf
from agents.ingest.ocr import options_from as ocr_options
from app.core.bulk import bulk_insert, relax_durability
from app.core.errors import DocumentRejected
from app.core.settings import get_settings
from app.models import Chunk, Job, Page, StageName, StageStatus
from app.models.base import utcnow
from app.services.documents import blob_store
from app.services.jobs import (
    advance_stage,
    fail_job,
    finish_stage,
    is_cancelled,
    is_stage_done,
    load_job,
    stage_of,
    start_stage,
)

log = logging.getLogger(__name__)

# pages per transaction: small enough to show progress, large enough to keep commits cheap
PAGE_BATCH = 64
# ... or the pages parsed in this many seconds, whichever comes first
BATCH_SECONDS = 2.0


def run_ingest(session: Session, job_id: str) -> bool:
    """Runs the ingest stage of ``job_id``. Returns True when the next stage should be queued,
    False when there is nothing more to do (job gone, cancelled, failed or finished)."""
    with session.begin():  # a first look without a lock: no lock is held while a PDF is parsed
        job = load_job(session=session, job_id=job_id)
        if job is None or job.status in ("cancelled", "failed", "done"):
            return False
        if is_stage_done(job, StageName.INGEST):
            return True
        document_id = job.document_id
        path = blob_store().path_for(job.document.tenant_id, job.document.sha256)
    began = utcnow()  # the stage's start: parsing comes before its first transaction
    try:
        with ExitStack() as open_files:
            reading = open_files.enter_context(_open(path))
            batches = _batches(reading)
            pages, last = next(batches)
            with session.begin():
                job = load_job(session=session, job_id=job_id, lock=True)
                if job is None or job.status in ("cancelled", "failed", "done"):
                    return False
                if is_stage_done(job, StageName.INGEST):
                    return True
                _start(session, job, began)
                ordinal = _store_batch(session, job, pages, 0, reading.info, last=last)
            while not last:
                pages, last = next(batches)
                store = _store_last if last else _store_more
                with session.begin():
                    ordinal = store(session, job_id, document_id, pages, ordinal)
    except _Stopped:
        return False
    except IntegrityError:
        # pages of a document deleted mid-stage violate their foreign key: nothing to do then
        with session.begin():
            if load_job(session=session, job_id=job_id) is None:
                return False
        raise
    except DocumentRejected as exc:
        _reject(session, job_id, str(exc))
        return False
    return True


def _start(session: Session, job: Job, began: datetime) -> None:
    document = job.document
    start_stage(session=session, job=job, document=document, name=StageName.INGEST,
                started_at=began)
    if document.page_count is not None:
        # an earlier attempt or job stored pages (the first batch sets the page count): start
        # from a clean slate
        session.execute(delete(Chunk).where(Chunk.document_id == document.id))
        session.execute(delete(Page).where(Page.document_id == document.id))


def _open(path: Path) -> PdfReading:
    if not path.exists():
        raise DocumentRejected("the stored file is missing; upload the document again")
    # one sandboxed read: the structure first, then the pages as they are parsed (and OCR'd)
    settings = get_settings()
    return read_pdf(path, limits=settings.limits, ocr=ocr_options(settings.ocr))


def _batches(reading: PdfReading) -> Iterator[tuple[list[PageText], bool]]:
    """The pages in batches of up to ``PAGE_BATCH`` (fewer when pages come slowly, as OCR'd pages
    do, so progress keeps moving), each with whether it is the last."""
    batch: list[PageText] = []
    since = time.monotonic()
    for page in reading:
        if batch and (len(batch) == PAGE_BATCH or time.monotonic() - since > BATCH_SECONDS):
            yield batch, False  # a full (or slow) batch with more pages to come
            batch = []
            since = time.monotonic()
        batch.append(page)
    yield batch, True


def _store_batch(session: Session, job: Job, pages: list[PageText], ordinal: int,
                 info: PdfInfo | None, *, last: bool) -> int:
    """Stores the first or the last batch of pages with their chunks in the caller's transaction
    and moves the stage's progress; ``info`` (first batch) records the document's structure, and
    the last batch marks the stage done. Returns the next chunk ordinal."""
    document = job.document
    ordinal = _insert_rows(session, document.id, pages, ordinal)
    stage = stage_of(job, StageName.INGEST)
    if info is not None:
        document.page_count = info.page_count
        document.info = {"metadata": info.metadata, "outline": info.outline[:200],
                         "encrypted": info.encrypted}
        stage.progress_total = info.page_count
    if pages:
        stage.progress_done = pages[-1].number
    if last:
        finish_stage(session=session, job=job, name=StageName.INGEST,
                     detail=f"{document.page_count} pages")
    else:
        relax_durability(session)
    return ordinal


def _store_more(session: Session, job_id: str, document_id: uuid.UUID, pages: list[PageText],
                ordinal: int) -> int:
    """Stores a batch between the first and the last with one statement of bookkeeping, after
    the rows (the same lock order as a document's deletion); raises ``_Stopped``, which rolls the
    batch back, when the stage no longer runs (the job was cancelled or deleted meanwhile)."""
    relax_durability(session)
    ordinal = _insert_rows(session, document_id, pages, ordinal)
    if not advance_stage(session=session, job_id=job_id, name=StageName.INGEST,
                         done=pages[-1].number):
        raise _Stopped()
    return ordinal


def _store_last(session: Session, job_id: str, document_id: uuid.UUID, pages: list[PageText],
                ordinal: int) -> int:
    """Stores the last batch of a many-batch document and finishes the stage, under the job's
    row lock; raises ``_Stopped`` when the job was cancelled or deleted meanwhile."""
    job = load_job(session=session, job_id=job_id, lock=True)
    if job is None or is_cancelled(job):
        raise _Stopped()
    return _store_batch(session, job, pages, ordinal, None, last=True)


def _insert_rows(session: Session, document_id: uuid.UUID, pages: list[PageText],
                 ordinal: int) -> int:
    """Bulk-inserts the pages and their chunks; returns the next chunk ordinal."""
    limits = get_settings().limits
    page_rows: list[dict[str, Any]] = []
    chunk_rows: list[dict[str, Any]] = []
    for page in pages:
        page_rows.append({"document_id": document_id, "number": page.number, "text": page.text,
                          "flags": list(page.flags), "extractor": page.extractor,
                          "ocr": page.ocr.as_record() if page.ocr is not None else None})
        for chunk in chunk_page(page, size=limits.chunk_chars,
                                overlap=limits.chunk_overlap_chars):
            chunk_rows.append({"document_id": document_id, "ordinal": ordinal,
                               "page_number": chunk.page_number, "char_start": chunk.char_start,
                               "char_end": chunk.char_end, "text": chunk.text})
            ordinal += 1
    bulk_insert(session, Page, page_rows)
    bulk_insert(session, Chunk, chunk_rows)
    return ordinal


def _reject(session: Session, job_id: str, reason: str) -> None:
    """Marks the stage, job and document failed with the reason the PDF was refused."""
    with session.begin():
        job = load_job(session=session, job_id=job_id, lock=True)
        if job is None or is_cancelled(job):
            return
        if stage_of(job, StageName.INGEST).status == StageStatus.PENDING:
            # refused in the first transaction, which took the stage's start with it
            start_stage(session=session, job=job, document=job.document, name=StageName.INGEST)
        fail_job(session=session, job=job, document=job.document, name=StageName.INGEST,
                 reason=reason)
    log.info("document %s rejected: %s", job.document_id, reason)


class _Stopped(Exception):
    """The job was cancelled or deleted while the stage ran: what the batch stored is undone."""
