"""``/v1/documents``: upload PDFs, follow their processing, read pages and results, reprocess,
delete. Every handler is scoped to the caller's tenant."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, File, Query, Response, UploadFile, status

from app.api.deps import CallerDep, Offset, PageNumber, SessionDep
from app.api.schemas import (
    DocumentDetail,
    DocumentOut,
    DocumentPage,
    PageOut,
    ReprocessResponse,
    ResultOut,
    UploadedDocument,
    UploadResponse,
)
from app.models import DocumentStatus
from app.services import documents as service

router = APIRouter(prefix="/v1/documents", tags=["documents"])


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=UploadResponse)
def upload(session: SessionDep, caller: CallerDep,
           files: Annotated[list[UploadFile], File(description="one or more PDF files")],
           reprocess: bool = False) -> UploadResponse:
    """Uploads PDFs and queues them. Content this tenant already uploaded returns the existing
    document (``duplicate: true``) unless ``reprocess=true`` asks for a fresh run."""
    outcomes = service.upload_documents(session, caller, [(f.filename, f.file) for f in files],
                                        reprocess=reprocess)
    return UploadResponse(documents=[
        UploadedDocument(**DocumentOut.model_validate(o.document).model_dump(),
                         duplicate=o.duplicate, job_id=o.job.id if o.job else None)
        for o in outcomes])


@router.get("", response_model=DocumentPage)
def list_documents(session: SessionDep, caller: CallerDep,
                   limit: Annotated[int, Query(ge=1, le=200)] = 50,
                   offset: Offset = 0,
                   status: DocumentStatus | None = None, doc_type: str | None = None,
                   filename: str | None = None,
                   batch_id: uuid.UUID | None = None) -> DocumentPage:
    items, total = service.list_documents(session, caller, limit=limit, offset=offset,
                                          status=status, doc_type=doc_type, filename=filename,
                                          batch_id=batch_id)
    return DocumentPage(items=[DocumentOut.model_validate(d) for d in items], total=total,
                        limit=limit, offset=offset)


@router.get("/{document_id}", response_model=DocumentDetail)
def get_document(session: SessionDep, caller: CallerDep,
                 document_id: uuid.UUID) -> DocumentDetail:
    """The document with its current job and each stage's status and progress."""
    document, job = service.document_with_job(session, caller, document_id)
    return DocumentDetail.build(document, job)


@router.get("/{document_id}/result", response_model=ResultOut)
def get_result(session: SessionDep, caller: CallerDep, document_id: uuid.UUID) -> ResultOut:
    result = service.get_result(session, caller, document_id)
    return ResultOut(document_id=result.document_id, job_id=result.job_id, model=result.model,
                     created_at=result.created_at, result=result.data)


@router.get("/{document_id}/pages/{number}", response_model=PageOut)
def get_page(session: SessionDep, caller: CallerDep, document_id: uuid.UUID,
             number: PageNumber) -> PageOut:
    return PageOut.model_validate(service.get_page(session, caller, document_id, number))


@router.post("/{document_id}/reprocess", status_code=status.HTTP_202_ACCEPTED,
             response_model=ReprocessResponse)
def reprocess(session: SessionDep, caller: CallerDep,
              document_id: uuid.UUID) -> ReprocessResponse:
    job = service.reprocess_document(session, caller, document_id)
    return ReprocessResponse(document_id=document_id, job_id=job.id)


@router.delete("/{document_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete(session: SessionDep, caller: CallerDep, document_id: uuid.UUID) -> Response:
    """Deletes the file, pages, chunks and results; the audit record of the deletion stays."""
    service.delete_document(session, caller, document_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
