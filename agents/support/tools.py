"""The support agent's tools: search the tenant's documents, choose the sentence of the evidence
that answers a question, check a model's claims against the passages they cite, and turn a
chosen span into a citation verified against the stored page text."""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import select, tuple_

from agents.retrieval import ensure_indexed, retrieve
from agents.retrieval.intent import analyse_question
from agents.retrieval.text import tokenize
from agents.verify import verify_citations
from app.core.db import session_scope
from app.models import Page

# a claim is supported when this share of its terms is in the passage it cites
CLAIM_SUPPORT = 0.5
# evidence answers a question when this share of the question's terms is in it
EVIDENCE_SUPPORT = 0.5
# ... or this share, when the evidence is the clause or line item the question is about
STRUCTURED_SUPPORT = 0.45
MAX_QUOTE_CHARS = 320
_UNITS = re.compile(r"[^\n。！？!?]+(?:[.。！？!?](?=\s|$)|[。！？])?")
_MARKERS = re.compile(r"(?:\s*\[(\d{1,2})\])+")
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
_QUANTITY = re.compile(r"how (much|many|long)|\bamount\b|\bwhat (was|were|is|are) the (total|"
                       r"value)|เท่าไ|กี่|多少|いくら|何", re.IGNORECASE)


def search_documents(*, tenant_id: str, question: str, document_ids: list[str],
                     context: str = "", k: int | None = None) -> list[dict[str, Any]]:
    """Searches the tenant's documents (or only ``document_ids``) for passages that answer
    ``question``; returns page spans with document, page, character span and score."""
    tenant = uuid.UUID(tenant_id)
    scope = [uuid.UUID(d) for d in document_ids] or None
    with session_scope() as session:
        ensure_indexed(session, tenant_id=tenant, document_ids=scope)
        hits = retrieve(session, tenant_id=tenant, query=question, document_ids=scope, k=k,
                        context=context)
    return [hit.as_dict() for hit in hits]


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "").rstrip(".") for n in _NUMBER.findall(text)}


def _coverage(wanted: list[str], text_terms: set[str]) -> float:
    distinct = set(wanted)
    if not distinct:
        return 0.0
    return len(distinct & text_terms) / len(distinct)


def best_quote(question: str, hits: list[dict[str, Any]]) -> tuple[dict[str, Any], float] | None:
    """The sentence (or table line) of the evidence that best answers ``question``, as a span
    ``{document_id, filename, page, start, end, text, period}``, and how well it covers the
    question; None without evidence."""
    intent = analyse_question(question)
    asked = [t for t in tokenize(question, bigrams=False) if not t.isdigit()] or \
        [t for t in tokenize(question) if not t.isdigit()]
    wanted = asked + tokenize(intent.expansion, bigrams=False)
    # character bigrams break ties between sentences that share the same words
    fine = tokenize(question)
    quantity = bool(_QUANTITY.search(question))
    periods = set(intent.periods)
    best: tuple[float, dict[str, Any], float] | None = None
    for rank, hit in enumerate(hits[:5]):
        hit_terms = set(tokenize(hit["text"]))
        whole = _coverage(asked, hit_terms)
        structured = hit["kind"] in ("line_item", "clause", "field") and (
            intent.financial or hit.get("label") in intent.categories)
        for match in _UNITS.finditer(hit["text"]):
            unit = match.group().strip()
            if len(unit) < 3:
                continue
            offset = match.start() + (len(match.group()) - len(match.group().lstrip()))
            terms = set(tokenize(unit))
            score = _coverage(wanted, terms) + 0.3 * _coverage(fine, terms) + 0.5 * whole \
                - 0.05 * rank
            if (intent.financial or quantity) and _numbers(unit) - periods:
                score += 0.3
            if structured:
                score += 0.2
            if best is None or score > best[0]:
                quote = unit[:MAX_QUOTE_CHARS]
                best = (score, {
                    "document_id": hit["document_id"], "filename": hit["filename"],
                    "page": hit["page"], "start": hit["start"] + offset,
                    "end": hit["start"] + offset + len(quote), "text": quote,
                    "period": hit.get("period") if hit["kind"] == "line_item" else None,
                }, max(whole, _coverage(asked, terms)))
    return (best[1], best[2]) if best else None


def evidence_answers(question: str, coverage: float, hits: list[dict[str, Any]]) -> bool:
    """Whether the retrieved evidence is about the question at all (else: "not found"): a
    statement line item for a metric question, or enough of the question's words."""
    intent = analyse_question(question)
    if intent.financial and any(h["kind"] == "line_item" for h in hits[:3]):
        return True
    structured = any(h["kind"] in ("clause", "field") and h.get("label") in intent.categories
                     for h in hits[:3])
    return coverage >= (STRUCTURED_SUPPORT if structured else EVIDENCE_SUPPORT)


def split_claims(answer: str) -> list[tuple[str, list[int]]]:
    """The model's answer as (claim, cited passage numbers); text after the last marker is a
    claim without citations."""
    claims: list[tuple[str, list[int]]] = []
    position = 0
    for match in _MARKERS.finditer(answer):
        claim = answer[position:match.start()].strip()
        refs = [int(n) for n in re.findall(r"\d+", match.group())]
        if claim:
            claims.append((claim, refs))
        position = match.end()
    tail = answer[position:].strip()
    if re.search(r"\w", tail):
        claims.append((tail, []))
    return claims


def check_claim(claim: str, refs: list[int], hits: list[dict[str, Any]]
                ) -> tuple[dict[str, Any] | None, str | None]:
    """The citation supporting ``claim`` among the passages it cites, or why there is none:
    every number of the claim must be in the passage and most of its words too."""
    if not refs:
        return None, "the claim cites no passage"
    claim_terms = [t for t in tokenize(claim) if not t.replace(".", "").isdigit()]
    for ref in refs:
        if not 1 <= ref <= len(hits):
            continue
        hit = hits[ref - 1]
        if not _numbers(claim) <= _numbers(hit["text"]):
            continue
        if claim_terms and _coverage(claim_terms, set(tokenize(hit["text"]))) < CLAIM_SUPPORT:
            continue
        chosen = best_quote(claim, [hit])
        if chosen is not None:
            return {**chosen[0], "ref": ref}, None
    return None, "the cited passages do not say this"


def verify_against_pages(citations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Marks each citation ``verified`` (with ``unverified_reason`` when not) by comparing its
    span with the page text stored for that document."""
    keys = {(uuid.UUID(c["document_id"]), c["page"]) for c in citations}
    if not keys:
        return citations
    with session_scope() as session, session.begin():
        rows = session.execute(select(Page.document_id, Page.number, Page.text).where(
            tuple_(Page.document_id, Page.number).in_(list(keys)))).all()
    pages: dict[str, dict[int, str]] = {}
    for document_id, number, text in rows:
        pages.setdefault(str(document_id), {})[number] = text
    for citation in citations:
        verify_citations({"c": citation}, pages.get(citation["document_id"], {}))
    return citations
