"""``POST /v1/line/webhook``: LINE's Messaging API webhook. The signature is checked over the raw
body before anything else; each new event is stored once (redeliveries are dropped by their
``webhookEventId``) and handed to the ``interactive`` queue; the answer is 200 as soon as that is
done, while the workers compute replies. Outside dev/test the API refuses to start with the
placeholder channel secret or access token."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import delete
from starlette.concurrency import run_in_threadpool

from app.core.db import session_scope
from app.core.errors import NotFound, UpstreamUnavailable
from app.core.settings import get_settings
from app.models.line import LineEvent
from app.queue import enqueue
from app.services.line import WebhookDelivery, parse_delivery, record_delivery, verify_signature

log = logging.getLogger(__name__)

EVENT_TASK = "lexledger.interactive.line_event"


@asynccontextmanager
async def require_channel_secrets(_: Any) -> AsyncIterator[None]:
    """Refuses to start the API in production with LINE enabled but no real channel secrets."""
    settings = get_settings()
    if settings.env not in ("dev", "test") and settings.line.enabled \
            and not settings.line_configured:
        raise RuntimeError("the LINE webhook needs LEXLEDGER_LINE__CHANNEL_SECRET and "
                           "LEXLEDGER_LINE__CHANNEL_ACCESS_TOKEN (or LEXLEDGER_LINE__ENABLED="
                           "false)")
    yield


router = APIRouter(prefix="/v1/line", tags=["line"], lifespan=require_channel_secrets)


@router.post("/webhook")
async def line_webhook(request: Request, x_line_signature: Annotated[
        str | None, Header(alias="X-Line-Signature")] = None) -> dict[str, int]:
    """Verifies a LINE delivery, stores its new events and queues them; 400 on a bad or missing
    signature (nothing is stored)."""
    line = get_settings().line
    if not line.enabled:
        raise NotFound("the LINE webhook is not enabled on this deployment")
    body = await request.body()
    verify_signature(body, x_line_signature, line.channel_secret)
    delivery = parse_delivery(body)
    queued = await run_in_threadpool(_store_and_queue, delivery)
    return {"events": len(delivery.events), "queued": queued}


def _store_and_queue(delivery: WebhookDelivery) -> int:
    with session_scope() as session:
        new_ids = record_delivery(session, delivery)
    for position, event_id in enumerate(new_ids):
        try:
            enqueue(EVENT_TASK, str(event_id))
        except (BrokerError, RedisConnectionError) as exc:
            # unqueued rows would swallow LINE's redelivery of the same events: drop them
            _forget(new_ids[position:])
            raise UpstreamUnavailable("the task queue is unavailable; LINE will redeliver "
                                      "this webhook") from exc
    return len(new_ids)


def _forget(event_ids: list[uuid.UUID]) -> None:
    with session_scope() as session, session.begin():
        session.execute(delete(LineEvent).where(LineEvent.id.in_(event_ids)))
    log.warning("dropped %d unqueued LINE events so their redelivery is processed",
                len(event_ids))
