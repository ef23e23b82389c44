"""``POST /v1/line/webhook``: LINE's Messaging API webhook. The signature is checked over the raw
body before anything else; the delivery is then handed to the ``interactive`` queue, where each
event is stored once (redeliveries are dropped by their ``webhookEventId``) and handled. The
answer is 200 as soon as the delivery is queued, while the workers compute replies. Outside
dev/test the API refuses to start with the placeholder channel secret or access token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import ConnectionError as RedisConnectionError

from app.core.errors import NotFound, UpstreamUnavailable
from app.core.settings import get_settings
from app.publisher import publisher
from app.services.line import parse_delivery, verify_signature

DELIVERY_TASK = "lexledger.interactive.line_delivery"


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
    """Verifies a LINE delivery and queues it; 400 on a bad or missing signature or a body
    that is not a webhook (nothing is queued). The worker stores each event once and handles
    the new ones, so the acknowledgement costs one publish to the broker (``app.publisher``)."""
    line = get_settings().line
    if not line.enabled:
        raise NotFound("the LINE webhook is not enabled on this deployment")
    body = await request.body()
    verify_signature(body, x_line_signature, line.channel_secret)
    delivery = parse_delivery(body)
    if delivery.events:  # LINE's "verify" button sends an empty delivery
        try:
            await publisher.enqueue(DELIVERY_TASK, delivery.destination, delivery.events)
        except (BrokerError, RedisConnectionError) as exc:
            raise UpstreamUnavailable("the task queue is unavailable; LINE will redeliver "
                                      "this webhook") from exc
    return {"events": len(delivery.events)}
