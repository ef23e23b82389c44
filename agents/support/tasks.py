"""The support agent's Celery task, ``lexledger.interactive.answer`` on the ``interactive``
queue: it takes a query id, re-loads the question and its conversation, runs the agent with its
answer tokens published to the query's answer stream, and stores the answer, citations and
retrieved evidence on the query row. Safe to run twice (a finished query is skipped)."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any

from celery import Task
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.exc import OperationalError

from agents.llm import AgentContext
from agents.support.graph import build_graph
from agents.support.nodes import SupportContext
from app.core.db import session_scope
from app.core.settings import get_settings
from app.models.search import Query
from app.services.queries import (
    conversation_history,
    finish_answering,
    query_payload,
    start_answering,
)
from app.streams import get_answer_stream
from app.worker import celery_app

log = logging.getLogger(__name__)

# once the model endpoint failed to answer, questions in the next minute skip it (a chat must
# not wait on connection retries for every message)
MODEL_BACKOFF_S = 60.0
_model_failed_at = 0.0
RETRIEVED_FIELDS = ("document_id", "filename", "page", "start", "end", "score", "kind", "label")


@celery_app.task(name="lexledger.interactive.answer", bind=True,
                 autoretry_for=(OperationalError, RedisConnectionError), retry_backoff=1,
                 retry_backoff_max=10, retry_jitter=True, max_retries=3)
def answer(self: Task, query_id: str) -> None:
    """Answers one customer question with the support agent and stores the answer."""
    asyncio.run(answer_query(uuid.UUID(query_id)))


async def answer_query(query_id: uuid.UUID, context: AgentContext | None = None) -> None:
    """Runs the support agent for a recorded question. ``context`` overrides the model
    (tests pass one whose client talks to a scripted HTTP handler)."""
    global _model_failed_at
    settings = get_settings()
    with session_scope() as session, session.begin():
        query = start_answering(session=session, query_id=query_id)
        if query is None:
            return
        history = conversation_history(session=session, query=query,
                                       turns=settings.support.memory_turns)
        state: dict[str, Any] = {"question": query.question, "tenant_id": str(query.tenant_id),
                                 "document_ids": list(query.document_ids), "history": history}
    stream = get_answer_stream()
    base = context or AgentContext.from_settings()
    if context is None and time.monotonic() - _model_failed_at < MODEL_BACKOFF_S:
        base = AgentContext(chat=None, model=base.model)
    run_context = SupportContext(
        chat=base.chat, model=base.model,
        on_token=lambda text: stream.publish(str(query_id), "token", {"text": text}))
    try:
        graph: Any = build_graph()
        outcome = dict(await graph.ainvoke(state, context=run_context))
    except Exception as exc:  # stored and streamed as the query's failure; the worker goes on
        log.exception("query %s failed", query_id)
        outcome = {"error": f"the question could not be answered: {exc}"}
    if outcome.pop("model_unavailable", False):
        _model_failed_at = time.monotonic()
    outcome["retrieved"] = [{k: hit.get(k) for k in RETRIEVED_FIELDS}
                            for hit in outcome.pop("hits", [])]
    with session_scope() as session, session.begin():
        finish_answering(session=session, query_id=query_id, outcome=outcome)
        row = session.get(Query, query_id)
        payload = query_payload(row) if row is not None else {"id": str(query_id)}
    stream.publish(str(query_id), "error" if outcome.get("error") else "answer", payload)
