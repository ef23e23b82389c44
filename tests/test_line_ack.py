"""The LINE webhook's acknowledgement against a real API process and a real broker: 50 deliveries
at once are each acknowledged only once their task is in Redis (none lost, none twice, the
customer's text kept out of the task's printable form), and a broker that cannot be reached
gets LINE a 503 so it redelivers later."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import redis

from app.api.routes.line import DELIVERY_TASK
from tests.conftest import REDIS_URL, RUN_ID
from tests.line_mock import ACCESS_TOKEN, CHANNEL_SECRET, event_body, sign, text_event
from tests.live import free_port, live_env

LINE_ENV = {"LEXLEDGER_LINE__CHANNEL_SECRET": CHANNEL_SECRET,
            "LEXLEDGER_LINE__CHANNEL_ACCESS_TOKEN": ACCESS_TOKEN}


async def deliver(url: str, bodies: list[bytes]) -> list[tuple[int, dict]]:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=len(bodies))) as web:
        async def one(body: bytes) -> tuple[int, dict]:
            async with web.post(f"{url}/v1/line/webhook", data=body, headers={
                    "X-Line-Signature": sign(body), "Content-Type": "application/json"}) as got:
                return got.status, await got.json()

        return list(await asyncio.gather(*(one(body) for body in bodies)))


def test_fifty_deliveries_at_once_are_each_queued_before_their_ack(stack):
    prefix = f"lexledger-test-{RUN_ID}-ack:"
    broker = redis.Redis.from_url(REDIS_URL)
    url = stack.start_api(live_env(LEXLEDGER_CELERY__KEY_PREFIX=prefix, **LINE_ENV))
    texts = [f"question {i}: what is the monthly fee?" for i in range(50)]
    bodies = [event_body(text_event(text, user_id=f"Uack{i}")) for i, text in enumerate(texts)]
    try:
        answers = asyncio.run(deliver(url, bodies))

        assert answers == [(200, {"events": 1})] * 50
        # no worker runs: every acknowledged delivery is waiting in the interactive queue
        messages = [json.loads(raw) for raw in broker.lrange(f"{prefix}interactive", 0, -1)]
        assert len(messages) == 50
        assert {m["headers"]["task"] for m in messages} == {DELIVERY_TASK}
        # what logs and monitoring print of a task: the argument types, not the customer's text
        assert {m["headers"]["argsrepr"] for m in messages} == {"(str, list)"}
    finally:
        keys = list(broker.scan_iter(f"{prefix}*"))
        if keys:
            broker.delete(*keys)


def test_an_unreachable_broker_gets_a_503_so_line_redelivers(stack):
    closed = f"redis://127.0.0.1:{free_port()}/0"
    url = stack.start_api(live_env(LEXLEDGER_CELERY__BROKER_URL=closed, **LINE_ENV))

    [(status, body)] = asyncio.run(deliver(url, [event_body(text_event("hello"))]))

    assert status == 503
    assert body["error"]["code"] == "upstream_unavailable"
    assert "LINE will redeliver" in body["error"]["message"]
