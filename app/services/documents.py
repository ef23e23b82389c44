"""Documents: upload (validation, dedupe by content hash, blob storage, job creation, enqueue
after commit), listing, reading, reprocessing and deletion, always within the caller's tenant.
Another tenant's document is indistinguishable from a missing one (``NotFound``)."""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass
from typing import Any, BinaryIO

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, undefer

from app.core.errors import BadFilename, Conflict, InvalidInput, NotFound
from app.core.settings import get_settings
from app.models import Chunk, Document, DocumentStatus, Job, Page, Result
from app.queue import enqueue
from app.services.audit import record_event
from app.services.jobs import create_job, latest_job
from app.services.tenants import Caller
from app.storage import BlobStore, StagedBlob

INGEST_TASK = "lexledger.ingest"
MAX_FILENAME_CHARS = 255


@dataclass(frozen=True)
class UploadOutcome:
    document: Document
    job: Job | None
    duplicate: bool


def blob_store() -> BlobStore:
    return BlobStore(get_settings().storage.blob_dir)


def clean_filename(raw: str | None) -> str:
    """The name to keep for an uploaded file. Folder parts that browsers and tools send
    (``C:\\scans\\a.pdf``, ``../../a.pdf``) are dropped; control characters are refused."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        raise BadFilename(f"filename {raw!r} contains control characters")
    if name in ("", ".", ".."):
        raise BadFilename(f"filename {raw!r} is empty once folder parts are removed")
    name = unicodedata.normalize("NFC", name)
    if len(name) > MAX_FILENAME_CHARS:
        raise BadFilename(f"filename is longer than {MAX_FILENAME_CHARS} characters")
    return name


def upload_documents(session: Session, caller: Caller, files: list[tuple[str | None, BinaryIO]],
                     *, reprocess: bool = False,
                     batch_id: uuid.UUID | None = None) -> list[UploadOutcome]:
    """Stores the uploaded PDFs and queues each new one for processing. The request is
    all-or-nothing: every file is checked (name, size, PDF header) before anything is stored, and
    the first bad one is reported by name. Content already uploaded by this tenant returns the
    existing document, or a fresh job for it when ``reprocess`` is asked for."""
    limits = get_settings().limits
    if not files:
        raise InvalidInput("no files: send one or more PDFs as multipart field 'files'")
    if len(files) > limits.max_files_per_request:
        raise InvalidInput(f"too many files in one request: {len(files)} > "
                           f"{limits.max_files_per_request}")
    store = blob_store()
    staged: list[tuple[str, StagedBlob]] = []
    try:
        for raw_name, stream in files:
            name = clean_filename(raw_name)
            staged.append((name, store.stage(stream, filename=name,
                                             max_bytes=limits.max_upload_bytes)))
        outcomes = _record_uploads(session, caller, staged, reprocess=reprocess,
                                   batch_id=batch_id, store=store)
    finally:
        for _, blob in staged:
            store.discard(blob)
    for outcome in outcomes:
        if outcome.job is not None:
            enqueue(INGEST_TASK, str(outcome.job.id))
    return outcomes


def _record_uploads(session: Session, caller: Caller, staged: list[tuple[str, StagedBlob]], *,
                    reprocess: bool, batch_id: uuid.UUID | None,
                    store: BlobStore) -> list[UploadOutcome]:
    outcomes: list[UploadOutcome] = []
    with session.begin():
        seen: dict[str, UploadOutcome] = {}
        for name, blob in staged:
            if blob.sha256 in seen:  # the same bytes twice in one request
                outcomes.append(UploadOutcome(seen[blob.sha256].document, None, True))
                continue
            existing = session.scalar(select(Document).where(
                Document.tenant_id == caller.tenant_id, Document.sha256 == blob.sha256))
            if existing is not None:
                job = None
                if reprocess:
                    _ensure_idle(session=session, document=existing)
                    store.commit(blob, caller.tenant_id)  # restores a blob lost meanwhile
                    job = create_job(session=session, document=existing)
                    record_event(session=session, tenant_id=caller.tenant_id, actor=caller.actor,
                                 action="document.reprocessed", subject_type="document",
                                 subject_id=existing.id)
                outcome = UploadOutcome(existing, job, duplicate=True)
            else:
                document = Document(tenant_id=caller.tenant_id, sha256=blob.sha256, filename=name,
                                    size_bytes=blob.size, batch_id=batch_id)
                session.add(document)
                session.flush()
                store.commit(blob, caller.tenant_id)
                job = create_job(session=session, document=document)
                record_event(session=session, tenant_id=caller.tenant_id, actor=caller.actor,
                             action="document.uploaded", subject_type="document",
                             subject_id=document.id,
                             detail={"filename": name, "sha256": blob.sha256, "bytes": blob.size})
                outcome = UploadOutcome(document, job, duplicate=False)
            seen[blob.sha256] = outcome
            outcomes.append(outcome)
    return outcomes


def _ensure_idle(*, session: Session, document: Document) -> None:
    if not DocumentStatus(document.status).finished:
        raise Conflict(f"document {document.id} is still being processed "
                       f"(status {document.status}); wait for it to finish")


def get_document(*, session: Session, caller: Caller, document_id: uuid.UUID) -> Document:
    document = session.scalar(select(Document).where(Document.id == document_id,
                                                     Document.tenant_id == caller.tenant_id))
    if document is None:
        raise NotFound(f"document {document_id} not found")
    return document


def list_documents(session: Session, caller: Caller, *, limit: int, offset: int,
                   status: DocumentStatus | None = None, doc_type: str | None = None,
                   filename: str | None = None,
                   batch_id: uuid.UUID | None = None) -> tuple[list[Document], int]:
    """A page of the tenant's documents, newest first, and the total matching the filters."""
    query = select(Document).where(Document.tenant_id == caller.tenant_id)
    if status is not None:
        query = query.where(Document.status == status)
    if doc_type is not None:
        query = query.where(Document.doc_type == doc_type)
    if filename:
        query = query.where(Document.filename.ilike(f"%{filename}%"))
    if batch_id is not None:
        query = query.where(Document.batch_id == batch_id)
    with session.begin():
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        items = list(session.scalars(query.order_by(Document.created_at.desc(), Document.id)
                                     .limit(limit).offset(offset)))
    return items, total


def document_with_job(session: Session, caller: Caller,
                      document_id: uuid.UUID) -> tuple[Document, Job | None]:
    with session.begin():
        document = get_document(session=session, caller=caller, document_id=document_id)
        job = latest_job(session=session, document_id=document.id)
        if job is not None:
            job.stages  # noqa: B018  (load the stages while the transaction is open)
    return document, job


def get_result(session: Session, caller: Caller, document_id: uuid.UUID) -> Result:
    with session.begin():
        document = get_document(session=session, caller=caller, document_id=document_id)
        result = session.scalar(select(Result).where(Result.document_id == document.id)
                                .order_by(Result.created_at.desc()).limit(1))
        if result is None:
            raise NotFound(f"document {document_id} has no result yet (status: "
                           f"{document.status}" + (f", reason: {document.failure_reason}"
                                                  if document.failure_reason else "") + ")")
    return result


def get_page(session: Session, caller: Caller, document_id: uuid.UUID, number: int) -> Page:
    with session.begin():
        document = get_document(session=session, caller=caller, document_id=document_id)
        page = session.scalar(select(Page).options(undefer(Page.ocr)).where(
            Page.document_id == document.id, Page.number == number))
        if page is None:
            count = document.page_count
            raise NotFound(f"page {number} not found" + (
                f": the document has {count} pages" if count else
                f": the document has no pages yet (status: {document.status})"))
    return page


def reprocess_document(session: Session, caller: Caller, document_id: uuid.UUID) -> Job:
    """A new job for a finished document; ``Conflict`` while one is still running."""
    with session.begin():
        document = get_document(session=session, caller=caller, document_id=document_id)
        _ensure_idle(session=session, document=document)
        if not blob_store().path_for(document.tenant_id, document.sha256).exists():
            raise Conflict(f"document {document_id} has lost its file; upload it again")
        job = create_job(session=session, document=document)
        record_event(session=session, tenant_id=caller.tenant_id, actor=caller.actor,
                     action="document.reprocessed", subject_type="document",
                     subject_id=document.id)
    enqueue(INGEST_TASK, str(job.id))
    return job


def delete_document(session: Session, caller: Caller, document_id: uuid.UUID) -> None:
    """Removes the document's blob and every row that belongs to it (pages, chunks, jobs,
    results); the audit event recording the deletion is kept."""
    with session.begin():
        document = get_document(session=session, caller=caller, document_id=document_id)
        detail: dict[str, Any] = {"filename": document.filename, "sha256": document.sha256}
        for table in (Chunk, Page, Result):
            session.execute(delete(table).where(table.document_id == document.id))
        session.delete(document)
        record_event(session=session, tenant_id=caller.tenant_id, actor=caller.actor,
                     action="document.deleted", subject_type="document", subject_id=document_id,
                     detail=detail)
    blob_store().delete(caller.tenant_id, detail["sha256"])
