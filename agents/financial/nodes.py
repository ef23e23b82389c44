"""The financial agent's nodes: ``find_statements`` reads the statements and their line items,
``analyse_numbers`` computes key figures, ratios, year-over-year changes and reconciliation
checks in code, and ``summarize`` asks the model for a cited summary of those numbers, with a
summary assembled from them when the model is unavailable or not grounded."""

from __future__ import annotations

import json
from typing import Any

from langgraph.runtime import Runtime

from agents.financial import prompts
from agents.financial.checks import (
    compute_ratios,
    compute_yoy,
    reconcile_balance_sheet,
    reconcile_subtotals,
)
from agents.financial.state import FinancialState
from agents.financial.tools import company_name, find_statements, key_figures
from agents.llm import AgentContext, Answer, ask, model_unavailable
from agents.verify.grounding import Summary, summary_check
from app.core.errors import UpstreamUnavailable


def _pages(state: FinancialState) -> list[tuple[int, str]]:
    return [(int(number), str(text)) for number, text in state.get("pages", [])]


async def find_statements_node(state: FinancialState) -> dict[str, Any]:
    """The statements in the document, with their line items, units and columns."""
    return {"statements": find_statements(_pages(state))}


async def analyse_numbers(state: FinancialState) -> dict[str, Any]:
    """Key figures by meaning, ratios, year-over-year changes and reconciliation checks."""
    statements = state.get("statements", [])
    figures = key_figures(statements)
    checks = reconcile_balance_sheet(figures)
    for statement in statements:
        checks.extend(reconcile_subtotals(statement))
    figures_out = {key: {"value": f["values"][0] if f["values"] else None, "values": f["values"],
                         "label": f["label"], "statement": f["statement"], "unit": f["unit"],
                         "columns": f["columns"], "citations": f["citations"], "source": "rules"}
                   for key, f in figures.items()}
    failed = [c for c in checks if c.get("checked", True) and c["ok"] is False]
    return {"financial": {
        "company": company_name(_pages(state)),
        "statements": statements,
        "key_figures": figures_out,
        "ratios": compute_ratios(figures),
        "yoy": compute_yoy(figures),
        "reconciliation": {"checks": checks,
                           "passed": sum(1 for c in checks if c["ok"] is True),
                           "failed": len(failed),
                           "unchecked": sum(1 for c in checks if c["ok"] is None)},
    }}


def financial_facts(financial: dict[str, Any]) -> dict[str, Any]:
    """The numbers a summary may use, each with its page."""
    return {
        "company": (financial.get("company") or {}).get("value"),
        "statements": [{"kind": s["kind"], "title": s["title"], "page": s["page"],
                        "unit": s["unit"]} for s in financial["statements"]],
        "key_figures": {k: {"value": f["value"], "unit": f["unit"],
                            "page": f["citations"][0]["page"]}
                        for k, f in financial["key_figures"].items()},
        "ratios": {r["name"]: r["value"] for r in financial["ratios"]},
        "reconciliation": {k: financial["reconciliation"][k]
                           for k in ("passed", "failed", "unchecked")},
    }


def _fallback_sentences(financial: dict[str, Any]) -> list[dict[str, Any]]:
    sentences = []
    for statement in financial["statements"]:
        sentences.append({"text": f"{statement['title']} ({len(statement['items'])} line items"
                                  f"{', ' + statement['unit'] if statement['unit'] else ''})",
                          "pages": [statement["page"]]})
    for key, figure in financial["key_figures"].items():
        if figure["value"] is not None:
            sentences.append({"text": f"{key.replace('_', ' ')}: {figure['value']:,.2f}",
                              "pages": [figure["citations"][0]["page"]]})
    return sentences


async def summarize(state: FinancialState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """A cited summary of the extracted and computed numbers."""
    financial = dict(state["financial"])
    facts = financial_facts(financial)
    if not financial["statements"]:
        answer = Answer(status="disabled", model=runtime.context.model,
                        error="no statements found to summarise")
    elif model_unavailable(state.get("llm_log", [])):
        answer = Answer(status="unavailable", model=runtime.context.model,
                        error="model unavailable earlier in this run")
    else:
        try:
            answer = await ask(runtime.context, Summary,
                               prompts.summary_messages(facts, state.get("language", "en")),
                               check=summary_check(dict(_pages(state)),
                                                   json.dumps(facts)))
        except UpstreamUnavailable as exc:
            answer = Answer(status="unavailable", model=runtime.context.model, error=str(exc))
    if answer.status == "ok":
        financial["summary"] = {"sentences": [s.model_dump() for s in answer.value.sentences],
                                "source": "model", "model": answer.model}
    else:
        financial["summary"] = {"sentences": _fallback_sentences(financial), "source": "rules",
                                "model": None, "fallback": answer.fallback_reason}
    return {"financial": financial, "llm_log": [answer.log("financial.summarize")]}
