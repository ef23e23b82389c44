"""Batches: many documents analysed together. A batch belongs to a tenant and lists its
documents as items, in upload order; an item remembers the job it runs under and when that job
was handed to the queue, which is how the feeder keeps a bounded number of a batch's documents in
flight (fair share) and how cancel knows what never started. A document already done when it
joins a batch is an item whose job is its finished one, so re-running skips it."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, created_at, uuid_pk
from app.models.document import _enum


class BatchStatus(enum.StrEnum):
    RUNNING = "running"
    DONE = "done"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self is not BatchStatus.RUNNING


class Batch(Base):
    __tablename__ = "batches"

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"),
                                                 index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[BatchStatus] = mapped_column(_enum(BatchStatus, "batch_status"),
                                               default=BatchStatus.RUNNING, index=True)
    callback_url: Mapped[str | None] = mapped_column(Text)
    callback_delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    callback_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at()
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class BatchItem(Base):
    __tablename__ = "batch_items"
    __table_args__ = (UniqueConstraint("batch_id", "document_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    batch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"),
                                                index=True)
    document_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    job_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"),
                                                     index=True)
    position: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255))
    # set when the job was handed to the queue; null while it waits for a free slot
    enqueued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
