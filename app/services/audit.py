"""Writes audit events. Called inside the caller's transaction so the event and the change it
records commit (or roll back) together."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from app.models import AuditEvent


def record_event(*, session: Session, tenant_id: uuid.UUID, actor: str, action: str,
                 subject_type: str, subject_id: uuid.UUID | str,
                 detail: dict[str, Any] | None = None) -> None:
    session.add(AuditEvent(tenant_id=tenant_id, actor=actor, action=action,
                           subject_type=subject_type, subject_id=str(subject_id),
                           detail=detail or {}))
