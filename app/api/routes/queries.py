"""``/v1/queries``: ask a question about the tenant's documents (one document, a set, or the
whole library) and get the answer with verified page citations; ``stream: true`` relays the
answer's tokens as server-sent events (``token`` events, then one ``answer`` event with the
verified answer and citations, or ``error``). A question is part of a conversation: send the
``conversation_id`` of an earlier answer to ask a follow-up."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Response, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from app.api.deps import CallerDep, SessionDep
from app.core.settings import get_settings
from app.models.search import QueryStatus
from app.services import queries as service
from app.streams import get_answer_stream

router = APIRouter(prefix="/v1/queries", tags=["queries"])


class QueryIn(BaseModel):
    question: str = Field(min_length=1, max_length=service.MAX_QUESTION_CHARS)
    conversation_id: str | None = Field(default=None, max_length=200)
    document_ids: list[uuid.UUID] = Field(default_factory=list, max_length=200)
    stream: bool = False


class Citation(BaseModel):
    ref: int
    document_id: str
    filename: str
    page: int
    start: int
    end: int
    text: str
    verified: bool


class QueryOut(BaseModel):
    id: uuid.UUID
    conversation_id: str
    question: str
    status: str
    language: str | None
    answer: str | None
    found: bool | None
    citations: list[Citation]
    model: str | None
    error: str | None
    document_ids: list[str]
    created_at: datetime | None
    finished_at: datetime | None


@router.post("", response_model=QueryOut, responses={
    200: {"content": {"text/event-stream": {}},
          "description": "the answer; with `stream: true`, as server-sent events"},
    202: {"model": QueryOut}})
async def ask(body: QueryIn, session: SessionDep, caller: CallerDep,
              response: Response) -> Any:
    """Answers a question with citations. Without ``stream`` the reply waits for the answer
    (202 with the query's status when it takes longer than the configured wait)."""
    query = await run_in_threadpool(
        service.create_query, session, caller, question=body.question,
        conversation_id=body.conversation_id, document_ids=body.document_ids,
        stream=body.stream)
    if body.stream:
        return StreamingResponse(_sse(query.id), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache",
                                          "X-Query-Id": str(query.id)})
    await run_in_threadpool(service.dispatch, query.id)
    done = await run_in_threadpool(service.wait_for_answer, session, caller, query.id,
                                   get_settings().support.answer_wait_s)
    if not QueryStatus(done.status).finished:
        response.status_code = status.HTTP_202_ACCEPTED
    return service.query_payload(done)


@router.get("/{query_id}", response_model=QueryOut)
def get_query(session: SessionDep, caller: CallerDep, query_id: uuid.UUID) -> Any:
    """A question with its answer and citations, or its status while it is being answered."""
    return service.query_payload(service.get_query(session, caller, query_id))


async def _sse(query_id: uuid.UUID) -> AsyncIterator[str]:
    # dispatching runs the agent right here when Celery is eager: in a thread, so the tokens
    # it publishes are relayed while it is still writing
    worker = asyncio.ensure_future(run_in_threadpool(service.dispatch, query_id))
    try:
        timeout = get_settings().support.answer_wait_s
        async for event, data in get_answer_stream().events(str(query_id), timeout_s=timeout):
            yield f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
    finally:
        await worker
