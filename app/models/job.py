"""Processing jobs and their per-stage state. A job runs one document through the stages
ingest -> analysis -> verify; each stage row records its status, attempts, timestamps, progress
and error, so a task that runs twice (redelivery after a crash) skips what is already done.
The job's own status is the document-facing one (queued, parsing, analysing, ...)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, created_at, uuid_pk
from app.models.document import Document, DocumentStatus, _enum


class StageName(enum.StrEnum):
    INGEST = "ingest"
    ANALYSIS = "analysis"
    VERIFY = "verify"


class StageStatus(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


# the document status shown while each stage runs
STAGE_DOCUMENT_STATUS = {
    StageName.INGEST: DocumentStatus.PARSING,
    StageName.ANALYSIS: DocumentStatus.ANALYSING,
    StageName.VERIFY: DocumentStatus.VERIFYING,
}


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[uuid.UUID] = uuid_pk()
    document_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    status: Mapped[DocumentStatus] = mapped_column(_enum(DocumentStatus, "job_status"),
                                                  default=DocumentStatus.QUEUED, index=True)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at()
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    stages: Mapped[list[JobStage]] = relationship(
        back_populates="job", cascade="all, delete-orphan", order_by="JobStage.position")
    document: Mapped[Document] = relationship()


class JobStage(Base):
    __tablename__ = "job_stages"
    __table_args__ = (UniqueConstraint("job_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"),
                                              index=True)
    name: Mapped[StageName] = mapped_column(_enum(StageName, "stage_name"))
    position: Mapped[int] = mapped_column(Integer)
    status: Mapped[StageStatus] = mapped_column(_enum(StageStatus, "stage_status"),
                                               default=StageStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    job: Mapped[Job] = relationship(back_populates="stages")
