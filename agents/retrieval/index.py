"""Building and keeping the search index. ``index_document(session, document_id)`` is the one
hook the pipeline calls after a document's analysis result is stored: it reads the chunks, pages
and latest result, derives the structural entries (statements, line items, clauses, fields),
embeds every entry outside any transaction, then swaps the document's old entries for the new
ones in one transaction, so a reader sees either the old index or the new one. It is safe to run
twice. ``ensure_indexed`` catches up documents that finished processing but have no entries
(processed before this index existed, or by a pipeline that skipped the hook). Deletion needs no
code: entries and postings cascade with their document.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from agents.retrieval.embeddings import get_embedder, to_bytes
from agents.retrieval.structure import (
    EntryDraft,
    clause_entries,
    result_entries,
    statement_entries,
)
from agents.retrieval.text import term_counts
from app.core.bulk import bulk_insert
from app.core.settings import get_settings
from app.models import Chunk, Document, DocumentStatus, Page, Result
from app.models.search import EntryKind, SearchEntry, SearchPosting

log = logging.getLogger(__name__)


def index_document(session: Session, document_id: uuid.UUID | str) -> int:
    """(Re)builds the search entries of one document and returns how many it has. Opens its
    own transactions (call it outside one); a document deleted meanwhile is skipped."""
    document_id = uuid.UUID(str(document_id))
    with session.begin():
        document = session.get(Document, document_id)
        if document is None:
            return 0
        tenant_id = document.tenant_id
        chunks = [(c.id, c.page_number, c.char_start, c.char_end, c.text) for c in session.scalars(
            select(Chunk).where(Chunk.document_id == document_id).order_by(Chunk.ordinal))]
        pages = {p.number: p.text for p in session.scalars(
            select(Page).where(Page.document_id == document_id))}
        result = session.scalar(select(Result.data).where(Result.document_id == document_id)
                                .order_by(Result.created_at.desc()).limit(1))

    drafts = [EntryDraft(EntryKind.CHUNK, page, start, end, text, chunk_id=chunk_id)
              for chunk_id, page, start, end, text in chunks]
    drafts += statement_entries(pages)
    drafts += clause_entries(chunks)
    drafts += result_entries(result, pages)
    drafts = [d for d in drafts if d.text.strip()]
    vectors = _embed(drafts)

    with session.begin():
        if session.get(Document, document_id) is None:
            return 0
        session.execute(delete(SearchEntry).where(SearchEntry.document_id == document_id))
        rows: list[SearchEntry] = []
        counts = []
        for draft, vector in zip(drafts, vectors, strict=True):
            terms = term_counts(draft.index_text or draft.text)
            counts.append(terms)
            rows.append(SearchEntry(
                tenant_id=tenant_id, document_id=document_id, chunk_id=draft.chunk_id,
                kind=draft.kind.value, label=draft.label, period=draft.period,
                page_number=draft.page, char_start=draft.start, char_end=draft.end,
                text=draft.text, term_count=sum(terms.values()), embedding=vector))
        session.add_all(rows)
        session.flush()
        postings = [{"entry_id": row.id, "term": term, "document_id": document_id, "tf": tf}
                    for row, terms in zip(rows, counts, strict=True)
                    for term, tf in terms.items()]
        # by COPY: a 2,000-page document has a few hundred thousand postings
        bulk_insert(session, SearchPosting, postings)
    log.info("indexed document %s: %d entries", document_id, len(rows))
    return len(rows)


def ensure_indexed(session: Session, *, tenant_id: uuid.UUID,
                   document_ids: Iterable[uuid.UUID] | None = None) -> list[uuid.UUID]:
    """Indexes the finished documents in scope that have no entries yet; returns their ids."""
    with session.begin():
        query = select(Document.id).where(
            Document.tenant_id == tenant_id, Document.status == DocumentStatus.DONE,
            ~exists().where(SearchEntry.document_id == Document.id),
            exists().where(Chunk.document_id == Document.id))
        ids = list(document_ids) if document_ids is not None else None
        if ids is not None:
            query = query.where(Document.id.in_(ids))
        missing = list(session.scalars(query))
    for document_id in missing:
        index_document(session, document_id)
    return missing


def _embed(drafts: list[EntryDraft]) -> list[bytes]:
    embedder = get_embedder(get_settings().retrieval.embedder)
    texts = [_embedding_text(d) for d in drafts]
    # a clause entry spans the same text as its chunk: embed each distinct text once
    unique = list(dict.fromkeys(texts))
    vectors = dict(zip(unique, (to_bytes(v) for v in embedder.embed(unique)), strict=True))
    return [vectors[t] for t in texts]


def _embedding_text(draft: EntryDraft) -> str:
    if draft.kind in (EntryKind.LINE_ITEM, EntryKind.STATEMENT) and draft.label:
        return f"{draft.label.replace('_', ' ')}: {draft.index_text or draft.text}"[:2000]
    return draft.text[:2000]
