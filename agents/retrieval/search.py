"""Hybrid, structure-aware retrieval over the index. Three rankings are fused by reciprocal
rank: BM25 over the postings (computed in SQL-fetched counts, scoped to the documents asked
about), cosine similarity of the query embedding to every entry in scope (numpy; Postgres here
has no pgvector), and a structural ranking of the entries the question's intent points at:
statement line items of the metric and period asked about, the clause categories a contract
question names. Structure leads; plain similarity is the fallback. Results carry document, page,
character span, score and what kind of entry produced them, one per page span.
"""

from __future__ import annotations

import math
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agents.retrieval.embeddings import from_bytes, get_embedder
from agents.retrieval.intent import Intent, analyse_question
from agents.retrieval.structure import STATEMENTS
from agents.retrieval.text import tokenize
from app.core.settings import get_settings
from app.models import Document
from app.models.search import EntryKind, SearchEntry, SearchPosting

RRF_K = 60
STATEMENT_NAMES = set(STATEMENTS)
BM25_K1 = 1.2
BM25_B = 0.75
# structure comes first: its ranking counts more than each similarity ranking
STRUCTURE_WEIGHT = 1.5
# how deep in each similarity ranking a structural entry may be and still take part
STRUCTURE_DEPTH = 20
# the statement that reports the metric asked about leads: its best-placed entries (the
# statement's pages, not every table that mentions the metric) count twice as much
LEAD_STRENGTH = 2.0
LEAD_ENTRIES = 2
# a clause category on more than this share of a document's chunks counts for less
CATEGORY_SHARE = 0.15
# terms in more than this share of the entries in scope rank nothing; they only cost time
MAX_TERM_SHARE = 0.6


@dataclass(frozen=True)
class Hit:
    """One retrieved span of a page."""

    document_id: str
    filename: str
    page: int
    start: int
    end: int
    text: str
    score: float
    kind: str
    label: str | None
    period: str | None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class _Entry:
    id: int
    document_id: uuid.UUID
    kind: str
    label: str | None
    period: str | None
    page: int
    start: int
    end: int
    term_count: int


def retrieve(session: Session, *, tenant_id: uuid.UUID, query: str,
             document_ids: Iterable[uuid.UUID] | None = None, k: int | None = None,
             context: str = "") -> list[Hit]:
    """The ``k`` best page spans for ``query`` in the tenant's documents (or only in
    ``document_ids``). ``context`` (an earlier question of the conversation) adds lexical terms
    at lower weight. Runs in its own read transaction."""
    settings = get_settings().retrieval
    k = k or settings.top_k
    intent = analyse_question(query)
    scope = [uuid.UUID(str(d)) for d in document_ids] if document_ids else None
    with session.begin():
        entries = _entries_in_scope(session, tenant_id, scope)
        if not entries:
            return []
        lexical = _bm25(session, entries, scope, tenant_id,
                        _weighted_terms(query, intent, context), settings.candidates)
        dense = _dense(session, entries, query, settings.candidates)
        structural = _structural(entries, intent, lexical, dense)
        fused: dict[int, float] = defaultdict(float)
        for ranking in (lexical, dense):
            for rank, entry_id in enumerate(ranking):
                fused[entry_id] += 1.0 / (RRF_K + rank + 1)
        for rank, (entry_id, strength) in enumerate(structural):
            fused[entry_id] += STRUCTURE_WEIGHT * strength / (RRF_K + rank + 1)
        coverage = _document_coverage(session, entries, query)
        if coverage:
            for entry_id in fused:
                fused[entry_id] *= 0.5 + coverage.get(entries[entry_id].document_id, 0.0)
        ordered = sorted(fused, key=lambda i: -fused[i])
        return _hits(session, entries, ordered, fused, k)


def _entries_in_scope(session: Session, tenant_id: uuid.UUID,
                      scope: list[uuid.UUID] | None) -> dict[int, _Entry]:
    query = select(SearchEntry.id, SearchEntry.document_id, SearchEntry.kind, SearchEntry.label,
                   SearchEntry.period, SearchEntry.page_number, SearchEntry.char_start,
                   SearchEntry.char_end, SearchEntry.term_count).where(
        SearchEntry.tenant_id == tenant_id)
    if scope is not None:
        query = query.where(SearchEntry.document_id.in_(scope))
    return {row.id: _Entry(*row) for row in session.execute(query)}


def _weighted_terms(query: str, intent: Intent, context: str) -> dict[str, float]:
    weights: dict[str, float] = defaultdict(float)
    for term in tokenize(query):
        weights[term] += 1.0
    for term in tokenize(intent.expansion):
        weights[term] = max(weights[term], 0.5)
    for term in tokenize(context):
        weights[term] = max(weights[term], 0.3)
    return dict(weights)


def _bm25(session: Session, entries: dict[int, _Entry], scope: list[uuid.UUID] | None,
          tenant_id: uuid.UUID, terms: dict[str, float], limit: int) -> list[int]:
    if not terms:
        return []
    total = len(entries)
    average = sum(e.term_count for e in entries.values()) / total or 1.0
    documents = scope if scope is not None else list({e.document_id for e in entries.values()})
    frequencies = dict(session.execute(
        select(SearchPosting.term, func.count()).where(
            SearchPosting.term.in_(list(terms)), SearchPosting.document_id.in_(documents))
        .group_by(SearchPosting.term)).all())
    useful = [t for t, df in frequencies.items() if df <= max(1, MAX_TERM_SHARE * total)]
    if not useful:
        # every term is everywhere: rank by them anyway rather than return nothing
        useful = list(frequencies)
    scores: dict[int, float] = defaultdict(float)
    rows = session.execute(select(SearchPosting.entry_id, SearchPosting.term, SearchPosting.tf)
                           .where(SearchPosting.term.in_(useful),
                                  SearchPosting.document_id.in_(documents)))
    for entry_id, term, tf in rows:
        entry = entries.get(entry_id)
        if entry is None:
            continue
        df = frequencies[term]
        idf = math.log(1 + (total - df + 0.5) / (df + 0.5))
        norm = tf * (BM25_K1 + 1) / (tf + BM25_K1 * (1 - BM25_B + BM25_B *
                                                     entry.term_count / average))
        scores[entry_id] += terms[term] * idf * norm
    return sorted(scores, key=lambda i: -scores[i])[:limit]


def _document_coverage(session: Session, entries: dict[int, _Entry],
                       query: str) -> dict[uuid.UUID, float]:
    """How much of the question's distinctive vocabulary each document contains (idf-weighted,
    0..1): "the Emeryville lease" points at the one document that mentions Emeryville. Empty
    when only one document is in scope."""
    documents = {e.document_id for e in entries.values()}
    terms = set(tokenize(query))
    if len(documents) < 2 or not terms:
        return {}
    rows = session.execute(select(SearchPosting.term, SearchPosting.document_id).where(
        SearchPosting.term.in_(terms), SearchPosting.document_id.in_(documents)).distinct()).all()
    holders: dict[str, set[uuid.UUID]] = defaultdict(set)
    for term, document_id in rows:
        holders[term].add(document_id)
    weights = {t: math.log(1 + len(documents) / (1 + len(holders.get(t, ())))) for t in terms}
    total = sum(weights.values()) or 1.0
    return {d: sum(w for t, w in weights.items() if d in holders.get(t, ())) / total
            for d in documents}


def _dense(session: Session, entries: dict[int, _Entry], query: str, limit: int) -> list[int]:
    ids = list(entries)
    rows = session.execute(select(SearchEntry.id, SearchEntry.embedding)
                           .where(SearchEntry.id.in_(ids), SearchEntry.embedding.is_not(None)))
    blobs = {entry_id: blob for entry_id, blob in rows if blob is not None}
    if not blobs:
        return []
    keys = list(blobs)
    matrix = from_bytes([blobs[i] for i in keys])
    vector = get_embedder(get_settings().retrieval.embedder).embed([query])[0]
    similarity = matrix @ vector
    order = np.argsort(-similarity)[:limit]
    return [keys[i] for i in order]


def _structural(entries: dict[int, _Entry], intent: Intent, lexical: list[int],
                dense: list[int]) -> list[tuple[int, float]]:
    """Entries the question's intent points at, ordered by how the similarity rankings placed
    them, each with how strongly it fits (at most 1)."""
    wanted_periods = set(intent.periods)
    wanted_statements = intent.statements
    wanted_labels = [_label_key(c) for c in intent.categories]
    # a category that labels much of a document says little about where in it the answer is
    spread: dict[tuple[uuid.UUID, str], int] = defaultdict(int)
    chunks: dict[uuid.UUID, int] = defaultdict(int)
    for entry in entries.values():
        if entry.kind == EntryKind.CHUNK:
            chunks[entry.document_id] += 1
        elif entry.label:
            spread[(entry.document_id, _label_key(entry.label))] += 1
    preferred: dict[int, float] = {}
    for entry in entries.values():
        score = 0.0
        if intent.financial and entry.kind in (EntryKind.LINE_ITEM, EntryKind.STATEMENT):
            # the line item answers; its statement section is context
            score += 1.0 if entry.kind == EntryKind.LINE_ITEM else 0.6
            if wanted_periods and entry.period and wanted_periods & set(entry.period.split(",")):
                score += 0.5
            if wanted_statements and entry.label in STATEMENT_NAMES:
                # the statement that reports the metric, not a table that mentions it
                score *= 1.5 if entry.label in wanted_statements else 0.5
        label = _label_key(entry.label or "")
        if wanted_labels and entry.kind in (EntryKind.CLAUSE, EntryKind.FIELD) \
                and label in wanted_labels:
            share = spread[(entry.document_id, label)] / max(1, chunks[entry.document_id])
            score += (1.0 + 0.1 * (len(wanted_labels) - wanted_labels.index(label))) \
                * min(1.0, CATEGORY_SHARE / max(share, 1e-9))
        if score:
            preferred[entry.id] = score
    if not preferred:
        return []
    rank = {entry_id: position for position, entry_id in enumerate(lexical[:STRUCTURE_DEPTH])}
    dense_rank = {entry_id: position for position, entry_id in enumerate(dense[:STRUCTURE_DEPTH])}
    missing = 2 * STRUCTURE_DEPTH

    def order(entry_id: int) -> float:
        # mostly the better of the two similarity ranks (dense similarity is weak outside
        # English, lexical similarity misses paraphrases), shortened by how well the entry fits
        ranks = (rank.get(entry_id, missing), dense_rank.get(entry_id, missing))
        return (min(ranks) + 0.25 * max(ranks) + 1) / preferred[entry_id]

    # a structural entry that neither similarity ranking places near the top is off-topic,
    # unless it is the statement that reports the metric asked about: the question routes there
    related = [i for i in preferred if i in rank or i in dense_rank or (
        entries[i].kind == EntryKind.STATEMENT and entries[i].label in wanted_statements)]
    ordered = sorted(related, key=order)
    leading = [i for i in ordered if entries[i].label in wanted_statements][:LEAD_ENTRIES]
    return [(i, LEAD_STRENGTH if i in leading else min(1.0, preferred[i])) for i in ordered]


def _label_key(label: str) -> str:
    # "Governing Law", "governing_law" and "Notice Period to Terminate Renewal" in any casing
    return label.replace("_", " ").casefold()


def _hits(session: Session, entries: dict[int, _Entry], ordered: list[int],
          fused: dict[int, float], k: int) -> list[Hit]:
    """The top ``k`` entries, one per page span: an entry inside a better one's span is a
    repeat of it."""
    chosen: list[_Entry] = []
    for entry_id in ordered:
        entry = entries[entry_id]
        if any(c.document_id == entry.document_id and c.page == entry.page
               and c.start <= entry.start and entry.end <= c.end for c in chosen):
            continue
        chosen.append(entry)
        if len(chosen) >= k:
            break
    if not chosen:
        return []
    texts = dict(session.execute(select(SearchEntry.id, SearchEntry.text)
                                 .where(SearchEntry.id.in_([c.id for c in chosen]))).all())
    names = dict(session.execute(select(Document.id, Document.filename).where(
        Document.id.in_({c.document_id for c in chosen}))).all())
    return [Hit(document_id=str(c.document_id), filename=names.get(c.document_id, ""),
                page=c.page, start=c.start, end=c.end, text=texts[c.id],
                score=round(fused[c.id], 6), kind=c.kind, label=c.label, period=c.period)
            for c in chosen]


def timed_retrieve(session: Session, **kwargs: object) -> tuple[list[Hit], float]:
    """``retrieve`` and how many milliseconds it took (for the benchmark and the eval)."""
    started = time.perf_counter()
    hits = retrieve(session, **kwargs)  # type: ignore[arg-type]
    return hits, (time.perf_counter() - started) * 1000
