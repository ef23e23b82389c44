"""The LINE webhook as LINE uses it: signed deliveries to the real API (eager Celery, so each
event is handled before the response returns) with the official SDK talking to the mock LINE
server. Checks the exact reply, push and loading calls, signature refusal, redelivery dedupe,
reply-token expiry falling back to a push with a retry key, follow/unfollow, the rate limit and
Thai in, Thai out."""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.core.db import session_scope
from app.core.settings import get_settings
from app.models.line import LineEvent, LineEventStatus, LineTurn, LineUser
from app.models.search import Query
from tests.line_mock import (
    ACCESS_TOKEN,
    MockLine,
    event_body,
    follow_event,
    mock_line_channel,
    sign,
    text_event,
    unfollow_event,
)


@pytest.fixture
def line(db: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[MockLine]:
    yield from mock_line_channel(monkeypatch)


def upload(client, auth, path: Path) -> None:
    response = client.post("/v1/documents", headers=auth, files=[
        ("files", (path.name, io.BytesIO(path.read_bytes()), "application/pdf"))])
    assert response.status_code == 202, response.text


def stored_events() -> list[LineEvent]:
    with session_scope() as session:
        return list(session.scalars(select(LineEvent).order_by(LineEvent.created_at)))


def test_bad_or_missing_signature_is_refused_and_nothing_is_processed(client, line):
    body = event_body(text_event("hello"))
    forged = client.post("/v1/line/webhook", content=body,
                         headers={"X-Line-Signature": sign(body, "another-secret")})
    missing = client.post("/v1/line/webhook", content=body)
    tampered = client.post("/v1/line/webhook", content=body.replace(b"hello", b"hellp"),
                           headers={"X-Line-Signature": sign(body)})
    for response in (forged, missing, tampered):
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "invalid_signature"
    assert stored_events() == []
    assert line.calls == []


def test_malformed_but_signed_body_is_a_400(client, line):
    body = b'{"destination": "Ubot0000", "events": "not a list"}'
    response = client.post("/v1/line/webhook", content=body,
                           headers={"X-Line-Signature": sign(body)})
    assert response.status_code == 400
    assert "events" in response.json()["error"]["message"]
    assert stored_events() == []


def test_verify_button_and_unknown_events_are_acknowledged_and_ignored(client, line):
    body = event_body()
    empty = client.post("/v1/line/webhook", content=body,
                        headers={"X-Line-Signature": sign(body)})
    assert empty.status_code == 200 and empty.json() == {"events": 0}
    odd = {"type": "somethingNew", "mode": "active", "timestamp": 1,
           "webhookEventId": "01HODDEVENT", "deliveryContext": {"isRedelivery": False}}
    broken = {"type": "message", "webhookEventId": "01HBROKEN",
              "source": {"type": "user", "userId": "Ubroken"}}
    assert line.deliver(client, odd, broken).status_code == 200
    outcomes = {e.webhook_event_id: e.outcome for e in stored_events()}
    assert outcomes == {"01HODDEVENT": "ignored: unreadable or unknown 'somethingNew' event",
                        "01HBROKEN": "ignored: unreadable or unknown 'message' event"}
    assert line.calls == []


def test_question_gets_loading_then_a_cited_reply(client, auth, line, samples_dir):
    upload(client, auth, samples_dir / "services-agreement.pdf")
    event = text_event("Which state's law governs this agreement?", user_id="Uen1")
    response = line.deliver(client, event)
    assert response.status_code == 200
    assert response.json() == {"events": 1}

    assert [c.path for c in line.calls] == ["/v2/bot/chat/loading/start",
                                            "/v2/bot/message/reply"]
    loading, reply = line.calls
    assert loading.body == {"chatId": "Uen1", "loadingSeconds": 20}
    assert reply.headers["authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert reply.body["replyToken"] == event["replyToken"]
    [message] = reply.body["messages"]
    assert message["type"] == "text"
    assert "State of New York" in message["text"]
    assert re.search(r"\(services-agreement\.pdf, p\. \d+\)", message["text"])
    [stored] = stored_events()
    assert stored.status == LineEventStatus.DONE and stored.outcome.startswith("answered")


def test_redelivered_event_is_processed_once(client, line):
    event = text_event("What is the monthly fee?", user_id="Uredo", event_id="01HREDELIVERY0001")
    first = line.deliver(client, event)
    again = dict(event, deliveryContext={"isRedelivery": True})
    second = line.deliver(client, again)
    assert first.status_code == second.status_code == 200
    assert len(line.calls_to("/message/reply")) == 1
    [stored] = stored_events()
    assert stored.webhook_event_id == "01HREDELIVERY0001" and not stored.redelivery


def test_expired_reply_token_falls_back_to_a_push_that_is_delivered_once(client, line):
    from agents.line.tasks import line_event

    event = text_event("Is there a termination clause?", user_id="Ulate", age_s=3600)
    line.deliver(client, event)
    assert line.calls_to("/message/reply") == []
    [push] = line.calls_to("/message/push")
    key = push.headers["x-line-retry-key"]
    assert uuid.UUID(key)
    assert push.body["to"] == "Ulate"

    # the same event handled again (a worker crash before it was marked done): same key,
    # LINE refuses the duplicate and the user sees the answer once
    [stored] = stored_events()
    with session_scope() as session, session.begin():
        session.get(LineEvent, stored.id).status = LineEventStatus.RECEIVED
    line_event.apply(args=(str(stored.id),))
    pushes = line.calls_to("/message/push")
    assert [p.headers["x-line-retry-key"] for p in pushes] == [key, key]
    assert [p.delivered for p in pushes] == [True, False]
    assert len(line.delivered_texts("Ulate")) == 1
    assert stored_events()[0].status == LineEventStatus.DONE


def test_reply_token_refused_by_line_is_pushed_instead(client, line):
    event = text_event("hello there", user_id="Urefused")
    line.refused_reply_tokens.add(event["replyToken"])
    line.deliver(client, event)
    [reply] = line.calls_to("/message/reply")
    [push] = line.calls_to("/message/push")
    assert not reply.delivered and push.delivered
    assert push.body["messages"] == reply.body["messages"]
    assert "x-line-retry-key" in push.headers


def test_thai_question_gets_a_thai_answer_citing_the_thai_lease(client, auth, line, samples_dir):
    upload(client, auth, samples_dir / "thai-lease.pdf")
    line.deliver(client, text_event("ผู้ให้เช่าคือใคร", user_id="Uth1"))
    [reply] = line.calls_to("/message/reply")
    text = reply.body["messages"][0]["text"]
    assert text.startswith("ตามเอกสาร thai-lease.pdf")
    assert "ผู้ให้เช่า" in text
    assert re.search(r"\(thai-lease\.pdf, p\. \d+\)", text)


def test_question_outside_the_documents_gets_an_honest_not_found_in_its_language(client, line):
    line.deliver(client, text_event("Where is the nearest airport?", user_id="Unf"))
    line.deliver(client, text_event("สนามบินที่ใกล้ที่สุดอยู่ที่ไหน", user_id="Unf"))
    texts = line.delivered_texts("Unf")
    assert texts == ["I could not find this in your documents.",
                     "ไม่พบข้อมูลนี้ในเอกสารของคุณ"]


def test_follow_welcomes_in_the_profile_language_and_unfollow_is_recorded(client, line):
    line.profile_languages["Uthai"] = "th"
    line.deliver(client, follow_event("Uthai"), follow_event("Ueng"))
    assert {c.path for c in line.calls_to("/v2/bot/profile/Uthai")} == {
        "/v2/bot/profile/Uthai"}
    [thai_welcome] = line.delivered_texts("Uthai")
    [english_welcome] = line.delivered_texts("Ueng")
    assert thai_welcome.startswith("สวัสดี")
    assert english_welcome.startswith("Hello")

    line.deliver(client, unfollow_event("Uthai"))
    with session_scope() as session:
        users = {u.user_id: u for u in session.scalars(select(LineUser))}
    assert not users["Uthai"].following and users["Uthai"].unfollowed_at is not None
    assert users["Uthai"].language == "th"
    assert users["Ueng"].following
    assert len(line.calls_to("/message/reply")) == 2  # nothing is sent on unfollow


def test_rate_limit_answers_politely_in_the_users_language(client, line, monkeypatch):
    monkeypatch.setattr(get_settings().line, "user_messages_per_window", 2)
    for question in ("ค่าเช่าเท่าไหร่", "เงินประกันเท่าไหร่", "สัญญากี่ปี"):
        line.deliver(client, text_event(question, user_id="Ufast"))
    texts = line.delivered_texts("Ufast")
    assert len(texts) == 3
    assert texts[2].startswith("ขออภัยค่ะ คุณส่งข้อความเร็วเกิน")
    assert all("ขออภัยค่ะ คุณส่ง" not in text for text in texts[:2])
    # another user is not limited by the first one's messages
    line.deliver(client, text_event("hello", user_id="Uslow"))
    assert not line.delivered_texts("Uslow")[0].startswith("You are sending")


def test_conversation_memory_keeps_each_users_turns(client, line):
    line.deliver(client, text_event("first question", user_id="Umem"))
    line.deliver(client, text_event("second question", user_id="Umem"))
    line.deliver(client, text_event("other user", user_id="Uother"))
    with session_scope() as session:
        user = session.scalar(select(LineUser).where(LineUser.user_id == "Umem"))
        turns = list(session.scalars(select(LineTurn).where(LineTurn.line_user_id == user.id)
                                     .order_by(LineTurn.created_at)))
        total = session.scalar(select(func.count()).select_from(LineTurn))
    assert [(t.role, t.text) for t in turns][::2] == [("user", "first question"),
                                                      ("user", "second question")]
    assert [t.role for t in turns] == ["user", "assistant"] * 2
    assert total == 6
    # the support agent's memory: one conversation per LINE user
    with session_scope() as session:
        asked = [(q.conversation_id, q.question) for q in session.scalars(
            select(Query).where(Query.tenant_id == user.tenant_id)
            .order_by(Query.created_at))]
    mine = f"line:{user.tenant_id}:Umem"
    assert asked == [(mine, "first question"), (mine, "second question"),
                     (f"line:{user.tenant_id}:Uother", "other user")]


def test_webhook_refuses_to_start_in_prod_without_channel_secrets(monkeypatch):
    import asyncio

    from app.api.routes.line import require_channel_secrets
    from app.core.settings import PLACEHOLDER

    settings = get_settings()
    monkeypatch.setattr(settings, "env", "prod")
    monkeypatch.setattr(settings.line, "channel_secret", PLACEHOLDER)

    async def start() -> None:
        async with require_channel_secrets(None):
            pass

    with pytest.raises(RuntimeError, match="LEXLEDGER_LINE__CHANNEL_SECRET"):
        asyncio.run(start())
    monkeypatch.setattr(settings.line, "channel_secret", "a-real-secret")
    monkeypatch.setattr(settings.line, "channel_access_token", "a-real-token")
    asyncio.run(start())
