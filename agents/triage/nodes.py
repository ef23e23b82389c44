"""The triage node: the document type from the keyword rules, confirmed or corrected by the
model through a tool call that must quote the document, and the document's language."""

from __future__ import annotations

import re
from typing import Any, Literal

from langgraph.runtime import Runtime
from pydantic import BaseModel, Field

from agents.llm import AgentContext, Answer, ask, model_unavailable
from agents.triage import prompts
from agents.triage.rules import DOC_TYPES, PAGES_READ, classify_by_keywords
from agents.triage.state import TriageState
from agents.verify.grounding import quote_in
from app.core.errors import UpstreamUnavailable

DocType = Literal["contract", "lease", "nda", "financial_report", "other"]
# long enough that only text copied from the document passes
QUOTE_MIN_CHARS = 12
_SCRIPTS = {"th": re.compile(r"[\u0e00-\u0e7f]"), "ja": re.compile(r"[\u3040-\u30ff]"),
            "zh": re.compile(r"[\u4e00-\u9fff]"), "en": re.compile(r"[A-Za-z]")}


class DocumentType(BaseModel):
    """Record the document's type."""

    doc_type: DocType = Field(description="the document's type")
    quote: str = Field(description="a short quote copied exactly from the document that "
                                   "shows the type", max_length=160)


def detect_language(pages: list[tuple[int, str]]) -> str:
    """The document's main language from the scripts on its first pages (kana means
    Japanese even among many Han characters)."""
    sample = "".join(text for _, text in pages[:3])
    counts = {lang: len(pattern.findall(sample)) for lang, pattern in _SCRIPTS.items()}
    letters = sum(counts.values()) or 1
    if counts["ja"] > 20:
        return "ja"
    if counts["th"] / letters > 0.3:
        return "th"
    if counts["zh"] / letters > 0.3:
        return "zh"
    return "en"


async def triage(state: TriageState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Decides the document type and language."""
    pages = [(int(n), str(t)) for n, t in state.get("pages", [])]
    rules = classify_by_keywords(pages)
    opening = "\n".join(text for _, text in pages[:PAGES_READ])
    log = list(state.get("llm_log", []))
    if model_unavailable(log):
        answer = Answer(status="unavailable", model=runtime.context.model,
                        error="model unavailable earlier in this run")
    else:
        try:
            answer = await ask(
                runtime.context, DocumentType,
                prompts.triage_messages(opening, rules.doc_type), method="function_calling",
                check=lambda value: None if quote_in(value.quote, opening, QUOTE_MIN_CHARS)
                else f"the quote is not {QUOTE_MIN_CHARS}+ characters of the document")
        except UpstreamUnavailable as exc:
            answer = Answer(status="unavailable", model=runtime.context.model, error=str(exc))
    citations = [{"page": e.page, "start": e.start, "end": e.end, "text": e.text}
                 for e in rules.evidence]
    decision: dict[str, Any] = {"value": rules.doc_type, "source": "rules", "model": None,
                                "fallback": None, "rules_value": rules.doc_type,
                                "scores": rules.scores, "citations": citations}
    if answer.status == "ok" and answer.value.doc_type in DOC_TYPES:
        decision.update(value=answer.value.doc_type, source="model", model=answer.model,
                        model_quote=answer.value.quote)
    else:
        decision["fallback"] = answer.fallback_reason
    return {"triage": decision, "doc_type": decision["value"],
            "language": detect_language(pages),
            "llm_log": [*log, answer.log("triage")]}
