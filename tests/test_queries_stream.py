"""Answer streams on real Redis and in-process: a reader that subscribes late still gets every
event from the first, in order, and stops after the final one; a reader whose answer never
comes gets an ``error`` event instead of waiting forever."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid

from app.streams import MemoryAnswerStream, RedisAnswerStream
from tests.conftest import REDIS_URL, RUN_ID


def collect(stream, query_id: str, timeout_s: float = 5.0) -> list[tuple[str, dict]]:
    async def run() -> list[tuple[str, dict]]:
        return [event async for event in stream.events(query_id, timeout_s=timeout_s)]

    return asyncio.run(run())


def test_redis_stream_delivers_every_event_to_a_late_reader_in_order() -> None:
    stream = RedisAnswerStream(REDIS_URL, ttl_s=30, prefix=f"lexledger-test-{RUN_ID}:")
    query_id = str(uuid.uuid4())
    stream.publish(query_id, "token", {"text": "ค่าเช่า "})
    stream.publish(query_id, "token", {"text": "35,000 บาท"})

    def finish_later() -> None:
        time.sleep(0.3)
        stream.publish(query_id, "answer", {"answer": "ค่าเช่า 35,000 บาท [1]"})
        stream.publish(query_id, "token", {"text": "after the end"})

    threading.Thread(target=finish_later).start()
    events = collect(stream, query_id)
    assert [name for name, _ in events] == ["token", "token", "answer"]
    assert events[1][1] == {"text": "35,000 บาท"}
    assert events[2][1]["answer"].endswith("[1]")


def test_a_missing_answer_ends_with_an_error_event() -> None:
    for stream in (MemoryAnswerStream(ttl_s=30),
                   RedisAnswerStream(REDIS_URL, ttl_s=30, prefix=f"lexledger-test-{RUN_ID}:")):
        query_id = str(uuid.uuid4())
        stream.publish(query_id, "token", {"text": "partial"})
        started = time.monotonic()
        events = collect(stream, query_id, timeout_s=0.5)
        assert [name for name, _ in events] == ["token", "error"]
        assert "no answer" in events[-1][1]["message"]
        assert time.monotonic() - started < 3


def test_memory_streams_keep_queries_apart() -> None:
    stream = MemoryAnswerStream(ttl_s=30)
    stream.publish("a", "answer", {"answer": "A"})
    stream.publish("b", "answer", {"answer": "B"})
    assert collect(stream, "b") == [("answer", {"answer": "B"})]
