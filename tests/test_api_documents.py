"""The documents API as a client uses it: upload, follow, read, dedupe, reprocess, delete,
tenant isolation and the error each bad request gets. Tasks run in-process (eager Celery), so
an upload is fully processed when the response arrives."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.core.db import session_scope
from app.core.settings import get_settings
from app.models import AuditEvent, Chunk, Page, Result
from tests.conftest import make_key


def upload(client, auth, *files: tuple[str, bytes], **params):
    return client.post("/v1/documents", headers=auth, params=params,
                       files=[("files", (name, io.BytesIO(data), "application/pdf"))
                              for name, data in files])


def raw_upload(client, auth, filename: bytes, data: bytes):
    """A multipart body written by hand, so the filename reaches the server byte for byte
    (httpx would percent-encode control characters)."""
    boundary = b"lexledgerboundary"
    body = (b"--" + boundary + b'\r\nContent-Disposition: form-data; name="files"; filename="'
            + filename + b'"\r\nContent-Type: application/pdf\r\n\r\n' + data + b"\r\n--"
            + boundary + b"--\r\n")
    headers = dict(auth, **{"Content-Type": f"multipart/form-data; boundary={boundary.decode()}"})
    return client.post("/v1/documents", headers=headers, content=body)


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    assert {"message", "type", "code"} <= set(body["error"])
    return body["error"]


@pytest.fixture
def contract(samples_dir: Path) -> bytes:
    return (samples_dir / "services-agreement.pdf").read_bytes()


@pytest.fixture
def lease_th(samples_dir: Path) -> bytes:
    return (samples_dir / "thai-lease.pdf").read_bytes()


def count(model) -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_upload_processes_document_and_serves_stages_pages_and_result(client, auth, contract):
    response = upload(client, auth, ("supply-agreement.pdf", contract))
    assert response.status_code == 202, response.text
    [doc] = response.json()["documents"]
    assert doc["duplicate"] is False and doc["job_id"]

    detail = client.get(f"/v1/documents/{doc['id']}", headers=auth).json()
    assert detail["status"] == "done"
    assert detail["doc_type"] == "contract"
    assert detail["page_count"] >= 2
    stages = {s["name"]: s for s in detail["job"]["stages"]}
    assert [s["name"] for s in detail["job"]["stages"]] == ["ingest", "analysis", "verify"]
    assert all(s["status"] == "done" and s["attempts"] == 1 for s in stages.values())
    assert stages["ingest"]["progress_done"] == detail["page_count"]
    for stage in stages.values():
        assert stage["started_at"] < stage["finished_at"], stage
    assert stages["ingest"]["finished_at"] <= stages["analysis"]["started_at"]

    page = client.get(f"/v1/documents/{doc['id']}/pages/1", headers=auth).json()
    assert page["number"] == 1 and "agreement" in page["text"].lower()
    assert page["extractor"] in ("pdfium", "pypdf")

    result = client.get(f"/v1/documents/{doc['id']}/result", headers=auth).json()
    data = result["result"]
    assert data["doc_type"]["value"] == "contract"
    citations = data["doc_type"]["citations"]
    assert citations and all(c["verified"] for c in citations)
    for citation in citations:  # each cited span really says the cited text on that page
        text = client.get(f"/v1/documents/{doc['id']}/pages/{citation['page']}",
                          headers=auth).json()["text"]
        assert text[citation["start"]:citation["end"]].lower() == citation["text"].lower()


def test_thai_lease_is_triaged_as_lease(client, auth, lease_th):
    [doc] = upload(client, auth, ("lease-th.pdf", lease_th)).json()["documents"]
    detail = client.get(f"/v1/documents/{doc['id']}", headers=auth).json()
    assert (detail["status"], detail["doc_type"]) == ("done", "lease")
    page = client.get(f"/v1/documents/{doc['id']}/pages/1", headers=auth).json()
    assert "สัญญาเช่า" in page["text"]


def test_duplicate_content_returns_existing_document_unless_reprocess(client, auth, contract):
    [first] = upload(client, auth, ("a.pdf", contract)).json()["documents"]
    [again] = upload(client, auth, ("renamed.pdf", contract)).json()["documents"]
    assert again["id"] == first["id"] and again["duplicate"] is True and again["job_id"] is None

    [redo] = upload(client, auth, ("a.pdf", contract), reprocess="true").json()["documents"]
    assert redo["id"] == first["id"] and redo["job_id"] not in (None, first["job_id"])
    assert count(Result) == 2
    # pages were replaced, not duplicated
    detail = client.get(f"/v1/documents/{first['id']}", headers=auth).json()
    assert count(Page) == detail["page_count"]


def test_reprocess_endpoint_runs_a_new_job(client, auth, contract):
    [doc] = upload(client, auth, ("a.pdf", contract)).json()["documents"]
    response = client.post(f"/v1/documents/{doc['id']}/reprocess", headers=auth)
    assert response.status_code == 202
    detail = client.get(f"/v1/documents/{doc['id']}", headers=auth).json()
    assert detail["job"]["id"] == response.json()["job_id"] != doc["job_id"]
    assert detail["status"] == "done"


def test_missing_or_unknown_key_gets_401(client, contract):
    for headers in ({}, {"Authorization": "Bearer llk_nope_nope"}, {"Authorization": "Basic x"}):
        response = upload(client, headers, ("a.pdf", contract))
        assert response.status_code == 401
        assert error_of(response)["type"] == "authentication_error"
        assert client.get("/v1/documents", headers=headers).status_code == 401
    assert count(Page) == 0


def test_another_tenants_document_is_not_found(client, auth, contract):
    [doc] = upload(client, auth, ("a.pdf", contract)).json()["documents"]
    other = {"Authorization": f"Bearer {make_key('globex')}"}
    base = f"/v1/documents/{doc['id']}"
    for method, path in (("get", base), ("get", f"{base}/result"), ("get", f"{base}/pages/1"),
                         ("post", f"{base}/reprocess"), ("delete", base)):
        response = getattr(client, method)(path, headers=other)
        assert response.status_code == 404, (method, path)
        assert error_of(response)["code"] == "not_found"
    assert client.get("/v1/documents", headers=other).json()["total"] == 0
    # the owner still has everything
    assert client.get(base, headers=auth).json()["status"] == "done"
    # the same bytes are a separate document for another tenant
    [theirs] = upload(client, other, ("a.pdf", contract)).json()["documents"]
    assert theirs["id"] != doc["id"] and theirs["duplicate"] is False


@pytest.mark.parametrize(("name", "data", "status", "code"), [
    ("empty.pdf", b"", 400, "empty_file"),
    ("notes.pdf", b"Just some text pretending to be a PDF\n" * 20, 415, "not_a_pdf"),
    ("image.pdf", b"\x89PNG\r\n\x1a\n" + b"\0" * 100, 415, "not_a_pdf"),
    ("../", b"%PDF-1.4\n", 400, "bad_filename"),
])
def test_bad_uploads_are_refused_with_a_reason(client, auth, name, data, status, code):
    response = upload(client, auth, (name, data))
    assert response.status_code == status, response.text
    assert error_of(response)["code"] == code
    assert client.get("/v1/documents", headers=auth).json()["total"] == 0


@pytest.mark.parametrize("filename", [b"evil\x07name.pdf", b"line\nbreak.pdf", b"tab\tname.pdf"])
def test_filenames_with_control_characters_are_refused(client, auth, contract, filename):
    response = raw_upload(client, auth, filename, contract)
    assert response.status_code == 400, response.text
    assert error_of(response)["code"] == "bad_filename"
    assert "control characters" in error_of(response)["message"]
    assert client.get("/v1/documents", headers=auth).json()["total"] == 0


def test_one_bad_file_refuses_the_whole_request_and_names_it(client, auth, contract):
    response = upload(client, auth, ("good.pdf", contract), ("bad.pdf", b"hello"))
    assert response.status_code == 415
    assert "bad.pdf" in error_of(response)["message"]
    assert client.get("/v1/documents", headers=auth).json()["total"] == 0
    assert not list((get_settings().storage.blob_dir / "staging").iterdir())


def test_oversized_upload_gets_413(client, auth, contract, monkeypatch):
    monkeypatch.setattr(get_settings().limits, "max_upload_bytes", len(contract) - 1)
    response = upload(client, auth, ("big.pdf", contract))
    assert response.status_code == 413
    assert "limit" in error_of(response)["message"]
    assert client.get("/v1/documents", headers=auth).json()["total"] == 0


def test_folder_parts_of_filenames_are_dropped(client, auth, contract):
    [doc] = upload(client, auth, ("../../etc/C:\\scans\\contract.pdf", contract)) \
        .json()["documents"]
    assert doc["filename"] == "contract.pdf"


def test_delete_removes_blob_rows_and_keeps_the_audit_event(client, auth, contract):
    [doc] = upload(client, auth, ("a.pdf", contract)).json()["documents"]
    blobs = list(get_settings().storage.blob_dir.rglob(f"{doc['sha256']}.pdf"))
    assert len(blobs) == 1
    assert client.delete(f"/v1/documents/{doc['id']}", headers=auth).status_code == 204

    assert client.get(f"/v1/documents/{doc['id']}", headers=auth).status_code == 404
    assert not blobs[0].exists()
    assert (count(Page), count(Chunk), count(Result)) == (0, 0, 0)
    with session_scope() as session:
        actions = set(session.scalars(select(AuditEvent.action)
                                      .where(AuditEvent.subject_id == doc["id"])))
    assert {"document.uploaded", "document.deleted"} <= actions
    # uploading it again makes a fresh document
    [again] = upload(client, auth, ("a.pdf", contract)).json()["documents"]
    assert again["duplicate"] is False


def test_list_paginates_and_filters(client, auth, samples_dir):
    files = sorted(samples_dir.glob("*.pdf"))
    response = upload(client, auth, *[(p.name, p.read_bytes()) for p in files])
    assert response.status_code == 202
    listing = client.get("/v1/documents", headers=auth, params={"limit": 2}).json()
    assert listing["total"] == len(files) and len(listing["items"]) == 2
    second = client.get("/v1/documents", headers=auth, params={"limit": 2, "offset": 2}).json()
    ids = {d["id"] for d in listing["items"]} | {d["id"] for d in second["items"]}
    assert len(ids) == min(4, len(files))
    leases = client.get("/v1/documents", headers=auth, params={"doc_type": "lease"}).json()
    assert leases["total"] >= 1 and all(d["doc_type"] == "lease" for d in leases["items"])
    done = client.get("/v1/documents", headers=auth, params={"status": "done"}).json()
    assert done["total"] == len(files)
    bad = client.get("/v1/documents", headers=auth, params={"status": "nonsense"})
    assert bad.status_code == 422 and error_of(bad)["code"] == "validation_error"


def test_missing_page_and_missing_result_explain_themselves(client, auth, contract):
    [doc] = upload(client, auth, ("a.pdf", contract)).json()["documents"]
    response = client.get(f"/v1/documents/{doc['id']}/pages/999", headers=auth)
    assert response.status_code == 404 and "pages" in error_of(response)["message"]
    response = client.get("/v1/documents/00000000-0000-0000-0000-000000000000", headers=auth)
    assert response.status_code == 404


def test_health_readiness_and_metrics(client, auth, contract):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["inference"]["ok"] is False  # no model endpoint in this test
    assert body["status"] == "degraded"
    upload(client, auth, ("a.pdf", contract))
    metrics = client.get("/metrics").text
    assert 'lexledger_documents{status="done"} 1.0' in metrics
    assert "lexledger_http_requests_total" in metrics


def test_body_over_the_request_limit_is_refused_before_it_is_read():
    from fastapi.testclient import TestClient
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from app.api.size_guard import BodySizeGuard

    reached = []

    async def endpoint(request):
        reached.append(await request.body())
        return PlainTextResponse("stored")

    inner = Starlette(routes=[Route("/upload", endpoint, methods=["POST"])])
    client = TestClient(BodySizeGuard(inner, max_body=1000))
    assert client.post("/upload", content=b"x" * 999).text == "stored"
    response = client.post("/upload", content=b"x" * 1001)
    assert response.status_code == 413 and error_of(response)["code"] == "file_too_large"
    assert len(reached) == 1


def test_a_finished_document_is_already_in_the_question_index(client, auth, lease_th):
    from app.models import SearchEntry

    [doc] = upload(client, auth, ("lease-th.pdf", lease_th)).json()["documents"]
    assert client.get(f"/v1/documents/{doc['id']}", headers=auth).json()["status"] == "done"
    with session_scope() as session:
        kinds = set(session.scalars(select(SearchEntry.kind)
                                    .where(SearchEntry.document_id == doc["id"])))
    assert "chunk" in kinds and len(kinds) > 1  # passages and the structure the agents found


def test_out_of_range_page_numbers_and_offsets_are_refused_not_errors(client, auth, contract):
    [doc] = upload(client, auth, ("a.pdf", contract)).json()["documents"]
    pages = f"/v1/documents/{doc['id']}/pages"
    for number in (2**31, 2**63, 0, -1):
        response = client.get(f"{pages}/{number}", headers=auth)
        assert response.status_code == 422 and error_of(response)["code"] == "validation_error"
    assert client.get(f"{pages}/{2**31 - 1}", headers=auth).status_code == 404
    listing = client.get("/v1/documents", headers=auth, params={"offset": 2**63})
    assert listing.status_code == 422 and error_of(listing)["code"] == "validation_error"


def test_the_ingest_stage_times_include_parsing(client, auth, contract, monkeypatch):
    from datetime import datetime

    from agents.pipeline import ingest_stage

    opened = ingest_stage._open

    def slow_open(path):  # a parse that takes a while before the first pages are stored
        time.sleep(0.5)
        return opened(path)

    monkeypatch.setattr(ingest_stage, "_open", slow_open)
    [doc] = upload(client, auth, ("slow.pdf", contract)).json()["documents"]
    detail = client.get(f"/v1/documents/{doc['id']}", headers=auth).json()
    ingest = detail["job"]["stages"][0]
    took = (datetime.fromisoformat(ingest["finished_at"])
            - datetime.fromisoformat(ingest["started_at"])).total_seconds()
    assert took >= 0.5, ingest
