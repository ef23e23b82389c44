"""The legal agent's nodes: ``find_candidates`` runs the deterministic tools, ``choose_fields``
lets the model pick among the candidates (a pick must quote its passage; an invalid answer is
retried once, then the field keeps the tools' best candidate and says why), ``review_clauses``
builds the CUAD inventory with the clause classifier, ``judge_clauses`` lets the model judge each
category from its best passages (a quote not on its page is refused) and draws the risk flags,
and ``summarize`` asks for a cited summary, with a summary assembled from the fields when the
model is unavailable or its answer is not grounded."""

from __future__ import annotations

import json
from typing import Any

from langgraph.runtime import Runtime
from pydantic import BaseModel, Field

from agents.legal import prompts
from agents.legal.clause_judge import ClauseJudgements, apply_judgements, judge_messages
from agents.legal.clause_model import shipped_model
from agents.legal.clauses import review_clauses as clause_review
from agents.legal.clauses import risk_flags
from agents.legal.dates import find_role_dates
from agents.legal.jurisdictions import find_governing_law
from agents.legal.parties import find_all_parties
from agents.legal.state import LegalState
from agents.legal.terms import (
    find_liability_cap,
    find_notice_periods,
    find_payment_terms,
    find_renewal,
    find_termination_rights,
)
from agents.legal.tools import (
    Pages,
    find_amounts_by_kind,
    find_premises,
    find_rent,
    find_term,
    find_title,
    ranked,
)
from agents.llm import AgentContext, Answer, ask, model_unavailable
from agents.verify.grounding import Summary, quote_states, summary_check
from app.core.errors import UpstreamUnavailable

CHOOSABLE = ("title", "agreement_date", "effective_date", "expiration_date", "term",
             "governing_law", "rent", "premises", "contract_value")
SINGLE_FIELDS = ("renewal", "liability_cap", "payment_terms", "renewal_notice",
                 "termination_notice")
CONTEXT_CHARS = 100
OPTIONS_PER_FIELD = 4


class FieldChoice(BaseModel):
    field: str = Field(description="the field name, as given", max_length=40)
    candidate: int = Field(description="the chosen candidate's number n, or -1 if none is right")
    quote: str = Field(description="the words of the chosen candidate's passage that state its "
                                   "value, copied exactly", max_length=160)


class FieldChoices(BaseModel):
    choices: list[FieldChoice] = Field(max_length=len(CHOOSABLE))


async def find_candidates(state: LegalState) -> dict[str, Any]:
    """Deterministic candidates for every key field, ranked, each with page + span."""
    pages = _pages(state)
    amounts = find_amounts_by_kind(pages)
    candidates: dict[str, list[dict[str, Any]]] = {
        "title": find_title(pages), "parties": find_all_parties(pages), **find_role_dates(pages),
        "term": find_term(pages), "renewal": find_renewal(pages),
        "governing_law": find_governing_law(pages), "premises": find_premises(pages),
        "rent": find_rent(pages) if state.get("doc_type") == "lease" else [],
        "contract_value": ranked(amounts.get("contract_value", [])),
        "payment_terms": find_payment_terms(pages),
        "termination_rights": find_termination_rights(pages),
        "liability_cap": find_liability_cap(pages),
        "renewal_notice": find_notice_periods(pages, "renewal"),
        "termination_notice": find_notice_periods(pages, "termination"),
    }
    return {"legal_candidates": candidates, "legal_amounts": amounts}


async def choose_fields(state: LegalState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """The model chooses each choosable field's value among the candidates; every field
    records whether the model or the rules decided it, and why the rules did."""
    pages = dict(_pages(state))
    candidates = state["legal_candidates"]
    options = {field: [_option(c, pages) for c in candidates[field][:OPTIONS_PER_FIELD]]
               for field in CHOOSABLE if candidates.get(field)}
    picks: dict[str, int] = {}
    answer = Answer(status="disabled", model=runtime.context.model, error="nothing to choose")
    if options and model_unavailable(state.get("llm_log", [])):
        answer = Answer(status="unavailable", model=runtime.context.model,
                        error="model unavailable earlier in this run")
    elif options:
        try:
            answer = await ask(runtime.context, FieldChoices,
                               prompts.choose_messages(options),
                               check=lambda value: _choice_problem(value, options))
        except UpstreamUnavailable as exc:
            answer = Answer(status="unavailable", model=runtime.context.model, error=str(exc))
        if answer.status == "ok":
            picks = {c.field: c.candidate for c in answer.value.choices}
    fields: dict[str, Any] = {}
    for field in CHOOSABLE:
        fields[field] = _decide(field, candidates.get(field, []), picks, answer)
    for field in SINGLE_FIELDS:
        fields[field] = _decide(field, candidates.get(field, []), {}, None)
    fields["parties"] = [_record(c, "rules") for c in candidates.get("parties", [])]
    rights = candidates.get("termination_rights", [])
    fields["termination_rights"] = {
        "value": [c["value"] for c in rights], "source": "rules",
        "citations": [cite for c in rights for cite in c["citations"]]}
    fields["amounts"] = [{**_record(c, "rules"), "kind": kind}
                         for kind, items in state.get("legal_amounts", {}).items()
                         for c in items[:4]]
    return {"legal_fields": fields, "llm_log": [answer.log("legal.choose_fields")]}


async def review_clauses(state: LegalState) -> dict[str, Any]:
    """The CUAD clause inventory (the classifier's, or the rules' for other languages) and
    each category's best candidate passages."""
    fields = state["legal_fields"]
    language = state.get("language", "en")
    clauses, candidates = clause_review(_pages(state), fields, language)
    legal: dict[str, Any] = {"fields": fields, "clauses": clauses}
    model = shipped_model()
    if language == "en" and model is not None:
        legal["clause_model"] = {"trained_on": model.trained_on}
    return {"legal": legal, "clause_candidates": candidates}


async def judge_clauses(state: LegalState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """The model judges every category from its candidate passages (and may find others); a
    judgement whose quote is not on its page is refused. Then the risk flags."""
    legal = dict(state["legal"])
    pages = _pages(state)
    candidates = state.get("clause_candidates", {})
    clauses = [dict(c) for c in legal["clauses"]]
    if model_unavailable(state.get("llm_log", [])):
        answer = Answer(status="unavailable", model=runtime.context.model,
                        error="model unavailable earlier in this run")
    else:
        try:
            answer = await ask(runtime.context, ClauseJudgements, judge_messages(candidates))
        except UpstreamUnavailable as exc:
            answer = Answer(status="unavailable", model=runtime.context.model, error=str(exc))
    if answer.status == "ok":
        clauses = apply_judgements(clauses, answer.value, pages, answer.model, set(candidates))
    legal["clauses"] = clauses
    legal["risk_flags"] = risk_flags(legal["fields"], clauses, state.get("doc_type", "contract"))
    return {"legal": legal, "llm_log": [answer.log("legal.judge_clauses")]}


async def summarize(state: LegalState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """A short summary whose every sentence cites pages: the model's when it is grounded,
    otherwise one assembled from the verified-by-construction fields."""
    legal = dict(state["legal"])
    facts = legal_facts(legal["fields"])
    pages = dict(_pages(state))
    fallback = [{"text": f"{f['label']}: {f['value']}", "pages": [f["page"]]} for f in facts]
    if model_unavailable(state.get("llm_log", [])):
        answer = Answer(status="unavailable", model=runtime.context.model,
                        error="model unavailable earlier in this run")
    else:
        try:
            answer = await ask(runtime.context, Summary,
                               prompts.summary_messages(facts, state.get("language", "en")),
                               check=summary_check(pages, json.dumps(facts)))
        except UpstreamUnavailable as exc:
            answer = Answer(status="unavailable", model=runtime.context.model, error=str(exc))
    if answer.status == "ok":
        legal["summary"] = {"sentences": [s.model_dump() for s in answer.value.sentences],
                            "source": "model", "model": answer.model}
    else:
        legal["summary"] = {"sentences": fallback, "source": "rules", "model": None,
                            "fallback": answer.fallback_reason}
    return {"legal": legal, "llm_log": [answer.log("legal.summarize")]}


def legal_facts(fields: dict[str, Any]) -> list[dict[str, Any]]:
    """The extracted facts as short labelled lines with their page, for summaries."""
    facts = [{"label": p["value"]["role"], "value": p["value"]["name"],
              "page": p["citations"][0]["page"]} for p in fields.get("parties", [])]
    for field in CHOOSABLE:
        record = fields.get(field) or {}
        if record.get("value") is not None and record.get("citations"):
            facts.append({"label": field.replace("_", " "), "value": _say(record["value"]),
                          "page": record["citations"][0]["page"]})
    return facts


def _say(value: Any) -> str:
    if isinstance(value, dict) and "currency" in value:
        period = f" ({value['period']})" if value.get("period") else ""
        return f"{value['currency']} {value['amount']:,.2f}{period}"
    if isinstance(value, dict) and "unit" in value:
        return f"{value['amount']} {value['unit']}"
    return str(value)


def _pages(state: dict[str, Any] | LegalState) -> Pages:
    return [(int(number), str(text)) for number, text in state.get("pages", [])]


def _option(candidate: dict[str, Any], pages: dict[int, str]) -> dict[str, Any]:
    cite = candidate["citations"][0]
    text = pages.get(cite["page"], "")
    start = max(0, cite["start"] - CONTEXT_CHARS)
    return {"value": candidate["value"], "page": cite["page"], "text": cite["text"],
            "context": text[start:cite["end"] + CONTEXT_CHARS]}


def _choice_problem(answer: FieldChoices, options: dict[str, list[dict[str, Any]]]
                    ) -> str | None:
    problems = []
    missing = sorted(set(options) - {choice.field for choice in answer.choices})
    if missing:
        problems.append(f"no choice for {', '.join(missing)}")
    for choice in answer.choices:
        items = options.get(choice.field)
        if items is None:
            problems.append(f"unknown field {choice.field!r}")
        elif not -1 <= choice.candidate < len(items):
            problems.append(f"{choice.field}: no candidate {choice.candidate}")
        elif choice.candidate >= 0 and not quote_states(
                choice.quote, items[choice.candidate]["context"],
                items[choice.candidate]["text"]):
            problems.append(f"{choice.field}: the quote is not candidate "
                            f"{choice.candidate}'s words in its passage")
    return "; ".join(problems) or None


def _record(candidate: dict[str, Any], source: str, model: str | None = None,
            fallback: str | None = None) -> dict[str, Any]:
    record = {"value": candidate["value"],
              "citations": [dict(c) for c in candidate["citations"]],
              "source": source, "model": model, "fallback": fallback}
    if candidate.get("note"):
        record["note"] = candidate["note"]
    return record


def _decide(field: str, candidates: list[dict[str, Any]], picks: dict[str, int],
            answer: Answer | None) -> dict[str, Any]:
    if not candidates:
        return {"value": None, "citations": [], "source": "rules", "model": None,
                "fallback": None}
    alternatives = [c["value"] for c in candidates[1:4]]
    pick = picks.get(field)
    if answer is not None and answer.status == "ok" and pick is not None and pick >= 0:
        record = _record(candidates[pick], "model", model=answer.model)
        alternatives = [c["value"] for i, c in enumerate(candidates[:4]) if i != pick]
    elif answer is None:
        record = _record(candidates[0], "rules")
    else:
        reason = ("the model found none of the candidates right" if pick == -1
                  else answer.fallback_reason if answer.status != "ok"
                  else "the model did not choose this field")
        record = _record(candidates[0], "rules", fallback=reason)
    record["alternatives"] = alternatives
    return record
