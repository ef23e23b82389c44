"""Tenants and API keys: creating them, and turning a presented key into the caller's identity."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.errors import AuthenticationFailed
from app.core.security import KEY_SCHEME, generate_api_key, hash_api_key
from app.models import ApiKey, Tenant
from app.models.base import utcnow
from app.services.audit import record_event


@dataclass(frozen=True)
class Caller:
    """Who is making a request: every query is scoped to ``tenant_id``."""

    tenant_id: uuid.UUID
    key_id: uuid.UUID
    key_prefix: str

    @property
    def actor(self) -> str:
        return f"key:{self.key_prefix}"


def get_or_create_tenant(*, session: Session, name: str) -> Tenant:
    tenant = session.scalar(select(Tenant).where(Tenant.name == name))
    if tenant is None:
        tenant = Tenant(name=name)
        session.add(tenant)
        session.flush()
    return tenant


def create_api_key(session: Session, *, tenant_name: str, key_name: str = "") -> tuple[Tenant, str]:
    """Creates the tenant if needed and a new key for it; returns the key in clear, once."""
    with session.begin():
        tenant = get_or_create_tenant(session=session, name=tenant_name)
        key, prefix, key_hash = generate_api_key()
        api_key = ApiKey(tenant_id=tenant.id, name=key_name, prefix=prefix, key_hash=key_hash)
        session.add(api_key)
        session.flush()
        record_event(session=session, tenant_id=tenant.id, actor="cli", action="api_key.created",
                     subject_type="api_key", subject_id=api_key.id, detail={"prefix": prefix})
    return tenant, key


def authenticate(session: Session, presented: str | None) -> Caller:
    """The caller behind a bearer key; ``AuthenticationFailed`` for a missing, unknown or revoked
    key (the message never says which, so keys cannot be probed)."""
    if not presented or not presented.startswith(f"{KEY_SCHEME}_"):
        raise AuthenticationFailed(
            "missing or invalid API key: send 'Authorization: Bearer llk_...'")
    with session.begin():
        api_key = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_api_key(presented)))
        if api_key is None or api_key.revoked_at is not None:
            raise AuthenticationFailed("invalid API key")
        api_key.last_used_at = utcnow()
        return Caller(tenant_id=api_key.tenant_id, key_id=api_key.id, key_prefix=api_key.prefix)
