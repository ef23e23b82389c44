"""The LINE bot in its production shape: the API under uvicorn acknowledges signed webhooks and
real Celery workers consume the ``interactive`` queue from Redis, answering through the official
SDK to the mock LINE server. A question is answered after the 200; a delivery sent twice at
once is answered once; a PDF sent in chat goes through the ingest and analysis workers and
ends in a pushed summary."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.conftest import make_key
from tests.line_mock import (
    ACCESS_TOKEN,
    CHANNEL_SECRET,
    TENANT,
    MockLine,
    event_body,
    file_event,
    sign,
    text_event,
)
from tests.live import Stack, live_env

pytestmark = pytest.mark.slow


@pytest.fixture
def mock_line() -> Iterator[MockLine]:
    mock = MockLine().start()
    try:
        yield mock
    finally:
        mock.stop()


@pytest.fixture
def stack(db: None, mock_line: MockLine) -> Iterator[tuple[Stack, dict[str, str]]]:
    env = live_env(
        LEXLEDGER_LINE__CHANNEL_SECRET=CHANNEL_SECRET,
        LEXLEDGER_LINE__CHANNEL_ACCESS_TOKEN=ACCESS_TOKEN,
        LEXLEDGER_LINE__API_HOST=mock_line.url,
        LEXLEDGER_LINE__DATA_API_HOST=mock_line.url,
        LEXLEDGER_LINE__TENANT_BY_DESTINATION=json.dumps({"Ubot0000": TENANT}),
        LEXLEDGER_LINE__DOCUMENT_POLL_S="0.5",
    )
    running = Stack()
    try:
        yield running, env
    finally:
        running.stop()


def test_webhook_acks_then_a_worker_replies_and_a_double_delivery_is_answered_once(
        stack, mock_line):
    running, env = stack
    url = running.start_api(env)
    running.start_worker(env, queues="interactive", concurrency=2)
    make_key(TENANT)

    event = text_event("What does the agreement say about renewal?", user_id="Ulive",
                       event_id="01HLIVEEVENT000001")
    body = event_body(event)
    headers = {"X-Line-Signature": sign(body), "Content-Type": "application/json"}

    def post(_: int) -> httpx.Response:
        return httpx.post(f"{url}/v1/line/webhook", content=body, headers=headers, timeout=10)

    started = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        responses = list(pool.map(post, range(2)))
    assert time.perf_counter() - started < 10
    assert [r.status_code for r in responses] == [200, 200]

    [reply] = mock_line.wait_for("/message/reply", timeout=60)
    assert reply.body["replyToken"] == event["replyToken"]
    assert mock_line.calls_to("/chat/loading/start")[0].body["chatId"] == "Ulive"
    time.sleep(1.0)  # a second answer would have arrived by now
    assert len(mock_line.calls_to("/message/reply")) == 1
    assert mock_line.calls_to("/message/push") == []


def test_pdf_sent_in_chat_is_processed_by_the_workers_and_summarised(stack, mock_line,
                                                                      samples_dir):
    running, env = stack
    url = running.start_api(env)
    running.start_worker(env, queues="interactive", concurrency=1)
    running.start_worker(env, queues="ingest,analysis", concurrency=1)
    pdf = (samples_dir / "financial-statement.pdf").read_bytes()
    mock_line.contents["m-live"] = pdf
    response = mock_line.deliver(httpx.Client(base_url=url, timeout=10),
                                 file_event("m-live", "financial-statement.pdf", len(pdf),
                                            user_id="Ulivefile"))
    assert response.status_code == 200
    [push] = mock_line.wait_for("/message/push", timeout=120)
    texts = mock_line.delivered_texts("Ulivefile")
    assert texts[0].startswith("Thank you, I received financial-statement.pdf")
    assert push.body["messages"][0]["text"].startswith(
        "financial-statement.pdf is ready: financial report, ")
