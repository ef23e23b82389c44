"""The one place the LINE bot asks for an answer: ``answer_question`` records the user's
question as a support query in the user's LINE conversation (``line:<tenant>:<user>``, so the
support agent reads the earlier turns as its memory), runs the support agent on it, and returns
the answer with each passage reference written as "(document, p. N)"."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from agents.line.messages import format_citation
from agents.support.tasks import answer_query
from app.core.db import session_scope
from app.core.errors import LexLedgerError
from app.models.search import Query, QueryStatus
from app.services.line import line_caller
from app.services.queries import MAX_QUESTION_CHARS, create_query

REFERENCE = re.compile(r"\s*\[(\d+)\]")


@dataclass(frozen=True)
class Answer:
    text: str
    citations: list[tuple[str, int]] = field(default_factory=list)
    found: bool = True
    language: str | None = None


def conversation_id(tenant_id: uuid.UUID, user_id: str) -> str:
    return f"line:{tenant_id}:{user_id}"


async def answer_question(*, tenant_id: uuid.UUID, user_id: str, question: str) -> Answer:
    """Answers ``question`` over the tenant's documents, in the question's language, with the
    pages the answer comes from; the user's earlier questions are the agent's memory."""
    with session_scope() as session:
        query = create_query(session, line_caller(tenant_id, user_id),
                             question=question[:MAX_QUESTION_CHARS],
                             conversation_id=conversation_id(tenant_id, user_id))
    await answer_query(query.id)
    with session_scope() as session:
        row = session.get(Query, query.id)
        if row is None or row.status != QueryStatus.DONE or not row.answer:
            reason = row.error if row is not None else "the question was deleted"
            raise LexLedgerError(f"the support agent did not answer: {reason}")
        return Answer(*inline_citations(row.answer, list(row.citations or [])),
                      found=bool(row.found), language=row.language)


def inline_citations(answer: str, citations: list[dict[str, Any]]
                     ) -> tuple[str, list[tuple[str, int]]]:
    """The answer with each "[n]" written as "(document, p. N)", and the pages cited."""
    by_ref = {int(c["ref"]): c for c in citations if c.get("ref") is not None}
    cited: list[tuple[str, int]] = []

    def replace(match: re.Match[str]) -> str:
        citation = by_ref.get(int(match.group(1)))
        if citation is None:
            return ""
        pair = (str(citation["filename"]), int(citation["page"]))
        cited.append(pair)
        return " " + format_citation(*pair)

    return REFERENCE.sub(replace, answer).strip(), cited
