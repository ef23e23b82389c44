"""The search index and the questions asked of it. ``search_entries`` are the retrievable units:
every chunk, plus the structure the agents found (statement pages, financial line items with their
period, contract clauses and key fields), each with its page and character span and an embedding
stored as float32 bytes (Postgres here has no pgvector; vectors are scored in Python, see
docs/retrieval.md). ``search_postings`` is the inverted index for BM25. ``queries`` holds each
customer question, its answer, citations and the retrieved evidence; a conversation is the
queries sharing a ``conversation_id``. Every row hangs off its document or tenant with
``ON DELETE CASCADE``, so deleting a document removes it from retrieval.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, created_at, uuid_pk


class EntryKind(enum.StrEnum):
    CHUNK = "chunk"
    STATEMENT = "statement"
    LINE_ITEM = "line_item"
    CLAUSE = "clause"
    FIELD = "field"


class QueryStatus(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        return self in (QueryStatus.DONE, QueryStatus.FAILED)


class SearchEntry(Base):
    __tablename__ = "search_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    document_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    chunk_id: Mapped[int | None] = mapped_column(
        ForeignKey("chunks.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    # statement name, CUAD clause category or field name; None for plain chunks
    label: Mapped[str | None] = mapped_column(String(200))
    period: Mapped[str | None] = mapped_column(String(32))
    page_number: Mapped[int] = mapped_column(Integer)
    char_start: Mapped[int] = mapped_column(Integer)
    char_end: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    term_count: Mapped[int] = mapped_column(Integer)
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary)


class SearchPosting(Base):
    __tablename__ = "search_postings"
    __table_args__ = (Index("ix_search_postings_term_document", "term", "document_id"),)

    entry_id: Mapped[int] = mapped_column(
        ForeignKey("search_entries.id", ondelete="CASCADE"), primary_key=True)
    term: Mapped[str] = mapped_column(String(64), primary_key=True)
    document_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    tf: Mapped[int] = mapped_column(Integer)


class Query(Base):
    __tablename__ = "queries"

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[str] = mapped_column(String(200), index=True)
    question: Mapped[str] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(8))
    # the scope: these documents, or the tenant's whole library when empty
    document_ids: Mapped[list[Any]] = mapped_column(default=list)
    stream: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default=QueryStatus.PENDING, index=True)
    answer: Mapped[str | None] = mapped_column(Text)
    found: Mapped[bool | None] = mapped_column(Boolean)
    citations: Mapped[list[Any]] = mapped_column(default=list)
    retrieved: Mapped[list[Any]] = mapped_column(default=list)
    model: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at()
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
