"""The supervisor graph with the model faked at the HTTP boundary: the real ChatOpenAI client
sends JSON-schema and forced tool-call requests to a scripted handler. The model's valid choices
win and are attributed to it; an invalid answer is retried once with the reason; after a second
invalid answer, or with no endpoint at all, every field keeps the deterministic value and says
why; summaries must cite pages that support them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from agents.llm import AgentContext, chat_model
from app.core.settings import LLMSettings
from app.samples import SAMPLE_FACTS
from tests.agents_support import (
    MODEL_NAME,
    Script,
    analyse,
    confirm_type,
    judge_nothing,
    misquote,
    no_model,
    pages_of,
    pick,
    scripted,
    summarise_facts,
)


@pytest.fixture(scope="module")
def contract(samples_dir: Path) -> tuple[tuple[int, str], ...]:
    return pages_of(samples_dir / "services-agreement.pdf")


def fields(state: dict[str, Any]) -> dict[str, Any]:
    return state["legal"]["fields"]


def test_model_choices_win_and_are_attributed_to_the_model(contract):
    script = Script({"DocumentType": [confirm_type],
                     "FieldChoices": [pick({"term": lambda v: v == {"amount": 12,
                                                                   "unit": "months"}})],
                     "ClauseJudgements": [judge_nothing], "Summary": [summarise_facts]})
    state = analyse(contract, scripted(script))
    assert script.steps() == ["DocumentType", "FieldChoices", "ClauseJudgements", "Summary"]
    triage = state["triage"]
    assert (triage["value"], triage["source"], triage["model"]) == ("contract", "model",
                                                                    MODEL_NAME)
    term = fields(state)["term"]
    assert (term["value"], term["source"], term["model"]) == (
        {"amount": 12, "unit": "months"}, "model", MODEL_NAME)
    assert {"amount": 36, "unit": "months"} in term["alternatives"]  # the rules' pick is kept
    title = fields(state)["title"]
    assert title["source"] == "model" and title["value"] == SAMPLE_FACTS[
        "services-agreement.pdf"]["title"]
    summary = state["legal"]["summary"]
    assert summary["source"] == "model" and summary["model"] == MODEL_NAME
    assert all(s["pages"] for s in summary["sentences"])
    assert [c["status"] for c in state["llm_log"]] == ["ok", "ok", "ok", "ok"]


def test_an_invalid_answer_is_sent_back_once_with_the_reason(contract):
    script = Script({"DocumentType": [confirm_type],
                     "FieldChoices": [misquote, pick({})], "Summary": [summarise_facts]})
    state = analyse(contract, scripted(script))
    assert script.steps().count("FieldChoices") == 2
    retry = [r for r in script.requests if r.get("response_format", {}).get(
        "json_schema", {}).get("name") == "FieldChoices"][1]
    assert "the quote is not candidate" in retry["messages"][-1]["content"]
    choose = next(c for c in state["llm_log"] if c["step"] == "legal.choose_fields")
    assert (choose["status"], choose["attempts"]) == ("ok", 2)
    assert fields(state)["effective_date"]["source"] == "model"


def test_two_invalid_answers_leave_the_deterministic_values_marked(contract):
    script = Script({"DocumentType": [lambda _: {"doc_type": "lease", "quote": "not there"}],
                     "FieldChoices": [misquote], "Summary": [lambda _: "not json at all"]})
    state = analyse(contract, scripted(script))
    assert script.steps().count("DocumentType") == 2
    assert script.steps().count("FieldChoices") == 2 and script.steps().count("Summary") == 2
    assert (state["triage"]["value"], state["triage"]["source"]) == ("contract", "rules")
    facts = SAMPLE_FACTS["services-agreement.pdf"]
    for name in ("agreement_date", "effective_date", "expiration_date"):
        record = fields(state)[name]
        assert (record["value"], record["source"]) == (facts[name], "rules")
        assert record["fallback"].startswith("model answer invalid after 2 attempts")
    assert state["legal"]["summary"]["source"] == "rules"
    assert "does not match the schema" in state["legal"]["summary"]["fallback"]
    assert {c["status"] for c in state["llm_log"]} == {"invalid"}


def test_no_model_endpoint_is_asked_once_and_the_graph_finishes(contract):
    attempts: list[str] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        attempts.append(request.url.path)
        raise httpx.ConnectError("connection refused", request=request)

    client = httpx.AsyncClient(transport=httpx.MockTransport(refuse))
    context = AgentContext(chat=chat_model(settings=LLMSettings(max_retries=0),
                                           http_async_client=client), model="deepseek-v3")
    state = analyse(contract, context)
    assert attempts == ["/v1/chat/completions"]  # later steps do not wait on it again
    assert [c["status"] for c in state["llm_log"]] == ["unavailable"] * 4
    assert fields(state)["governing_law"]["value"] == "New York"
    assert fields(state)["governing_law"]["fallback"] == "model unavailable"
    assert state["verification"]["all_verified"] is True


def test_connection_refused_by_a_real_socket_is_unavailable_not_a_crash(contract):
    state = analyse(contract, no_model())
    assert state["llm_log"][0]["status"] == "unavailable"
    assert "unavailable" in state["llm_log"][0]["error"]
    assert state["legal"]["clauses"] and state["legal"]["summary"]["source"] == "rules"


def test_triage_tool_call_can_correct_the_type_with_a_quote(contract):
    script = Script({"DocumentType": [lambda _: {"doc_type": "nda",
                                                 "quote": "MASTER SERVICES AND SUPPLY"}],
                     "FieldChoices": [pick({})], "Summary": [summarise_facts]})
    state = analyse(contract, scripted(script))
    request = script.requests[0]
    assert request["tool_choice"]["function"]["name"] == "DocumentType"
    assert (state["triage"]["value"], state["triage"]["rules_value"]) == ("nda", "contract")
    assert state["doc_type"] == "nda" and state["legal"] is not None


def test_financial_summary_must_cite_supporting_pages(samples_dir: Path):
    pages = pages_of(samples_dir / "financial-statement.pdf")
    grounded = analyse(pages, scripted(Script({"DocumentType": [confirm_type],
                                               "Summary": [summarise_facts]})))
    summary = grounded["financial"]["summary"]
    assert summary["source"] == "model"
    assert summary["sentences"][0]["text"].startswith("total_current_assets 60,000")
    invented = {"sentences": [{"text": "Revenue grew to 999,999 thousand.", "pages": [2]}]}
    wrong = analyse(pages, scripted(Script({"DocumentType": [confirm_type],
                                            "Summary": [lambda _: invented]})))
    summary = wrong["financial"]["summary"]
    assert summary["source"] == "rules"
    assert "figures ['999999'] are not on pages [2]" in summary["fallback"]
    assert any("total assets: 113,200.00" in s["text"] for s in summary["sentences"])


def test_a_document_of_no_known_type_goes_straight_to_verification():
    pages = [(1, "Minutes of the staff picnic. We ate sandwiches by the river."), (2, "")]
    script = Script({"DocumentType": [lambda _: {"doc_type": "other",
                                                 "quote": "Minutes of the staff picnic"}]})
    state = analyse(pages, scripted(script))
    assert script.steps() == ["DocumentType"]
    assert (state["doc_type"], state["triage"]["source"]) == ("other", "model")
    assert state.get("legal") is None and state.get("financial") is None
    assert state["verification"]["all_verified"] is True
