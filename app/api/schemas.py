"""Response models of the API v1 (what clients see, documented in the OpenAPI spec)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.models import Document, Job


class StageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    status: str
    attempts: int
    progress_done: int
    progress_total: int | None
    detail: str | None
    error: str | None
    started_at: datetime | None
    finished_at: datetime | None


class JobOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    status: str
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    stages: list[StageOut]


class DocumentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    filename: str
    sha256: str
    size_bytes: int
    page_count: int | None
    status: str
    failure_reason: str | None
    doc_type: str | None
    batch_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime


class DocumentDetail(DocumentOut):
    job: JobOut | None

    @classmethod
    def build(cls, document: Document, job: Job | None) -> DocumentDetail:
        base = DocumentOut.model_validate(document).model_dump()
        return cls(**base, job=JobOut.model_validate(job) if job else None)


class UploadedDocument(DocumentOut):
    duplicate: bool
    job_id: uuid.UUID | None


class UploadResponse(BaseModel):
    documents: list[UploadedDocument]


class DocumentPage(BaseModel):
    items: list[DocumentOut]
    total: int
    limit: int
    offset: int


class PageOcrOut(BaseModel):
    confidence: float | None = Field(
        description="mean word confidence (0-100), weighted by word length")
    languages: str = Field(description="Tesseract's languages, e.g. tha+eng")
    dpi: int = Field(description="the resolution the page was rendered at (0: not rendered)")
    seconds: float
    note: str | None = Field(description="why OCR read nothing: the page was refused or timed out")
    words: list[list[float]] = Field(
        description="each word as [start, end, x0, y0, x1, y1, confidence]: offsets into the "
                    "page text, its box in points from the page's top-left corner")


class PageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    text: str
    flags: list[str]
    extractor: str = Field(description="pdfium, pypdf or ocr")
    ocr: PageOcrOut | None = None


class ResultOut(BaseModel):
    document_id: uuid.UUID
    job_id: uuid.UUID
    model: str
    created_at: datetime
    result: dict[str, Any]


class ReprocessResponse(BaseModel):
    document_id: uuid.UUID
    job_id: uuid.UUID
