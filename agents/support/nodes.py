"""The support agent's nodes. ``compose`` asks the model for an answer citing numbered passages
(streamed token by token to whoever listens); ``verify`` keeps only the claims the cited
passages support and checks every citation against the stored page text. Without a model, or
when none of its claims holds up, the answer quotes the best evidence sentence: verified, never
invented. Without evidence the agent says so plainly."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import openai
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langgraph.runtime import Runtime

from agents.llm import AgentContext
from agents.retrieval.intent import analyse_question
from agents.retrieval.text import detect_language as script_language
from agents.support import prompts
from agents.support.state import SupportState
from agents.support.tools import (
    best_quote,
    check_claim,
    evidence_answers,
    search_documents,
    split_claims,
    statement_figure,
    verify_against_pages,
)
from app.core.errors import UpstreamUnavailable

log = logging.getLogger(__name__)

EXTRACTIVE_MODEL = "extractive"
# a short follow-up ("and the deposit?") is read with the previous question
FOLLOW_UP_TERMS = 6
MODEL_ERRORS = (UpstreamUnavailable, openai.APIError, openai.APIConnectionError, ValueError)


@dataclass
class SupportContext(AgentContext):
    """The shared agent context plus where streamed answer tokens go."""

    on_token: Callable[[str], None] | None = None


async def detect_language(state: SupportState) -> dict[str, Any]:
    """The language to answer in: the question's script (Thai, Chinese, Japanese, else
    English)."""
    return {"language": script_language(state["question"])}


async def search(state: SupportState) -> dict[str, Any]:
    """Retrieves evidence in scope; a short follow-up is searched with the previous question."""
    history = state.get("history") or []
    context = ""
    if history and len(state["question"].split()) <= FOLLOW_UP_TERMS:
        context = history[-1]["question"]
    hits = search_documents(tenant_id=state["tenant_id"], question=state["question"],
                            document_ids=state.get("document_ids") or [], context=context)
    statements = statement_figure(state["question"], hits, tenant_id=state["tenant_id"],
                                  document_ids=state.get("document_ids") or [],
                                  segment=analyse_question(state["question"]).narrower)
    if statements.rows:
        # the statement rows lead the evidence: they are the answer and its citations
        cited = {(r["document_id"], r["page"], r["start"]) for r in statements.rows}
        rest = [h for h in hits if (h["document_id"], h["page"], h["start"]) not in cited]
        return {"hits": [*statements.rows, *rest], "found": True,
                "figure": statements.rows}
    if statements.covered:
        # another period than the statements cover: said so, with the ones they do,
        # rather than quoting a page that does not answer
        return {"hits": hits, "found": False, "covered": statements.covered}
    chosen = best_quote(f"{context} {state['question']}".strip(), hits)
    found = bool(chosen) and evidence_answers(state["question"] if not context else
                                              f"{context} {state['question']}",
                                              chosen[1] if chosen else 0.0, hits)
    # without an answer, the pages that could not be read are where it may be
    return {"hits": hits, "found": found,
            "unreadable": [] if found else statements.unreadable}


def route_after_search(state: SupportState) -> Literal["compose", "not_found"]:
    """Answer when the evidence is about the question; otherwise say it is not there."""
    return "compose" if state.get("found") else "not_found"


async def not_found(state: SupportState, runtime: Runtime[SupportContext]) -> dict[str, Any]:
    """The plain "not found in your documents", in the question's language."""
    answer = prompts.NOT_FOUND.get(state["language"], prompts.NOT_FOUND["en"])
    if state.get("covered"):
        covers = prompts.COVERED.get(state["language"], prompts.COVERED["en"])
        answer += covers.format(periods="; ".join(state["covered"]))
    if state.get("unreadable"):
        unread = prompts.UNREADABLE.get(state["language"], prompts.UNREADABLE["en"])
        answer += unread.format(pages="; ".join(state["unreadable"]))
    _emit(runtime.context, answer)
    return {"answer": answer, "citations": [], "found": False, "model": EXTRACTIVE_MODEL}


async def compose(state: SupportState, runtime: Runtime[SupportContext]) -> dict[str, Any]:
    """The model's draft answer over numbered passages, streamed as it is written; no draft
    when model calls are off or the endpoint does not answer."""
    context = runtime.context
    if context.chat is None:
        return {"answer": "", "model": EXTRACTIVE_MODEL}
    draft = ""
    try:
        async for chunk in context.chat.astream(_messages(state)):
            piece = chunk.content if isinstance(chunk.content, str) else ""
            draft += piece
            _emit(context, piece)
    except MODEL_ERRORS as exc:
        log.info("support model unavailable, answering from the evidence: %s", exc)
        return {"answer": "", "model": EXTRACTIVE_MODEL, "model_unavailable": True}
    return {"answer": draft.strip(), "model": context.model}


async def verify(state: SupportState, runtime: Runtime[SupportContext]) -> dict[str, Any]:
    """Keeps the model's claims the cited passages support, with citations checked against
    the page text; falls back to quoting the evidence when nothing of the draft holds up."""
    hits = state.get("hits") or []
    draft = state.get("answer", "")
    kept: list[str] = []
    citations: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    if draft and "NOT_FOUND" not in draft:
        for claim, refs in split_claims(draft):
            citation, reason = check_claim(claim, refs, hits)
            if citation is None:
                rejected.append({"claim": claim, "reason": reason})
                continue
            verify_against_pages([citation])
            if not citation["verified"]:
                rejected.append({"claim": claim, "reason": citation.get("unverified_reason")})
                continue
            kept.append(f"{claim} [{len(citations) + 1}]")
            citations.append({**citation, "ref": len(citations) + 1})
    if kept:
        return {"answer": " ".join(kept), "citations": citations, "rejected": rejected}
    return {**_quoted_answer(state, runtime.context, streamed=bool(draft)),
            "rejected": rejected}


def _quoted_answer(state: SupportState, context: SupportContext,
                   streamed: bool) -> dict[str, Any]:
    language = state["language"]
    hits = state.get("hits") or []
    if state.get("figure"):
        return _figure_answer(state, context, streamed)
    chosen = best_quote(state["question"], hits)
    if chosen is None:
        answer = prompts.NOT_FOUND.get(language, prompts.NOT_FOUND["en"])
        return {"answer": answer, "citations": [], "found": False, "model": EXTRACTIVE_MODEL}
    quote = chosen[0]
    citation = verify_against_pages([{**quote, "ref": 1}])[0]
    template = prompts.QUOTED.get(language, prompts.QUOTED["en"])
    answer = template.format(filename=quote["filename"], page=quote["page"],
                             quote=" ".join(quote["text"].split()))
    if quote.get("period"):
        columns = prompts.COLUMNS.get(language, prompts.COLUMNS["en"])
        answer += columns.format(periods=", ".join(quote["period"].split(",")))
    answer += " [1]"
    if not streamed:
        _emit(context, answer)
    return {"answer": answer, "citations": [citation], "model": EXTRACTIVE_MODEL}


def _figure_answer(state: SupportState, context: SupportContext,
                   streamed: bool) -> dict[str, Any]:
    rows = state["figure"]
    citations = verify_against_pages([
        {k: row[k] for k in ("document_id", "filename", "page", "start", "end", "text")}
        | {"ref": n} for n, row in enumerate(rows, start=1)])
    template = prompts.FIGURE.get(state["language"], prompts.FIGURE["en"])
    answer = template.format(figure=rows[0]["figure"], filename=rows[0]["filename"],
                             page=rows[0]["page"])
    answer += " " + "".join(f"[{n}]" for n in range(1, len(rows) + 1))
    if not streamed:
        _emit(context, answer)
    return {"answer": answer, "citations": citations, "model": EXTRACTIVE_MODEL}


def _messages(state: SupportState) -> list[BaseMessage]:
    language = prompts.LANGUAGE_NAMES.get(state["language"], "English")
    messages: list[BaseMessage] = [SystemMessage(prompts.SYSTEM.format(language=language))]
    for turn in state.get("history") or []:
        messages += [HumanMessage(turn["question"]), AIMessage(turn["answer"])]
    passages = "\n".join(
        f"[{n}] ({hit['filename']}, page {hit['page']}) {' '.join(hit['text'].split())}"
        + (f" (read as: {hit['figure']})" if hit.get("figure") else "")
        for n, hit in enumerate(state.get("hits") or [], start=1))
    messages.append(HumanMessage(f"{prompts.EVIDENCE_HEADER}\n{passages}\n\n"
                                 f"Question: {state['question']}"))
    return messages


def _emit(context: SupportContext, text: str) -> None:
    if text and context.on_token is not None:
        context.on_token(text)
