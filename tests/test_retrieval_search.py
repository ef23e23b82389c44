"""Retrieval on the real pipeline: the generated samples are uploaded through the API (processed
in-process), indexed through the pipeline hook, and searched on PostgreSQL. English and Thai
questions find the page that answers them; a Thai query always finds something; scope, tenants
and deletion are respected."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from agents.retrieval import ensure_indexed, index_document, retrieve
from app.core.db import session_scope
from app.models import Document
from app.models.search import SearchEntry, SearchPosting
from tests.conftest import make_key


def upload(client, auth: dict[str, str], path: Path) -> str:
    with path.open("rb") as stream:
        response = client.post("/v1/documents", headers=auth,
                               files=[("files", (path.name, stream, "application/pdf"))])
    assert response.status_code == 202, response.text
    document_id = response.json()["documents"][0]["id"]
    with session_scope() as session:
        assert index_document(session, document_id) > 0
    return document_id


def tenant_of(document_id: str) -> uuid.UUID:
    with session_scope() as session:
        document = session.get(Document, uuid.UUID(document_id))
        assert document is not None
        return document.tenant_id


@pytest.fixture(scope="module")
def api(database: str) -> Iterator[object]:
    """One API client for the module, on empty tables; the library below is uploaded once."""
    from fastapi.testclient import TestClient
    from sqlalchemy import text

    from app.api.main import app
    from app.core.db import get_engine
    from tests.conftest import TABLES_IN_DELETE_ORDER

    with get_engine().begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(TABLES_IN_DELETE_ORDER)} CASCADE"))
    with TestClient(app) as client:
        yield client


@pytest.fixture(scope="module")
def auth(api) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_key('acme')}"}


@pytest.fixture
def client(api):
    return api


@pytest.fixture(scope="module")
def library(api, auth, samples_dir: Path) -> dict[str, str]:
    return {name: upload(api, auth, samples_dir / name) for name in (
        "services-agreement.pdf", "thai-lease.pdf", "financial-statement.pdf",
        "thai-financial-statement.pdf")}


def pages_for(library: dict[str, str], question: str, scope: list[str] | None = None,
              k: int = 3) -> list[tuple[str, int]]:
    tenant = tenant_of(next(iter(library.values())))
    names = {v: n for n, v in library.items()}
    with session_scope() as session:
        hits = retrieve(session, tenant_id=tenant, query=question, k=k,
                        document_ids=[uuid.UUID(d) for d in scope] if scope else None)
    return [(names[h.document_id], h.page) for h in hits]


def test_english_and_thai_questions_find_their_pages_across_the_library(library) -> None:
    assert pages_for(library, "How much notice is needed to stop the agreement renewing?")[0] \
        == ("services-agreement.pdf", 1)
    assert pages_for(library, "Which law governs the services agreement?", k=3)[0][0] \
        == "services-agreement.pdf"
    assert ("thai-lease.pdf", 1) in pages_for(library, "ค่าเช่าเดือนละเท่าไหร่")[:2]
    assert pages_for(library, "What was FY2024 capex?")[0] == ("financial-statement.pdf", 3)
    assert pages_for(library, "กำไรสุทธิปี 2567 เท่าไหร่")[0] == \
        ("thai-financial-statement.pdf", 1)


def test_financial_question_prefers_line_items_of_the_period(library) -> None:
    tenant = tenant_of(library["financial-statement.pdf"])
    with session_scope() as session:
        hits = retrieve(session, tenant_id=tenant, query="What was revenue in FY2024?", k=3,
                        document_ids=[uuid.UUID(library["financial-statement.pdf"])])
    top = hits[0]
    assert top.kind == "line_item" and top.page == 2
    assert top.text.startswith("Revenue 128,400")
    assert "2024" in (top.period or "")


def test_hits_carry_page_spans_that_match_the_page_text(client, auth, library) -> None:
    tenant = tenant_of(library["services-agreement.pdf"])
    with session_scope() as session:
        hits = retrieve(session, tenant_id=tenant, query="limitation of liability cap", k=5)
    assert hits
    for hit in hits:
        page = client.get(f"/v1/documents/{hit.document_id}/pages/{hit.page}", headers=auth)
        assert page.json()["text"][hit.start:hit.end] == hit.text
        assert hit.score > 0


def test_thai_query_never_returns_nothing_because_of_segmentation(library) -> None:
    lease = [library["thai-lease.pdf"]]
    # misspelt, unsegmentable and out-of-dictionary Thai still shares character bigrams
    for question in ("ค่าเช่ารายเดือนเท่าใดครับ", "เงินประกันการเช่ากี่บาท", "ผู้ให้เช่าคือใคร",
                     "ฟหกดเ่าสว"):
        assert pages_for(library, question, scope=lease), question


def test_scope_limits_results_to_the_documents_asked_about(library) -> None:
    scope = [library["financial-statement.pdf"]]
    found = pages_for(library, "governing law of the agreement", scope=scope, k=5)
    assert found and {name for name, _ in found} == {"financial-statement.pdf"}


def test_other_tenants_documents_are_never_retrieved(client, library, samples_dir) -> None:
    other = {"Authorization": f"Bearer {make_key('globex')}"}
    mine = upload(client, other, samples_dir / "thai-lease.pdf")
    with session_scope() as session:
        hits = retrieve(session, tenant_id=tenant_of(mine), query="ค่าเช่า notice rent", k=10)
    assert hits and {h.document_id for h in hits} == {mine}


def test_a_deleted_document_is_never_retrieved_again(client, samples_dir, library) -> None:
    auth = {"Authorization": f"Bearer {make_key('initech')}"}
    gone = upload(client, auth, samples_dir / "services-agreement.pdf")
    upload(client, auth, samples_dir / "thai-lease.pdf")
    tenant = tenant_of(gone)
    question = "notice of non-renewal governing law New York"
    with session_scope() as session:
        hits = retrieve(session, tenant_id=tenant, query=question, k=3)
    assert hits[0].document_id == gone
    assert client.delete(f"/v1/documents/{gone}", headers=auth).status_code == 204
    with session_scope() as session:
        hits = retrieve(session, tenant_id=tenant, query=question, k=10)
        assert hits and gone not in {h.document_id for h in hits}
        left = session.scalar(select(func.count()).select_from(SearchEntry)
                              .where(SearchEntry.document_id == uuid.UUID(gone)))
        postings = session.scalar(select(func.count()).select_from(SearchPosting)
                                  .where(SearchPosting.document_id == uuid.UUID(gone)))
    assert left == 0 and postings == 0


def test_reindexing_replaces_entries_and_catch_up_indexes_missing_documents(library) -> None:
    document_id = uuid.UUID(library["thai-lease.pdf"])
    with session_scope() as session:
        first = index_document(session, document_id)
        assert index_document(session, document_id) == first
        with session.begin():
            session.query(SearchEntry).filter(SearchEntry.document_id == document_id).delete()
        caught = ensure_indexed(session, tenant_id=tenant_of(str(document_id)))
        assert caught == [document_id]
        count = session.scalar(select(func.count()).select_from(SearchEntry)
                               .where(SearchEntry.document_id == document_id))
    assert count == first
