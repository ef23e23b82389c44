"""The ingest stage: open the stored PDF, extract page text page by page (bounded memory),
gate each page's quality, chunk it with page and character offsets, and store pages and chunks
in batches while publishing progress. Safe to run twice: a rerun first removes whatever an
interrupted attempt stored, so pages and chunks exist exactly once."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from agents.ingest import PageText, PdfInfo, chunk_page, read_pdf
from app.core.bulk import bulk_insert, relax_durability
from app.core.errors import DocumentRejected
from app.core.settings import get_settings
from app.models import Chunk, Document, Page, StageName
from app.services.documents import blob_store
from app.services.jobs import (
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
PAGE_BATCH = 32


def run_ingest(session: Session, job_id: str) -> bool:
    """Runs the ingest stage of ``job_id``. Returns True when the next stage should be queued,
    False when there is nothing more to do (job gone, cancelled, failed or finished)."""
    with session.begin():
        job = load_job(session=session, job_id=job_id, lock=True)
        if job is None or job.status in ("cancelled", "failed", "done"):
            return False
        if is_stage_done(job, StageName.INGEST):
            return True
        document = session.get(Document, job.document_id)
        if document is None:
            return False
        path = blob_store().path_for(document.tenant_id, document.sha256)
        start_stage(session=session, job=job, document=document, name=StageName.INGEST)
        # an earlier attempt may have died half-way: start from a clean slate
        session.execute(delete(Chunk).where(Chunk.document_id == document.id))
        session.execute(delete(Page).where(Page.document_id == document.id))
        document_id = document.id

    try:
        page_count = _ingest_pages(session, job_id, document_id, path)
    except _Gone:
        return False
    except IntegrityError:
        # pages of a document deleted mid-stage violate their foreign key: nothing to do then
        with session.begin():
            if session.get(Document, document_id) is None:
                return False
        raise
    except DocumentRejected as exc:
        with session.begin():
            job = load_job(session=session, job_id=job_id)
            document = session.get(Document, document_id)
            if job is None or document is None:
                return False
            fail_job(session=session, job=job, document=document, name=StageName.INGEST,
                     reason=str(exc))
        log.info("document %s rejected: %s", document_id, exc)
        return False

    with session.begin():
        job = load_job(session=session, job_id=job_id, lock=True)
        if job is None or is_cancelled(job):
            return False
        finish_stage(session=session, job=job, name=StageName.INGEST,
                     detail=f"{page_count} pages")
    return True


def _ingest_pages(session: Session, job_id: str, document_id: uuid.UUID, path: Path) -> int:
    if not path.exists():
        raise DocumentRejected("the stored file is missing; upload the document again")
    # one sandboxed read: the structure first, then the pages as they are parsed
    with read_pdf(path, limits=get_settings().limits) as reading:
        info: PdfInfo | None = reading.info
        page_count = reading.info.page_count
        batch: list[PageText] = []
        ordinal = 0
        for page in reading:
            batch.append(page)
            if len(batch) >= PAGE_BATCH:
                ordinal = _store_batch(session, job_id, document_id, batch, ordinal, info)
                batch, info = [], None
        _store_batch(session, job_id, document_id, batch, ordinal, info)
    return page_count


def _store_batch(session: Session, job_id: str, document_id: uuid.UUID, pages: list[PageText],
                 ordinal: int, info: PdfInfo | None) -> int:
    """Stores a batch of pages and their chunks in one transaction (bulk inserts) and moves the
    stage's progress; the first batch also records the document's structure."""
    limits = get_settings().limits
    page_rows: list[dict[str, Any]] = []
    chunk_rows: list[dict[str, Any]] = []
    for page in pages:
        page_rows.append({"document_id": document_id, "number": page.number, "text": page.text,
                          "flags": list(page.flags), "extractor": page.extractor})
        for chunk in chunk_page(page, size=limits.chunk_chars,
                                overlap=limits.chunk_overlap_chars):
            chunk_rows.append({"document_id": document_id, "ordinal": ordinal,
                               "page_number": chunk.page_number, "char_start": chunk.char_start,
                               "char_end": chunk.char_end, "text": chunk.text})
            ordinal += 1
    with session.begin():
        relax_durability(session)
        job = load_job(session=session, job_id=job_id)
        if job is None or is_cancelled(job):
            raise _Gone()
        stage = stage_of(job, StageName.INGEST)
        if info is not None:
            document = session.get(Document, document_id)
            if document is None:
                raise _Gone()
            document.page_count = info.page_count
            document.info = {"metadata": info.metadata, "outline": info.outline[:200],
                             "encrypted": info.encrypted}
            stage.progress_total = info.page_count
        bulk_insert(session, Page.__table__, page_rows)
        bulk_insert(session, Chunk.__table__, chunk_rows)
        if pages:
            stage.progress_done = pages[-1].number
    return ordinal


class _Gone(Exception):
    """The job or document was deleted, or the job cancelled, while the stage ran."""
