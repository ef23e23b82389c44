"""Analysis results: one JSON document per job (schema in ``docs/result.schema.json``), every
value carrying page and character-span provenance, plus the model that produced it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, created_at, uuid_pk


class Result(Base):
    __tablename__ = "results"

    id: Mapped[uuid.UUID] = uuid_pk()
    document_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"),
                                              unique=True)
    model: Mapped[str] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[datetime] = created_at()
