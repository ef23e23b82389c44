"""``/v1/batches``: many PDFs (or one zip) analysed together: create, follow (JSON or
Server-Sent Events), cancel, retry and export. Every handler is scoped to the caller's tenant."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, UploadFile, status
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel

from app.api.deps import CallerDep, SessionDep
from app.core.db import session_scope
from app.exports import MEDIA_TYPES, export_batch
from app.models.batch import BatchStatus
from app.services import batches as service

router = APIRouter(prefix="/v1/batches", tags=["batches"])

# how often the events stream looks at the batch, and how often it says it is still alive
EVENT_POLL_S = 1.0
KEEPALIVE_S = 15.0


class BatchDocumentOut(BaseModel):
    document_id: uuid.UUID
    filename: str
    status: str
    doc_type: str | None
    page_count: int | None
    failure_reason: str | None
    queued_for_work: bool


class BatchOut(BaseModel):
    id: uuid.UUID
    name: str
    status: str
    created_at: datetime
    finished_at: datetime | None
    total: int
    finished: int
    counts: dict[str, int]
    documents_per_minute: float
    eta_s: float | None
    callback_url: str | None
    callback_delivered_at: datetime | None
    documents: list[BatchDocumentOut]


class BatchCreated(BatchOut):
    skipped: list[str]


class BatchListItem(BaseModel):
    id: uuid.UUID
    name: str
    status: str
    created_at: datetime
    finished_at: datetime | None


class BatchAction(BaseModel):
    batch_id: uuid.UUID
    documents: int


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=BatchCreated)
def create(session: SessionDep, caller: CallerDep,
           files: Annotated[list[UploadFile], File(description="PDFs, or one zip of PDFs")],
           name: Annotated[str, Form()] = "",
           callback_url: Annotated[str | None, Form()] = None) -> BatchCreated:
    """Stores the documents as one batch and queues them a few at a time (fair share). A zip
    with unsafe names, too many entries or too much inflated data is refused whole."""
    created = service.create_batch(session, caller, [(f.filename, f.file) for f in files],
                                   name=name, callback_url=callback_url)
    summary = service.batch_summary(session, caller, created.batch.id)
    return BatchCreated(**summary, skipped=created.skipped)


@router.get("", response_model=list[BatchListItem])
def list_batches(session: SessionDep, caller: CallerDep,
                 limit: Annotated[int, Query(ge=1, le=200)] = 50) -> list[BatchListItem]:
    return [BatchListItem(id=b.id, name=b.name, status=str(b.status), created_at=b.created_at,
                          finished_at=b.finished_at)
            for b in service.list_batches(session, caller, limit=limit)]


@router.get("/{batch_id}", response_model=BatchOut)
def get_batch(session: SessionDep, caller: CallerDep, batch_id: uuid.UUID) -> BatchOut:
    """Counts per status, each document's status, documents per minute and an ETA."""
    return BatchOut(**service.batch_summary(session, caller, batch_id))


@router.get("/{batch_id}/events")
def events(session: SessionDep, caller: CallerDep, batch_id: uuid.UUID) -> StreamingResponse:
    """Server-Sent Events: ``progress`` whenever a document changes status, ``finished`` once
    the batch is done or cancelled (then the stream ends)."""
    first = service.batch_summary(session, caller, batch_id)  # 404 before the stream starts

    def stream() -> Iterator[str]:
        summary: dict[str, Any] = first
        last_sent = None
        quiet_since = time.monotonic()
        while True:
            state = (summary["status"], json.dumps(summary["counts"], sort_keys=True))
            if state != last_sent:
                yield _event("progress", summary)
                last_sent, quiet_since = state, time.monotonic()
            if summary["status"] != BatchStatus.RUNNING:
                yield _event("finished", summary)
                return
            if time.monotonic() - quiet_since > KEEPALIVE_S:
                yield ": still running\n\n"
                quiet_since = time.monotonic()
            time.sleep(EVENT_POLL_S)
            with session_scope() as poll:
                summary = service.batch_summary(poll, caller, batch_id)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def _event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"


@router.post("/{batch_id}/cancel", response_model=BatchAction)
def cancel(session: SessionDep, caller: CallerDep, batch_id: uuid.UUID) -> BatchAction:
    """Cancels the batch: queued documents never start, running ones stop at the next stage."""
    return BatchAction(batch_id=batch_id,
                       documents=service.cancel_batch(session, caller, batch_id))


@router.post("/{batch_id}/retry", status_code=status.HTTP_202_ACCEPTED,
             response_model=BatchAction)
def retry(session: SessionDep, caller: CallerDep, batch_id: uuid.UUID) -> BatchAction:
    """Runs the failed and cancelled documents again; documents already done are skipped."""
    return BatchAction(batch_id=batch_id, documents=service.retry_batch(session, caller, batch_id))


@router.get("/{batch_id}/export")
def export(session: SessionDep, caller: CallerDep, batch_id: uuid.UUID,
           format: Literal["csv", "jsonl", "xlsx"] = "csv") -> Response:
    """Key fields, flags and page references per document, as CSV, JSON Lines or Excel."""
    with session.begin():
        batch = service.get_batch(session=session, caller=caller, batch_id=batch_id)
        body = export_batch(session, batch, format)
    filename = f"batch-{batch_id}.{format}"
    return Response(body, media_type=MEDIA_TYPES[format],
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
