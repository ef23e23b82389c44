"""Fitting answers to LINE's rules: text split under 5,000 UTF-16 units at natural breaks, no
more than five messages per call (the rest pushed with their own retry keys), citations as
"(document, p. N)", and the language decision that picks Thai or English."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from agents.line.answering import inline_citations
from agents.line.client import LineClient, Recipient, retry_key
from agents.line.language import detect_language
from agents.line.messages import MAX_TEXT_UNITS, split_text, utf16_units, with_citations
from app.core.settings import get_settings
from tests.line_mock import MockLine, mock_line_channel


@pytest.fixture
def line(monkeypatch: pytest.MonkeyPatch) -> Iterator[MockLine]:
    yield from mock_line_channel(monkeypatch)


def paragraph(i: int, chars: int = 900) -> str:
    sentence = "The tenant shall keep the premises in good repair. "
    return (f"Clause {i}. " + sentence * 40)[:chars].strip()


def test_long_text_splits_under_the_limit_at_paragraph_breaks():
    text = "\n\n".join(paragraph(i) for i in range(30))
    parts = split_text(text)
    assert len(parts) > 5
    assert all(utf16_units(part) <= MAX_TEXT_UNITS for part in parts)
    assert all(part.startswith("Clause ") for part in parts)  # every part begins a paragraph
    assert "\n\n".join(parts) == text


def test_emoji_count_twice_and_unbroken_text_is_cut_hard():
    emoji = "\U0001F4C4" * 3000  # 6,000 UTF-16 units in 3,000 characters
    parts = split_text(emoji)
    assert [utf16_units(p) for p in parts] == [5000, 1000]
    thai = "ก" * 12000
    assert [len(p) for p in split_text(thai)] == [5000, 5000, 2000]
    assert split_text("short answer") == ["short answer"]
    assert split_text("   ") == []


def test_citations_are_written_once_each_in_order():
    text = with_citations("The deposit is 3 months.", [("lease.pdf", 4), ("lease.pdf", 2),
                                                      ("lease.pdf", 4)])
    assert text == "The deposit is 3 months.\n\n(lease.pdf, p. 4)\n(lease.pdf, p. 2)"
    assert with_citations("Not found.", []) == "Not found."


def test_agent_references_become_document_and_page():
    citations = [{"ref": 1, "filename": "lease.pdf", "page": 4},
                 {"ref": 2, "filename": "contract.pdf", "page": 12}]
    text, cited = inline_citations("The deposit is 3 months [1]. Notice is 90 days [2].",
                                   citations)
    assert text == ("The deposit is 3 months (lease.pdf, p. 4). "
                    "Notice is 90 days (contract.pdf, p. 12).")
    assert cited == [("lease.pdf", 4), ("contract.pdf", 12)]
    # a reference the agent did not back with a citation is dropped, not invented
    assert inline_citations("Rent is due monthly [3].", citations) == (
        "Rent is due monthly.", [])


def test_language_follows_the_script_of_the_message():
    assert detect_language("ค่าเช่าเดือนละเท่าไหร่") == "th"
    assert detect_language("ค่าเช่าของ Unit 5B เท่าไหร่") == "th"
    assert detect_language("What is the rent for ห้อง 5B?") == "en"
    assert detect_language("12345 ???") == "en"


def test_more_than_five_parts_reply_five_and_push_the_rest(line):
    parts = [f"part {i}" for i in range(12)]
    recipient = Recipient(chat_id="Usplit", reply_token="token-split",
                          event_time_ms=int(time.time() * 1000), event_key="EVSPLIT")

    async def send() -> str:
        async with LineClient(get_settings().line) as client:
            return await client.send(recipient, parts)

    assert asyncio.run(send()) == "reply+push"
    [reply] = line.calls_to("/message/reply")
    pushes = line.calls_to("/message/push")
    assert [m["text"] for m in reply.body["messages"]] == parts[:5]
    assert [[m["text"] for m in p.body["messages"]] for p in pushes] == [parts[5:10],
                                                                         parts[10:]]
    assert [p.headers["x-line-retry-key"] for p in pushes] == [
        retry_key("EVSPLIT", "answer", 1), retry_key("EVSPLIT", "answer", 2)]
