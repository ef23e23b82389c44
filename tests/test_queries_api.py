"""``POST /v1/queries`` end to end on the embedded defaults (Celery eager, in-process answer
stream) and PostgreSQL: uploaded samples are processed, indexed on demand and asked about in
English and Thai. No model answers here (the configured endpoint is closed), so answers quote
the evidence; the model path runs against a scripted OpenAI-compatible HTTP handler."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from agents.llm import AgentContext, chat_model
from agents.support.tasks import answer_query
from app.core.db import session_scope
from app.core.settings import get_settings
from app.services.queries import create_query
from app.services.tenants import Caller
from tests.conftest import make_key


@pytest.fixture(scope="module")
def api(database: str, samples_dir: Path) -> Iterator[tuple[object, dict[str, str], str, str]]:
    """One API client for the module (the answers below read the same two documents), on
    empty tables, with the hashing embedder (the packaged MiniLM model is exercised by the
    retrieval tests; here speed matters more)."""
    from fastapi.testclient import TestClient
    from sqlalchemy import text

    from app.api.main import app
    from app.core.db import get_engine
    from tests.conftest import TABLES_IN_DELETE_ORDER

    with get_engine().begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(TABLES_IN_DELETE_ORDER)} CASCADE"))
    settings = get_settings().retrieval
    saved, settings.embedder = settings.embedder, "hashing"
    with TestClient(app) as client:
        auth = {"Authorization": f"Bearer {make_key('acme')}"}
        contract = upload(client, auth, samples_dir / "services-agreement.pdf")
        lease = upload(client, auth, samples_dir / "thai-lease.pdf")
        yield client, auth, contract, lease
    settings.embedder = saved


def upload(client, auth: dict[str, str], path: Path) -> str:
    with path.open("rb") as stream:
        response = client.post("/v1/documents", headers=auth,
                               files=[("files", (path.name, stream, "application/pdf"))])
    assert response.status_code == 202, response.text
    return response.json()["documents"][0]["id"]


@pytest.fixture
def client(api):
    return api[0]


@pytest.fixture
def auth(api):
    return api[1]


@pytest.fixture
def contract(api) -> str:
    return api[2]


@pytest.fixture
def lease(api) -> str:
    return api[3]


def ask(client, auth, question: str, **extra: object) -> dict:
    response = client.post("/v1/queries", headers=auth, json={"question": question, **extra})
    assert response.status_code == 200, response.text
    return response.json()


def page_text(client, auth, citation: dict) -> str:
    response = client.get(f"/v1/documents/{citation['document_id']}/pages/{citation['page']}",
                          headers=auth)
    return response.json()["text"]


def test_english_question_gets_an_answer_citing_the_right_page(client, auth, contract,
                                                               lease) -> None:
    body = ask(client, auth, "How many days of notice are needed to prevent automatic renewal?")
    assert body["status"] == "done" and body["found"] is True and body["language"] == "en"
    citation = body["citations"][0]
    assert citation["filename"] == "services-agreement.pdf" and citation["page"] == 1
    assert citation["verified"] is True
    assert page_text(client, auth, citation)[citation["start"]:citation["end"]] == \
        citation["text"]
    assert "ninety (90) days" in body["answer"]


def test_thai_question_gets_a_thai_answer_from_the_thai_lease(client, auth, contract,
                                                              lease) -> None:
    body = ask(client, auth, "ค่าเช่าเดือนละเท่าไหร่")
    assert body["language"] == "th" and body["found"] is True
    assert body["answer"].startswith("ตามเอกสาร thai-lease.pdf")
    assert "35,000" in body["answer"]
    assert all(c["verified"] for c in body["citations"])
    assert body["citations"][0]["document_id"] == lease


def test_missing_evidence_is_said_plainly(client, auth, contract, lease) -> None:
    body = ask(client, auth, "What is the penalty for late delivery of bananas to Mars?")
    assert body["found"] is False and body["citations"] == []
    assert body["answer"] == "I could not find this in your documents."
    thai = ask(client, auth, "บริษัทมีนโยบายเลี้ยงแมวในสำนักงานอย่างไร")
    assert thai["found"] is False and thai["answer"] == "ไม่พบข้อมูลนี้ในเอกสารของคุณ"


def test_scope_and_tenant_are_enforced(client, auth, contract, lease, samples_dir) -> None:
    body = ask(client, auth, "What is the governing law?", document_ids=[lease])
    assert {c["document_id"] for c in body["citations"]} <= {lease}
    other = {"Authorization": f"Bearer {make_key('globex')}"}
    response = client.post("/v1/queries", headers=other,
                           json={"question": "rent?", "document_ids": [contract]})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert client.get(f"/v1/queries/{body['id']}", headers=other).status_code == 404
    assert client.get(f"/v1/queries/{body['id']}", headers=auth).json()["answer"] == \
        body["answer"]


def test_follow_up_question_uses_the_conversation(client, auth, contract, lease) -> None:
    first = ask(client, auth, "What is the monthly subscription fee in the services agreement?")
    assert "48,500.00" in first["answer"]
    follow = ask(client, auth, "And the implementation fee?",
                 conversation_id=first["conversation_id"])
    assert follow["conversation_id"] == first["conversation_id"]
    assert "120,000.00" in follow["answer"]
    assert follow["citations"][0]["filename"] == "services-agreement.pdf"


def test_deleted_document_is_no_longer_cited(client, samples_dir) -> None:
    auth = {"Authorization": f"Bearer {make_key('initech')}"}
    contract = upload(client, auth, samples_dir / "services-agreement.pdf")
    upload(client, auth, samples_dir / "thai-lease.pdf")
    question = "How many days of notice are needed to prevent automatic renewal?"
    assert ask(client, auth, question)["citations"][0]["document_id"] == contract
    assert client.delete(f"/v1/documents/{contract}", headers=auth).status_code == 204
    body = ask(client, auth, question)
    assert contract not in {c["document_id"] for c in body["citations"]}
    assert body["found"] is False


def test_stream_relays_tokens_then_the_verified_answer(client, auth, contract, lease) -> None:
    events: list[tuple[str, dict]] = []
    with client.stream("POST", "/v1/queries", headers=auth,
                       json={"question": "Which law governs the agreement?",
                             "stream": True}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        event = None
        for line in response.iter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                events.append((event or "", json.loads(line[6:])))
    names = [name for name, _ in events]
    assert names[-1] == "answer" and "token" in names
    streamed = "".join(data["text"] for name, data in events if name == "token")
    final = events[-1][1]
    assert streamed == final["answer"]
    assert "New York" in final["answer"] and final["citations"][0]["verified"]


def scripted_model(reply_for: callable) -> AgentContext:
    """A chat model whose HTTP endpoint is a handler writing ``reply_for(prompt)`` as an
    OpenAI-style token stream."""

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        prompt = body["messages"][-1]["content"]
        words = re.findall(r"\S+\s*", reply_for(prompt))
        chunks = [{"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "m",
                   "choices": [{"index": 0, "delta": {"role": "assistant", "content": w},
                                "finish_reason": None}]} for w in words]
        chunks.append({"id": "c1", "object": "chat.completion.chunk", "created": 0,
                       "model": "m", "choices": [{"index": 0, "delta": {},
                                                  "finish_reason": "stop"}]})
        stream = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
        return httpx.Response(200, text=stream, headers={"content-type": "text/event-stream"})

    settings = get_settings().llm.model_copy(update={"base_url": "http://model.test/v1",
                                                     "max_retries": 0})
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return AgentContext(chat=chat_model(settings=settings, http_async_client=client),
                        model="scripted-model")


def test_model_claims_are_kept_only_when_the_cited_page_supports_them(client, auth, contract,
                                                                      lease) -> None:
    def reply(prompt: str) -> str:
        fee = next(m.group(1) for m in re.finditer(r"\[(\d+)\] \(([^)]*)\) (.*)", prompt)
                   if "48,500.00" in m.group(3))
        return (f"The monthly subscription fee is USD 48,500.00 [{fee}]. "
                f"The Provider must also pay a USD 9,999,999 bonus on Mars [{fee}].")

    with session_scope() as session:
        from app.services.tenants import authenticate

        caller: Caller = authenticate(session, auth["Authorization"][7:])
        query = create_query(session, caller, question="What is the monthly fee?",
                             document_ids=[uuid.UUID(contract)])
    asyncio.run(answer_query(query.id, context=scripted_model(reply)))
    body = client.get(f"/v1/queries/{query.id}", headers=auth).json()
    assert body["model"] == "scripted-model"
    assert body["answer"] == "The monthly subscription fee is USD 48,500.00 [1]"
    assert "Mars" not in body["answer"]
    citation = body["citations"][0]
    assert citation["verified"] and "48,500.00" in citation["text"] and citation["page"] == 1


def test_a_statement_figure_is_answered_from_its_cell_with_period_and_page(client, auth,
                                                                          tmp_path) -> None:
    from tests import pdf_factory
    from tests.test_financial_figures import CASH_FLOWS

    report = upload(client, auth,
                    pdf_factory.write_column_table(tmp_path / "cash-flows.pdf", *CASH_FLOWS))
    body = ask(client, auth, "How much did we spend on capital expenditure in fiscal 2014?",
               document_ids=[report])
    assert body["found"] is True and body["model"] == "extractive"
    assert body["answer"].startswith("9,571 (in millions): Payments for acquisition of "
                                     "property, plant and equipment, fiscal year 2014")
    citation = body["citations"][0]
    assert (citation["page"], citation["verified"]) == (1, True)
    assert "(9,571)" in citation["text"]
    missing = ask(client, auth, "What was capital expenditure in fiscal 2012?",
                  document_ids=[report])
    assert missing["found"] is False and missing["citations"] == []
    assert missing["answer"] == ("I could not find this in your documents. Its statements "
                                 "cover: fiscal year 2015; fiscal year 2014.")


def test_a_figure_on_pages_that_cannot_be_read_is_not_answered_from_another_page(
        client, auth, tmp_path) -> None:
    # the scan is of bars, not print: OCR finds no text on it
    from tests import pdf_factory

    scan = upload(client, auth, pdf_factory.write_scanned_page(tmp_path / "scanned-report.pdf"))
    body = ask(client, auth, "What were total assets at December 31, 2022?",
               document_ids=[scan])
    assert body["found"] is False and body["citations"] == []
    assert body["answer"] == ("I could not find this in your documents. These pages could not "
                              "be read: scanned-report.pdf pages 1.")
