"""The LINE bot's Celery tasks, on the ``interactive`` queue so a chat never waits behind a
batch: one per verified webhook delivery (stores its events, once each), one per new event, and
one that watches a PDF sent in chat until its summary can be pushed. All are safe to run twice
(events are unique by ``webhookEventId`` and claimed by their status; pushes carry retry keys)
and retry only transient trouble (LINE 5xx/429, database or broker down)."""

from __future__ import annotations

import asyncio
from typing import Any

from celery import Task
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.exc import OperationalError

from agents.line.documents import FollowUp, watch_document
from agents.line.handlers import handle_event
from agents.line.language import Language
from app.core.db import session_scope
from app.core.errors import UpstreamUnavailable
from app.queue import enqueue
from app.services.line import WebhookDelivery, record_delivery
from app.worker import celery_app

TRANSIENT = (OperationalError, RedisConnectionError, UpstreamUnavailable)
EVENT_TASK = "lexledger.interactive.line_event"
RETRY = {"autoretry_for": TRANSIENT, "retry_backoff": 2, "retry_backoff_max": 60,
         "retry_jitter": True, "max_retries": 5}


@celery_app.task(name="lexledger.interactive.line_delivery", bind=True, **RETRY)
def line_delivery(self: Task, destination: str, events: list[dict[str, Any]]) -> int:
    """Store a verified webhook delivery's events, once each, and queue the new ones."""
    with session_scope() as session:
        new_ids = record_delivery(session, WebhookDelivery(destination, events))
    for event_id in new_ids:
        enqueue(EVENT_TASK, str(event_id))
    return len(new_ids)


@celery_app.task(name=EVENT_TASK, bind=True, **RETRY)
def line_event(self: Task, event_id: str) -> str | None:
    """Handle one stored LINE webhook event: welcome, answer, take a file, or ignore it."""
    handled = asyncio.run(handle_event(event_id))
    if handled is None:
        return None
    _queue(handled.follow_up)
    return handled.outcome


@celery_app.task(name="lexledger.interactive.line_document_watch", bind=True, **RETRY)
def line_document_watch(self: Task, event_id: str, language: Language,
                        deadline: float) -> str:
    """Push the summary of a PDF sent in chat once it is processed (or why it failed)."""
    outcome, follow_up = asyncio.run(watch_document(event_id, language, deadline))
    _queue(follow_up)
    return outcome


def _queue(follow_up: FollowUp | None) -> None:
    if follow_up is not None:
        enqueue(follow_up.task, *follow_up.args, countdown=follow_up.countdown)
