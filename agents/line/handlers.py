"""What the bot does with each stored LINE event: follow (welcome in the user's language) and
unfollow, text questions (rate limit, loading animation, the support agent's cited answer over
the tenant's documents, split to LINE's limits, reply or push), files (see
``agents.line.documents``) and everything else (a short note on what the bot understands).
An event is processed once: it is claimed by its row's status and marked done at the end."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from linebot.v3.webhooks import (
    Event,
    FileMessageContent,
    FollowEvent,
    GroupSource,
    MessageEvent,
    RoomSource,
    TextMessageContent,
    UnfollowEvent,
)

from agents.line.answering import answer_question
from agents.line.client import LineClient, LineRequestRefused, Recipient
from agents.line.documents import FollowUp, receive_file
from agents.line.language import Language, detect_language, language_from_profile
from agents.line.messages import canned, split_text
from app.core.db import session_scope
from app.core.errors import LexLedgerError, UpstreamUnavailable
from app.core.settings import get_settings
from app.services.line import (
    claim_event,
    finish_event,
    get_or_create_user,
    messages_in_window,
    remember_turns,
    set_following,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredEvent:
    id: uuid.UUID
    key: str
    tenant_id: uuid.UUID
    payload: dict[str, Any]


@dataclass(frozen=True)
class Handled:
    """What processing an event did, and the task to queue once it is over."""

    outcome: str
    follow_up: FollowUp | None = None


async def handle_event(event_id: str) -> Handled | None:
    """Processes one stored event and returns what was done (also stored as its outcome);
    None when the event is gone or was already processed."""
    stored = _load(event_id)
    if stored is None:
        return None
    try:
        event = Event.from_dict(stored.payload)
    except ValueError:  # a type this SDK does not know, or fields it cannot read
        return Handled(_finish(stored, "ignored: unreadable or unknown "
                                       f"{stored.payload.get('type')!r} event"))
    async with LineClient(get_settings().line) as client:
        try:
            outcome, follow_up = await _dispatch(client, stored, event)
        except UpstreamUnavailable:
            raise  # the task retries; the event stays claimable
        except (LexLedgerError, LineRequestRefused) as exc:
            log.warning("LINE event %s failed: %s", stored.key, exc)
            await _apologise(client, stored, event)
            return Handled(_finish(stored, f"failed: {exc}", failed=True))
    return Handled(_finish(stored, outcome), follow_up)


def _load(event_id: str) -> StoredEvent | None:
    with session_scope() as session, session.begin():
        row = claim_event(session=session, event_id=event_id)
        if row is None:
            return None
        return StoredEvent(row.id, row.webhook_event_id, row.tenant_id, dict(row.payload))


def _finish(stored: StoredEvent, outcome: str, failed: bool = False) -> str:
    with session_scope() as session, session.begin():
        row = claim_event(session=session, event_id=stored.id)
        if row is not None:
            finish_event(session=session, event=row, outcome=outcome, failed=failed)
    return outcome


def recipient_of(event: Any, key: str) -> Recipient | None:
    """Where responses to ``event`` go: its group or room, else the user who sent it."""
    source = getattr(event, "source", None)
    if isinstance(source, GroupSource):
        chat_id = source.group_id
    elif isinstance(source, RoomSource):
        chat_id = source.room_id
    else:
        chat_id = getattr(source, "user_id", None)
    if not chat_id:
        return None
    return Recipient(chat_id=chat_id, reply_token=getattr(event, "reply_token", None),
                     event_time_ms=getattr(event, "timestamp", None), event_key=key)


async def _dispatch(client: LineClient, stored: StoredEvent,
                    event: Event) -> tuple[str, FollowUp | None]:
    user_id = getattr(getattr(event, "source", None), "user_id", None)
    recipient = recipient_of(event, stored.key)
    if isinstance(event, UnfollowEvent) and user_id:
        _set_follow(stored, user_id, following=False, language=None)
        return "unfollowed", None
    if isinstance(event, FollowEvent) and user_id and recipient:
        language = language_from_profile(await client.profile_language(user_id))
        _set_follow(stored, user_id, following=True, language=language)
        how = await client.send(recipient, [canned("welcome", language)], purpose="welcome")
        return f"welcomed ({language}, {how})", None
    if not isinstance(event, MessageEvent) or recipient is None or not user_id:
        return f"ignored: {stored.payload.get('type')} event", None

    message = event.message
    text = message.text if isinstance(message, TextMessageContent) else None
    language, over_limit = _note_message(stored, user_id, text)
    if over_limit:
        how = await client.send(recipient, [canned("rate_limited", language)], purpose="limit")
        return f"rate limited ({how})", None
    if text is not None:
        return await _answer(client, stored, recipient, user_id, text, language), None
    if isinstance(message, FileMessageContent):
        return await receive_file(client, event_id=stored.id, tenant_id=stored.tenant_id,
                                  user_id=user_id, recipient=recipient, message=message,
                                  language=language)
    how = await client.send(recipient, [canned("unsupported", language)], purpose="unsupported")
    return f"unsupported {message.type} message ({how})", None


def _set_follow(stored: StoredEvent, user_id: str, *, following: bool,
                language: Language | None) -> None:
    with session_scope() as session, session.begin():
        user = get_or_create_user(session=session, tenant_id=stored.tenant_id, user_id=user_id,
                                  language=language)
        set_following(session=session, user=user, following=following)


def _note_message(stored: StoredEvent, user_id: str, text: str | None) -> tuple[Language, bool]:
    """The language to answer in (a text's own, else the user's last) and whether the user is
    over their message rate."""
    limit = get_settings().line.user_messages_per_window
    with session_scope() as session, session.begin():
        language = detect_language(text) if text is not None else None
        user = get_or_create_user(session=session, tenant_id=stored.tenant_id, user_id=user_id,
                                  language=language)
        count = messages_in_window(session=session, tenant_id=stored.tenant_id, user_id=user_id)
        return detect_language(text) if text else _language(user.language), count > limit


def _language(code: str) -> Language:
    return "th" if code == "th" else "en"


async def _answer(client: LineClient, stored: StoredEvent, recipient: Recipient, user_id: str,
                  question: str, language: Language) -> str:
    if recipient.chat_id == user_id:  # LINE shows the animation in one-to-one chats only
        await client.show_loading(user_id)
    answer = await answer_question(tenant_id=stored.tenant_id, user_id=user_id,
                                   question=question)
    parts = split_text(answer.text)
    how = await client.send(recipient, parts)
    with session_scope() as session, session.begin():
        user = get_or_create_user(session=session, tenant_id=stored.tenant_id, user_id=user_id)
        remember_turns(session=session, user=user, question=question, answer=answer.text)
    found = "answered" if answer.found else "not found"
    return f"{found} in {len(parts)} message(s) ({answer.language or language}, {how})"


async def _apologise(client: LineClient, stored: StoredEvent, event: Event) -> None:
    recipient = recipient_of(event, stored.key)
    if recipient is None or isinstance(event, UnfollowEvent):
        return
    text = getattr(getattr(event, "message", None), "text", None)
    language = detect_language(text) if isinstance(text, str) else "en"
    try:
        await client.send(recipient, [canned("error", language)], purpose="error")
    except (LexLedgerError, LineRequestRefused) as exc:
        log.warning("could not tell %s about the failure: %s", recipient.chat_id, exc)
