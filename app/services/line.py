"""The LINE bot's persistence: verifying and recording webhook deliveries (one row per
``webhookEventId``, so a redelivered event is never processed twice), the channel -> tenant
mapping, LINE users and their follow state and language, per-user conversation memory and the
per-user message rate. The webhook route and the LINE worker tasks both go through here.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from linebot.v3.webhook import SignatureValidator
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.core.errors import InvalidInput
from app.core.settings import get_settings
from app.models.base import utcnow
from app.models.line import LineEvent, LineEventStatus, LineTurn, LineUser
from app.services.tenants import Caller, get_or_create_tenant

LINE_ACTOR_PREFIX = "line"


class InvalidSignature(InvalidInput):
    code = "invalid_signature"


@dataclass(frozen=True)
class WebhookDelivery:
    """A verified webhook body: the bot it was sent to and its events as LINE sent them."""

    destination: str
    events: list[dict[str, Any]]


def verify_signature(body: bytes, signature: str | None, channel_secret: str) -> None:
    """Raises ``InvalidSignature`` unless ``signature`` (LINE's ``X-Line-Signature``) is the
    base64 HMAC-SHA256 of the raw body under the channel secret, checked by the SDK."""
    if not signature:
        raise InvalidSignature("missing X-Line-Signature header")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidSignature("webhook body is not UTF-8") from exc
    if not SignatureValidator(channel_secret).validate(text, signature.strip()):
        raise InvalidSignature("X-Line-Signature does not match the body")


def parse_delivery(body: bytes) -> WebhookDelivery:
    """The events of a webhook body whose signature was already verified; a body that is not
    a LINE webhook object is refused as a whole, before anything is stored."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"webhook body is not JSON: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("events"), list):
        raise InvalidInput("webhook body must be an object with an 'events' list")
    events = document["events"]
    for index, event in enumerate(events):
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            raise InvalidInput(f"webhook event {index} has no 'type'")
    return WebhookDelivery(destination=str(document.get("destination") or ""), events=events)


def event_key(event: dict[str, Any]) -> str:
    """LINE's ``webhookEventId``; for an event without one, a hash of its content, so the same
    event delivered twice still maps to one key."""
    key = event.get("webhookEventId")
    if isinstance(key, str) and key:
        return key[:64]
    canonical = json.dumps(event, sort_keys=True, ensure_ascii=False).encode()
    return "sha256:" + hashlib.sha256(canonical).hexdigest()[:57]


def tenant_for_destination(session: Session, destination: str) -> uuid.UUID:
    """The tenant a channel's events belong to: ``line.tenant_by_destination`` by the bot's
    user id, else ``line.default_tenant``; created on first use."""
    line = get_settings().line
    name = line.tenant_by_destination.get(destination, line.default_tenant)
    return get_or_create_tenant(session=session, name=name).id


def record_delivery(session: Session, delivery: WebhookDelivery) -> list[uuid.UUID]:
    """Stores each event of a verified delivery once and returns the ids of those that are new
    (to be queued after commit). A redelivered event hits the unique ``webhook_event_id`` and is
    skipped, whether the first copy was processed or is still queued."""
    new_ids: list[uuid.UUID] = []
    with session.begin():
        tenant_id = tenant_for_destination(session, delivery.destination)
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        for event in delivery.events:
            source = event.get("source") or {}
            context = event.get("deliveryContext") or {}
            row = {"id": uuid.uuid4(), "webhook_event_id": event_key(event),
                   "tenant_id": tenant_id, "event_type": str(event["type"])[:32],
                   "user_id": source.get("userId"), "redelivery": bool(
                       context.get("isRedelivery")), "payload": event,
                   "status": LineEventStatus.RECEIVED.value, "created_at": utcnow()}
            inserted = session.execute(
                insert(LineEvent).values(**row)
                .on_conflict_do_nothing(index_elements=["webhook_event_id"])
                .returning(LineEvent.id)).scalar_one_or_none()
            if inserted is not None:
                new_ids.append(inserted)
    return new_ids


def line_caller(tenant_id: uuid.UUID, user_id: str) -> Caller:
    """The identity a LINE user acts under when a file they send is uploaded (audit: line:...)."""
    return Caller(tenant_id=tenant_id, key_id=uuid.UUID(int=0),
                  key_prefix=f"{LINE_ACTOR_PREFIX}:{user_id[:10]}")


def claim_event(*, session: Session, event_id: uuid.UUID | str) -> LineEvent | None:
    """The event row, locked, if it still waits to be processed; None when it is gone or done
    (a task run twice does nothing the second time)."""
    event = session.scalar(select(LineEvent).where(LineEvent.id == uuid.UUID(str(event_id)))
                           .with_for_update())
    if event is None or event.status != LineEventStatus.RECEIVED:
        return None
    return event


def finish_event(*, session: Session, event: LineEvent, outcome: str,
                 failed: bool = False) -> None:
    event.status = LineEventStatus.FAILED if failed else LineEventStatus.DONE
    event.outcome = outcome[:2000]
    event.processed_at = utcnow()


def get_or_create_user(*, session: Session, tenant_id: uuid.UUID, user_id: str,
                       language: str | None = None) -> LineUser:
    """The tenant's LINE user, created on first contact; ``language`` updates the language the
    bot speaks with them."""
    user = session.scalar(select(LineUser).where(LineUser.tenant_id == tenant_id,
                                                 LineUser.user_id == user_id))
    if user is None:
        user = LineUser(tenant_id=tenant_id, user_id=user_id, language=language or "en",
                        following=True, followed_at=utcnow())
        session.add(user)
        session.flush()
    elif language:
        user.language = language
    return user


def set_following(*, session: Session, user: LineUser, following: bool) -> None:
    user.following = following
    if following:
        user.followed_at = utcnow()
    else:
        user.unfollowed_at = utcnow()


def messages_in_window(*, session: Session, tenant_id: uuid.UUID, user_id: str) -> int:
    """How many messages the user sent within the rate window, the current one included."""
    since = utcnow() - timedelta(seconds=get_settings().line.rate_window_s)
    return session.scalar(select(func.count()).select_from(LineEvent).where(
        LineEvent.tenant_id == tenant_id, LineEvent.user_id == user_id,
        LineEvent.event_type == "message", LineEvent.created_at >= since)) or 0


def remember_turns(*, session: Session, user: LineUser, question: str, answer: str) -> None:
    now = utcnow()
    session.add(LineTurn(line_user_id=user.id, role="user", text=question, created_at=now))
    session.add(LineTurn(line_user_id=user.id, role="assistant", text=answer,
                         created_at=now + timedelta(microseconds=1)))
