"""Customer questions: recording a question with its scope and conversation, handing it to the
support agent on the ``interactive`` queue (by task name, after commit), waiting for or reading
its answer, and the conversation memory the agent reads. Always within the caller's tenant:
another tenant's documents or queries are indistinguishable from missing ones."""

from __future__ import annotations

import time
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.errors import InvalidInput, NotFound
from app.models import Document
from app.models.base import utcnow
from app.models.search import Query, QueryStatus
from app.queue import enqueue
from app.services.tenants import Caller

ANSWER_TASK = "lexledger.interactive.answer"
MAX_QUESTION_CHARS = 2000
POLL_S = 0.1


def create_query(session: Session, caller: Caller, *, question: str,
                 conversation_id: str | None = None,
                 document_ids: list[uuid.UUID] | None = None, stream: bool = False) -> Query:
    """Records a question (not yet queued). Every document in scope must be the caller's."""
    question = question.strip()
    if not question:
        raise InvalidInput("question is empty")
    if len(question) > MAX_QUESTION_CHARS:
        raise InvalidInput(f"question is longer than {MAX_QUESTION_CHARS} characters")
    scope = list(dict.fromkeys(document_ids or []))
    with session.begin():
        if scope:
            owned = set(session.scalars(select(Document.id).where(
                Document.tenant_id == caller.tenant_id, Document.id.in_(scope))))
            missing = [str(d) for d in scope if d not in owned]
            if missing:
                raise NotFound(f"document {missing[0]} not found")
        query = Query(tenant_id=caller.tenant_id, question=question,
                      conversation_id=conversation_id or str(uuid.uuid4()),
                      document_ids=[str(d) for d in scope], stream=stream,
                      status=QueryStatus.PENDING)
        session.add(query)
    return query


def dispatch(query_id: uuid.UUID) -> None:
    """Queues the support agent for a recorded question (runs it here when Celery is eager)."""
    enqueue(ANSWER_TASK, str(query_id))


def get_query(session: Session, caller: Caller, query_id: uuid.UUID) -> Query:
    with session.begin():
        query = session.scalar(select(Query).where(Query.id == query_id,
                                                   Query.tenant_id == caller.tenant_id))
        if query is None:
            raise NotFound(f"query {query_id} not found")
    return query


def wait_for_answer(session: Session, caller: Caller, query_id: uuid.UUID,
                    timeout_s: float) -> Query:
    """The query once the agent finished it, or as it stands after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        query = get_query(session, caller, query_id)
        if QueryStatus(query.status).finished or time.monotonic() >= deadline:
            return query
        session.expire_all()
        time.sleep(POLL_S)


def conversation_history(*, session: Session, query: Query, turns: int) -> list[dict[str, str]]:
    """The last ``turns`` answered questions of the query's conversation before it."""
    rows = session.scalars(select(Query).where(
        Query.tenant_id == query.tenant_id, Query.conversation_id == query.conversation_id,
        Query.status == QueryStatus.DONE, Query.id != query.id,
        Query.created_at <= query.created_at).order_by(Query.created_at.desc()).limit(turns))
    return [{"question": q.question, "answer": q.answer or ""} for q in reversed(list(rows))]


def start_answering(*, session: Session, query_id: uuid.UUID) -> Query | None:
    """Marks a query running; None when it is gone or already finished (safe to run twice)."""
    query = session.get(Query, query_id, with_for_update=True)
    if query is None or QueryStatus(query.status).finished:
        return None
    query.status = QueryStatus.RUNNING
    return query


def finish_answering(*, session: Session, query_id: uuid.UUID, outcome: dict[str, Any]) -> None:
    """Stores the agent's answer (or its failure) on the query."""
    query = session.get(Query, query_id)
    if query is None:
        return
    query.language = outcome.get("language")
    query.answer = outcome.get("answer")
    query.found = outcome.get("found")
    query.citations = outcome.get("citations", [])
    query.retrieved = outcome.get("retrieved", [])
    query.model = outcome.get("model")
    query.error = outcome.get("error")
    query.status = QueryStatus.FAILED if outcome.get("error") else QueryStatus.DONE
    query.finished_at = utcnow()


def query_payload(query: Query) -> dict[str, Any]:
    """The query as the API and the answer stream show it."""
    return {"id": str(query.id), "conversation_id": query.conversation_id,
            "question": query.question, "status": str(query.status),
            "language": query.language, "answer": query.answer, "found": query.found,
            "citations": query.citations, "model": query.model, "error": query.error,
            "document_ids": query.document_ids,
            "created_at": query.created_at.isoformat() if query.created_at else None,
            "finished_at": query.finished_at.isoformat() if query.finished_at else None}
