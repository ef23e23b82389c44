"""Scanned documents through the whole pipeline: an image-only copy of the sample agreement and a
scanned Thai lease come out with the same key fields and clauses as their text-layer originals,
their citations verified against the OCR text, the pages served with their word boxes, the
quality summary naming the pages OCR read, /readyz saying whether OCR is available, and a
500-page scan whose progress a user can watch while a real worker reads it."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pypdfium2 as pdfium
import pytest

from app.core.settings import get_settings
from app.result_summary import summary_lines
from tests import pdf_factory
from tests.conftest import make_key
from tests.live import live_env, wait_for
from tests.test_agents_pipeline import SCHEMA


def upload(client: Any, auth: dict[str, str], path: Path) -> dict[str, Any]:
    response = client.post("/v1/documents", headers=auth, files=[
        ("files", (path.name, io.BytesIO(path.read_bytes()), "application/pdf"))])
    assert response.status_code == 202, response.text
    [doc] = response.json()["documents"]
    return client.get(f"/v1/documents/{doc['id']}", headers=auth).json()


def result_of(client: Any, auth: dict[str, str], doc: dict[str, Any]) -> dict[str, Any]:
    body = client.get(f"/v1/documents/{doc['id']}/result", headers=auth)
    assert body.status_code == 200, body.text
    return body.json()["result"]


def value_of(record: dict[str, Any] | list[dict[str, Any]] | None) -> Any:
    if isinstance(record, list):
        return [r["value"] for r in record]
    return record and record["value"]


def test_a_scanned_agreement_gives_the_same_fields_and_clauses(client, auth, samples_dir,
                                                               tmp_path):
    original = result_of(client, auth, upload(client, auth,
                                              samples_dir / "services-agreement.pdf"))
    scan = pdf_factory.write_scan_of(samples_dir / "services-agreement.pdf",
                                     tmp_path / "agreement-scan.pdf")
    doc = upload(client, auth, scan)
    assert doc["status"] == "done", doc["failure_reason"]
    result = result_of(client, auth, doc)
    jsonschema.validate(result, SCHEMA)
    assert result["quality"] == {"ocr": [1, 2, 3]}
    assert result["verification"]["all_verified"] is True

    fields, expected = result["legal"]["fields"], original["legal"]["fields"]
    for name in ("parties", "governing_law", "agreement_date", "effective_date"):
        assert value_of(fields[name]) == value_of(expected[name]), name
    present = {c["category"] for c in result["legal"]["clauses"] if c["present"]}
    print([c for c in result["legal"]["clauses"] if c["category"] == "Non-Transferable License"])
    assert present == {c["category"] for c in original["legal"]["clauses"] if c["present"]}
    rows = dict(summary_lines(result))
    assert rows["Clauses"] == "21 of 41 CUAD categories present"

    page = client.get(f"/v1/documents/{doc['id']}/pages/1", headers=auth).json()
    assert page["extractor"] == "ocr" and page["flags"] == []
    ocr = page["ocr"]
    assert ocr["confidence"] > 90 and ocr["languages"] == "tha+eng" and ocr["dpi"] == 150
    first = ocr["words"][0]
    assert page["text"][int(first[0]):int(first[1])] == "MASTER"
    assert 0 < first[2] < first[4] < 612 and 0 < first[3] < first[5] < 200  # near the top


def test_a_scanned_thai_lease_gives_its_key_fields(client, auth, samples_dir, tmp_path):
    source = pdfium.PdfDocument(str(samples_dir / "thai-lease.pdf"))
    pages = [source[i].get_textpage().get_text_bounded().splitlines()
             for i in range(len(source))]
    scan = pdf_factory.write_typeset_scan(tmp_path / "lease-scan.pdf", pages, dpi=300)
    doc = upload(client, auth, scan)
    assert (doc["status"], doc["doc_type"]) == ("done", "lease"), doc["failure_reason"]
    result = result_of(client, auth, doc)
    assert result["quality"]["ocr"] == [1, 2]
    assert result["verification"]["all_verified"] is True
    rows = dict(summary_lines(result))
    assert rows["Parties"].startswith("ผู้ให้เช่า: นางสาวพิมพ์ชนก ศรีสุวรรณ (p. 1)")
    assert "THB 35,000.00 monthly" in rows["Key amounts"]
    assert "expires 2027-05-31 (p. 1)" in rows["Dates"]


def test_with_ocr_off_a_scan_is_only_flagged(client, auth, samples_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(get_settings().ocr, "mode", "off")
    scan = pdf_factory.write_scan_of(samples_dir / "services-agreement.pdf",
                                     tmp_path / "unread-scan.pdf", dpi=100)
    result = result_of(client, auth, upload(client, auth, scan))
    assert result["quality"] == {"needs_ocr": [1, 2, 3]}
    ready = client.get("/readyz").json()["checks"]["ocr"]
    assert ready == {"ok": False, "mode": "off", "error": "turned off in settings"}


@pytest.mark.parametrize("mode", ["auto", "force"])
def test_readyz_reports_ocr(client, mode, monkeypatch):
    monkeypatch.setattr(get_settings().ocr, "mode", mode)
    ready = client.get("/readyz").json()["checks"]["ocr"]
    assert ready == {"ok": True, "mode": mode, "languages": "tha+eng", "dpi": 150}


def test_readyz_says_why_ocr_is_unavailable(client, tmp_path, monkeypatch):
    monkeypatch.setattr(get_settings().ocr, "tessdata_dir", tmp_path)
    ready = client.get("/readyz").json()
    assert ready["checks"]["ocr"]["ok"] is False
    assert "eng and tha models are not in" in ready["checks"]["ocr"]["error"]


@pytest.mark.slow
def test_a_500_page_scan_shows_its_progress_with_a_real_worker(stack, tmp_path):
    env = live_env(LEXLEDGER_RETRIEVAL__EMBEDDER="hashing")  # the pages are the point here
    url = stack.start_api(env)
    stack.start_worker(env, concurrency=1)
    headers = {"Authorization": f"Bearer {make_key('acme')}"}
    scan = pdf_factory.write_scanned_register(tmp_path / "register.pdf", 500)
    response = httpx.post(f"{url}/v1/documents", headers=headers, timeout=60,
                          files={"files": (scan.name, scan.read_bytes(), "application/pdf")})
    assert response.status_code == 202, response.text
    document_id = response.json()["documents"][0]["id"]
    seen: set[int] = set()

    def finished() -> bool:
        doc = httpx.get(f"{url}/v1/documents/{document_id}", headers=headers, timeout=10).json()
        ingest = next(s for s in doc["job"]["stages"] if s["name"] == "ingest")
        seen.add(ingest["progress_done"])
        return doc["status"] in ("done", "failed")

    wait_for(finished, 600, "the 500-page scan to finish", interval=0.25)
    doc = httpx.get(f"{url}/v1/documents/{document_id}", headers=headers, timeout=10).json()
    assert (doc["status"], doc["page_count"]) == ("done", 500), doc["failure_reason"]
    # the user watched the pages come in, a few seconds' worth at a time
    assert len({done for done in seen if 0 < done < 500}) >= 3, sorted(seen)
    last = httpx.get(f"{url}/v1/documents/{document_id}/pages/500", headers=headers,
                     timeout=10).json()
    assert last["extractor"] == "ocr" and "Register page 500: received THB 62,500" in last["text"]
