"""Bad PDFs through the whole product: each one is accepted by the API (the bytes are a PDF),
fails in the pipeline with a readable reason stored on the document, and leaves the good
document uploaded in the same request untouched."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest

from app.core.settings import get_settings
from tests import pdf_factory


def upload_pair(client, auth, bad: Path, good: bytes) -> tuple[dict, dict]:
    response = client.post("/v1/documents", headers=auth, files=[
        ("files", (bad.name, io.BytesIO(bad.read_bytes()), "application/pdf")),
        ("files", ("good.pdf", io.BytesIO(good), "application/pdf")),
    ])
    assert response.status_code == 202, response.text
    bad_doc, good_doc = response.json()["documents"]
    fetch = lambda d: client.get(f"/v1/documents/{d['id']}", headers=auth).json()  # noqa: E731
    return fetch(bad_doc), fetch(good_doc)


@pytest.fixture
def good(samples_dir: Path) -> bytes:
    return (samples_dir / "services-agreement.pdf").read_bytes()


FAILURES: list[tuple[str, Callable[[Path], Path], str]] = [
    ("password", lambda d: pdf_factory.write_encrypted(d / "locked.pdf", user_password="s3cret"),
     "encrypted: password required"),
    ("cut in half", lambda d: pdf_factory.write_truncated(d / "half.pdf", keep_fraction=0.5),
     "corrupt: "),
    ("bomb", lambda d: pdf_factory.write_decompression_bomb(d / "bomb.pdf"),
     "parse memory limit: "),
    ("nested page tree", lambda d: pdf_factory.write_nested_page_tree(d / "nested.pdf"),
     "page tree depth"),
]


@pytest.mark.parametrize(("label", "make", "reason"), FAILURES, ids=[f[0] for f in FAILURES])
def test_bad_pdf_fails_with_stored_reason_and_good_one_finishes(client, auth, good, tmp_path,
                                                                  monkeypatch, label, make,
                                                                  reason):
    monkeypatch.setattr(get_settings().limits, "parse_memory_bytes", 256 * 1024 * 1024)
    bad_doc, good_doc = upload_pair(client, auth, make(tmp_path), good)
    assert bad_doc["status"] == "failed"
    assert reason in bad_doc["failure_reason"], bad_doc["failure_reason"]
    ingest = bad_doc["job"]["stages"][0]
    assert ingest["status"] == "failed" and ingest["error"] == bad_doc["failure_reason"]
    assert [s["status"] for s in bad_doc["job"]["stages"][1:]] == ["pending", "pending"]
    result = client.get(f"/v1/documents/{bad_doc['id']}/result", headers=auth)
    assert result.status_code == 404 and reason in result.json()["error"]["message"]
    assert good_doc["status"] == "done"


def test_too_many_pages_fails_with_the_limit_named(client, auth, good, tmp_path, monkeypatch):
    monkeypatch.setattr(get_settings().limits, "max_pages", 50)
    bad_doc, good_doc = upload_pair(
        client, auth, pdf_factory.write_many_pages(tmp_path / "long.pdf", 60), good)
    assert bad_doc["failure_reason"] == "too many pages: 60 > limit 50"
    assert good_doc["status"] == "done"


@pytest.mark.parametrize(("label", "make", "flag"), [
    ("empty password", lambda d: pdf_factory.write_encrypted(d / "open.pdf", user_password=""),
     None),
    ("lost tail", lambda d: pdf_factory.write_truncated(d / "tail.pdf", drop_bytes=10), None),
    ("corrupt xref", lambda d: pdf_factory.write_corrupt_xref(d / "xref.pdf"), None),
    # a scan of bars, not print: OCR runs and finds no text
    ("scanned", lambda d: pdf_factory.write_scanned_page(d / "scan.pdf"), "ocr_no_text"),
], ids=["empty password", "lost tail", "corrupt xref", "scanned"])
def test_recoverable_pdfs_finish_with_their_flags(client, auth, good, tmp_path, label, make,
                                                  flag):
    doc, _ = upload_pair(client, auth, make(tmp_path), good)
    assert doc["status"] == "done", doc["failure_reason"]
    result = client.get(f"/v1/documents/{doc['id']}/result", headers=auth).json()["result"]
    if flag:
        assert result["quality"][flag] == [1]
    else:
        assert result["quality"] == {}


@pytest.mark.slow
def test_thousands_of_pages_are_all_stored(client, auth, good, tmp_path, monkeypatch):
    # the pages are the point: MiniLM would spend minutes of two CPU cores embedding 2,000 of
    # them for questions, so the index uses the model-free embedder here
    monkeypatch.setattr(get_settings().retrieval, "embedder", "hashing")
    doc, _ = upload_pair(client, auth, pdf_factory.write_many_pages(tmp_path / "big.pdf", 2000),
                         good)
    assert (doc["status"], doc["page_count"]) == ("done", 2000)
    last = client.get(f"/v1/documents/{doc['id']}/pages/2000", headers=auth).json()
    assert last["number"] == 2000 and last["text"]


AGREEMENT = ("SUPPLY AGREEMENT\nThis Supply Agreement is made as of June 1, 2022 by and between "
             "Northwind Parts, Inc., a Delaware corporation (\"Supplier\"), and Harbor Tools LLC, "
             "a Texas limited liability company (\"Buyer\").\n1. Supply. Supplier shall sell and "
             "Buyer shall buy the Products listed in Schedule A.\n2. Governing Law. This "
             "Agreement is governed by the laws of the State of Texas.\n")
SECTION = ("{n}. Deliveries. Supplier shall deliver each order within thirty (30) days at the "
           "place Buyer names, and Buyer shall inspect the Products within ten (10) days of "
           "delivery and notify Supplier in writing of any defect it finds.\n")


def test_a_contract_with_scanned_pages_finishes_and_names_them(client, auth, good, tmp_path):
    path = pdf_factory.write_pages_with_scans(tmp_path / "supply.pdf",
                                              [AGREEMENT, None, SECTION.format(n=3), None])
    doc, _ = upload_pair(client, auth, path, good)
    assert (doc["status"], doc["doc_type"]) == ("done", "contract"), doc["failure_reason"]
    result = client.get(f"/v1/documents/{doc['id']}/result", headers=auth).json()["result"]
    assert result["quality"]["ocr_no_text"] == [2, 4]  # scans of bars: no print to read
    fields = result["legal"]["fields"]
    assert fields["governing_law"]["value"] == "Texas"
    assert fields["governing_law"]["citations"][0]["page"] == 1


@pytest.mark.slow
def test_a_300_page_agreement_finishes_within_the_stage_limit(client, auth, good, tmp_path,
                                                              monkeypatch):
    # the pages are the point, not their embeddings: the model-free embedder indexes them
    monkeypatch.setattr(get_settings().retrieval, "embedder", "hashing")
    pages = [AGREEMENT] + [SECTION.format(n=n) * 6 for n in range(3, 302)]
    doc, _ = upload_pair(client, auth, pdf_factory.write_pages_with_scans(
        tmp_path / "long-supply.pdf", pages), good)
    assert (doc["status"], doc["page_count"], doc["doc_type"]) == ("done", 300, "contract")
    stages = doc["job"]["stages"]
    assert all(s["status"] == "done" for s in stages)
    result = client.get(f"/v1/documents/{doc['id']}/result", headers=auth).json()["result"]
    assert result["legal"]["fields"]["governing_law"]["value"] == "Texas"
