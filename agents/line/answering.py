"""The one place the LINE bot asks for an answer: ``answer_question`` takes a user's question,
their tenant, language and recent turns, and returns the answer text with its citations as
(document, page) pairs. It is the seam to the support agent; until that agent is wired in, the
answer is the passage of the tenant's documents that shares the most terms with the question,
quoted with its page, or an honest "not found in your documents"."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.line.language import Language
from app.models import Chunk, Document, DocumentStatus

MAX_CHUNKS_SCANNED = 20000
EXCERPT_CHARS = 600
LATIN_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'\-]{2,}")
THAI_RUN = re.compile(r"[\u0E00-\u0E7F]+")
STOPWORDS = frozenset(
    "the and for are was were what when where which who whom whose why how does did with "
    "this that these those from into about have has had can could should would will shall "
    "may might must our your their there here any all not but you".split())

NOT_FOUND: dict[Language, str] = {
    "en": "I could not find this in your documents.",
    "th": "ไม่พบข้อมูลนี้ในเอกสารของคุณค่ะ",
}
LEAD_IN: dict[Language, str] = {"en": "From your documents:", "th": "จากเอกสารของคุณ:"}


@dataclass(frozen=True)
class Answer:
    text: str
    citations: list[tuple[str, int]] = field(default_factory=list)
    found: bool = True


def answer_question(session: Session, *, tenant_id: uuid.UUID, question: str,
                    language: Language, conversation_id: str,
                    history: list[tuple[str, str]]) -> Answer:
    """Answers ``question`` over the tenant's finished documents in ``language``, with the
    pages the answer comes from. ``history`` holds the earlier turns (role, text), oldest
    first; ``conversation_id`` names the conversation for the agent's own memory."""
    terms = _terms(question)
    if not terms and history:
        # a follow-up with no terms of its own ("and why?") keeps to the earlier questions
        terms = _terms(" ".join(text for role, text in history if role == "user"))
    best = _best_passage(session, tenant_id, terms)
    if best is None:
        return Answer(NOT_FOUND[language], [], found=False)
    filename, page, text = best
    return Answer(f"{LEAD_IN[language]}\n\"{_excerpt(text, terms)}\"", [(filename, page)])


def _terms(text: str) -> set[str]:
    words = {_stem(w) for w in map(str.lower, LATIN_WORD.findall(text)) if w not in STOPWORDS}
    # Thai has no spaces between words: character bigrams match without a word segmenter
    bigrams = {run[i:i + 2] for run in THAI_RUN.findall(text) for i in range(len(run) - 1)}
    return words | bigrams


def _stem(word: str) -> str:
    # "governs", "governed" and "governing" meet at "govern"; "laws" at "law"
    word = word.removesuffix("'s")
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _best_passage(session: Session, tenant_id: uuid.UUID,
                  terms: set[str]) -> tuple[str, int, str] | None:
    if not terms:
        return None
    rows = session.execute(
        select(Document.filename, Chunk.page_number, Chunk.text)
        .join(Document, Document.id == Chunk.document_id)
        .where(Document.tenant_id == tenant_id, Document.status == DocumentStatus.DONE)
        .order_by(Document.created_at, Chunk.ordinal).limit(MAX_CHUNKS_SCANNED))
    best: tuple[float, str, int, str] | None = None
    for filename, page, text in rows:
        score = len(terms & _terms(text)) / len(terms)
        if score > 0 and (best is None or score > best[0]):
            best = (score, filename, page, text)
    # fewer than a third of the question's terms is a coincidence, not an answer
    if best is None or best[0] < 1 / 3:
        return None
    return best[1], best[2], best[3]


def _excerpt(text: str, terms: set[str]) -> str:
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip()]
    if not sentences:
        return text[:EXCERPT_CHARS]
    ranked = max(sentences, key=lambda s: len(terms & _terms(s)))
    return ranked[:EXCERPT_CHARS]
