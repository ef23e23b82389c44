"""PDFs sent in a LINE chat: downloaded through the SDK's content API from the mock LINE
server, ingested and analysed through the normal upload path, then a push with the summary (or
the reason it failed) in the user's language. Non-PDF files and bytes that are not a PDF get a
reply saying why, and nothing is stored."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.core.db import session_scope
from app.models import Document, DocumentStatus
from app.models.line import LineEvent
from tests.line_mock import MockLine, file_event, mock_line_channel, text_event
from tests.pdf_factory import write_encrypted


@pytest.fixture
def line(db: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[MockLine]:
    yield from mock_line_channel(monkeypatch)


def documents() -> list[Document]:
    with session_scope() as session:
        return list(session.scalars(select(Document)))


def test_pdf_in_chat_is_ingested_and_ends_in_a_pushed_summary(client, line, samples_dir):
    pdf = (samples_dir / "services-agreement.pdf").read_bytes()
    line.contents["m-contract"] = pdf
    event = file_event("m-contract", "services-agreement.pdf", len(pdf), user_id="Ufile")
    assert line.deliver(client, event).status_code == 200

    [download] = line.calls_to("/v2/bot/message/m-contract/content")
    assert download.headers["authorization"].startswith("Bearer ")
    [reply] = line.calls_to("/message/reply")
    assert reply.body["replyToken"] == event["replyToken"]
    assert "received services-agreement.pdf" in reply.body["messages"][0]["text"]

    [document] = documents()
    assert document.status == DocumentStatus.DONE and document.filename == \
        "services-agreement.pdf"
    [push] = line.calls_to("/message/push")
    assert push.body["to"] == "Ufile" and push.headers["x-line-retry-key"]
    summary = push.body["messages"][0]["text"]
    assert summary.startswith(f"services-agreement.pdf is ready: contract, "
                              f"{document.page_count} pages.")
    assert "(services-agreement.pdf, p. " in summary
    with session_scope() as session:
        stored = session.scalar(select(LineEvent))
    assert stored.document_id == document.id


def test_thai_user_gets_the_file_notices_in_thai(client, line, samples_dir):
    line.deliver(client, text_event("สวัสดีค่ะ", user_id="Uthfile"))
    pdf = (samples_dir / "thai-lease.pdf").read_bytes()
    line.contents["m-lease"] = pdf
    line.deliver(client, file_event("m-lease", "thai-lease.pdf", len(pdf), user_id="Uthfile"))
    texts = line.delivered_texts("Uthfile")
    assert texts[1] == "ได้รับไฟล์ thai-lease.pdf แล้วค่ะ กำลังวิเคราะห์ จะส่งสรุปให้เมื่อเสร็จนะคะ"
    assert texts[2].startswith("วิเคราะห์ thai-lease.pdf เสร็จแล้วค่ะ: สัญญาเช่า")


def test_pdf_that_cannot_be_processed_ends_in_a_push_with_the_reason(client, line,
                                                                      samples_dir,
                                                                      tmp_path: Path):
    locked = write_encrypted(tmp_path / "locked.pdf", user_password="secret",
                             source=samples_dir / "services-agreement.pdf").read_bytes()
    line.contents["m-locked"] = locked
    line.deliver(client, file_event("m-locked", "locked.pdf", len(locked), user_id="Ulock"))
    [document] = documents()
    assert document.status == DocumentStatus.FAILED
    [push] = line.calls_to("/message/push")
    text = push.body["messages"][0]["text"]
    assert text.startswith("Sorry, I could not analyse locked.pdf: ")
    assert document.failure_reason and document.failure_reason in text


def test_files_that_are_not_pdfs_get_a_reply_and_nothing_is_stored(client, line):
    line.contents["m-fake"] = b"PK\x03\x04 this is a zip, not a PDF"
    line.deliver(client, file_event("m-doc", "notes.docx", 2048, user_id="Unot"),
                 file_event("m-fake", "renamed.pdf", 40, user_id="Unot"))
    texts = line.delivered_texts("Unot")
    assert texts[0] == "I can only analyse PDF files. Please send notes.docx as a PDF."
    assert texts[1].startswith("Sorry, I could not analyse renamed.pdf: ")
    assert "PDF" in texts[1]
    # the .docx was refused by name, before any download
    assert line.calls_to("/v2/bot/message/m-doc/content") == []
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Document)) == 0
