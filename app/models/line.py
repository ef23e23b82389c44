"""The LINE bot's tables: every webhook event received (unique by LINE's ``webhookEventId``, so a
redelivered event is stored and processed once), the LINE users of each tenant (follow state and
the language the bot speaks with them), and the conversation turns that make up a user's memory.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, created_at, uuid_pk


class LineEventStatus(enum.StrEnum):
    RECEIVED = "received"
    DONE = "done"
    FAILED = "failed"


class LineEvent(Base):
    __tablename__ = "line_events"
    __table_args__ = (
        Index("ix_line_events_user_type_created", "tenant_id", "user_id", "event_type",
              "created_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    webhook_event_id: Mapped[str] = mapped_column(String(64), unique=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str | None] = mapped_column(String(64))
    redelivery: Mapped[bool] = mapped_column(Boolean, default=False)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[LineEventStatus] = mapped_column(
        Enum(LineEventStatus, name="line_event_status", native_enum=False, length=16,
             values_callable=lambda members: [m.value for m in members]),
        default=LineEventStatus.RECEIVED)
    outcome: Mapped[str | None] = mapped_column(Text)
    document_id: Mapped[uuid.UUID | None] = mapped_column()
    created_at: Mapped[datetime] = created_at()
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LineUser(Base):
    __tablename__ = "line_users"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8), default="en")
    following: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = created_at()
    followed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    unfollowed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LineTurn(Base):
    __tablename__ = "line_turns"
    __table_args__ = (Index("ix_line_turns_user_created", "line_user_id", "created_at"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    line_user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("line_users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at()
