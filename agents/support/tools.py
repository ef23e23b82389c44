"""The support agent's tools: search the tenant's documents, choose the sentence of the evidence
that answers a question, check a model's claims against the passages they cite, and turn a
chosen span into a citation verified against the stored page text."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, tuple_

from agents.financial.figures import Derived, Figure, Uncovered, find_figure, names_figure
from agents.financial.segments import find_segment_figure
from agents.ingest.model import GARBLED, NEEDS_OCR, OCR_NO_TEXT
from agents.retrieval import ensure_indexed, retrieve
from agents.retrieval.intent import analyse_question
from agents.retrieval.text import tokenize
from agents.verify import verify_citations
from app.core.db import session_scope
from app.models import Document, Page

# a claim is supported when this share of its terms is in the passage it cites
CLAIM_SUPPORT = 0.5
# evidence answers a question when this share of the question's terms is in it
EVIDENCE_SUPPORT = 0.5
# ... or this share, when the evidence is the clause or line item the question is about
STRUCTURED_SUPPORT = 0.45
MAX_QUOTE_CHARS = 320
# a figure question is read from the statements of this many documents of the evidence, at most
FIGURE_DOCUMENTS = 3
# pages whose text could not be read, where a statement may be (a page OCR read keeps neither
# flag; one where OCR found no print is ocr_no_text)
UNREADABLE_FLAGS = {NEEDS_OCR, GARBLED, OCR_NO_TEXT}
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


@dataclass
class StatementAnswer:
    """What the statements say to a figure question: the rows that answer it (one cell, or the
    cells a change or ratio is computed from) as hits ``{document_id, filename, page, start,
    end, text, kind: "line_item", label, period}``, the first carrying the answer sentence as
    ``figure``; else the periods the statements do cover when another one was asked, and the
    pages that could not be read where the statements may be."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    covered: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)


def statement_figure(question: str, hits: list[dict[str, Any]], *, tenant_id: str,
                     document_ids: list[str], segment: bool = False) -> StatementAnswer:
    """Reads a figure question's answer from the statements of the documents the evidence
    comes from, or of the documents in scope when there is no evidence (their pages in
    order): a segment or region it names from their segment tables, the rest from the
    statements, unless the question is about a part of the totals (``segment``) only."""
    outcome = StatementAnswer()
    if not segment and not names_figure(question):
        return outcome
    documents = list(dict.fromkeys((h["document_id"], h["filename"]) for h in hits))
    if not documents and document_ids:
        with session_scope() as session, session.begin():
            documents = [(str(i), name) for i, name in session.execute(
                select(Document.id, Document.filename).where(
                    Document.tenant_id == uuid.UUID(tenant_id),
                    Document.id.in_([uuid.UUID(d) for d in document_ids]))).all()]
    for document_id, filename in documents[:FIGURE_DOCUMENTS]:
        with session_scope() as session, session.begin():
            rows = session.execute(
                select(Page.number, Page.text, Page.flags)
                .where(Page.document_id == uuid.UUID(document_id)).order_by(Page.number)).all()
        pages = [(number, text) for number, text, _flags in rows]
        # a segment or region the question names comes before the consolidated total
        found: Figure | Derived | Uncovered | None = find_segment_figure(question, pages)
        if found is None and not segment:
            found = find_figure(question, pages)
        if isinstance(found, Uncovered):
            outcome.covered += [p for p in found.periods if p not in outcome.covered]
        elif found is not None:
            cells = found.figures if isinstance(found, Derived) else (found,)
            cited = [{"document_id": document_id, "filename": filename, "page": cell.page,
                      "start": cell.citation["start"], "end": cell.citation["end"],
                      "text": cell.citation["text"], "score": 1.0, "kind": "line_item",
                      "label": cell.label, "period": cell.period} for cell in cells]
            outcome.rows = list({(r["page"], r["start"]): r for r in cited}.values())
            outcome.rows[0]["figure"] = found.sentence()
            return outcome
        else:
            unread = [number for number, _text, flags in rows
                      if set(flags or ()) & UNREADABLE_FLAGS]
            if unread:
                outcome.unreadable.append(f"{filename} pages {page_ranges(unread)}")
    return outcome


def page_ranges(numbers: list[int]) -> str:
    """Page numbers as ranges: [1, 2, 3, 7] is "1-3, 7"."""
    spans: list[list[int]] = []
    for number in sorted(numbers):
        if spans and number == spans[-1][1] + 1:
            spans[-1][1] = number
        else:
            spans.append([number, number])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


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
