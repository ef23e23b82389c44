"""LINE's Messaging API through the official SDK's async clients: the loading animation, user
profiles, message content (files sent in chat) and sending text. Sending replies with the
event's reply token while it is still valid and pushes otherwise; every push carries an
``X-Line-Retry-Key`` derived from the event, so a push retried after a crash or a timeout is
accepted by LINE once and never shown twice."""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from types import TracebackType

from aiohttp import ClientError
from linebot.v3.messaging import (
    ApiException,
    AsyncApiClient,
    AsyncMessagingApi,
    AsyncMessagingApiBlob,
    Configuration,
    PushMessageRequest,
    ReplyMessageRequest,
    ShowLoadingAnimationRequest,
    TextMessage,
)

from agents.line.messages import batches
from app.core.errors import UpstreamUnavailable
from app.core.settings import LineSettings

log = logging.getLogger(__name__)

# every retry key of a LINE event is a name in this namespace: stable across task retries
RETRY_KEY_NAMESPACE = uuid.UUID("6f1d8a52-4c1e-4d55-9a8e-2f0c9b7a1e31")
CONFLICT = 409  # LINE: a request with this retry key was already accepted


@dataclass(frozen=True)
class Recipient:
    """Where a response goes: the chat to push to, the reply token while it lasts, and the
    event key the push retry keys derive from."""

    chat_id: str
    reply_token: str | None
    event_time_ms: int | None
    event_key: str


def retry_key(event_key: str, purpose: str, batch: int) -> str:
    """The ``X-Line-Retry-Key`` of one push for an event: the same on every retry."""
    return str(uuid.uuid5(RETRY_KEY_NAMESPACE, f"{event_key}:{purpose}:{batch}"))


def reply_token_valid(recipient: Recipient, ttl_s: float, now_ms: float | None = None) -> bool:
    """Whether the event's reply token is still young enough to use."""
    if not recipient.reply_token or recipient.event_time_ms is None:
        return False
    now_ms = time.time() * 1000 if now_ms is None else now_ms
    return now_ms - recipient.event_time_ms < ttl_s * 1000


class LineClient:
    """One conversation's worth of LINE calls; use as ``async with LineClient(settings)``."""

    def __init__(self, settings: LineSettings) -> None:
        self.settings = settings
        self._api_client = AsyncApiClient(Configuration(
            host=settings.api_host, access_token=settings.channel_access_token))
        self._blob_client = AsyncApiClient(Configuration(
            host=settings.data_api_host, access_token=settings.channel_access_token))
        self.messaging = AsyncMessagingApi(self._api_client)
        self.blob = AsyncMessagingApiBlob(self._blob_client)

    async def __aenter__(self) -> LineClient:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self._api_client.close()
        await self._blob_client.close()

    async def show_loading(self, chat_id: str) -> None:
        """Shows the typing animation in a one-to-one chat; a failure only loses the animation."""
        seconds = min(60, max(5, self.settings.loading_seconds // 5 * 5))
        try:
            await self.messaging.show_loading_animation(
                ShowLoadingAnimationRequest(chatId=chat_id, loadingSeconds=seconds))
        except (ApiException, ClientError) as exc:
            log.warning("loading animation for %s failed: %s", chat_id, _short(exc))

    async def profile_language(self, user_id: str) -> str | None:
        """The language of the user's LINE app, or None when the profile is unavailable."""
        try:
            profile = await self.messaging.get_profile(user_id)
        except (ApiException, ClientError) as exc:
            log.info("no profile for %s: %s", user_id, _short(exc))
            return None
        return profile.language

    async def download(self, message_id: str) -> bytes:
        """The content of a file, image or audio message, from LINE's data API."""
        try:
            return bytes(await self.blob.get_message_content(message_id))
        except ApiException as exc:
            if exc.status is not None and (exc.status >= 500 or exc.status == 429):
                raise UpstreamUnavailable(f"LINE content API: {_short(exc)}") from exc
            raise
        except ClientError as exc:
            raise UpstreamUnavailable(f"LINE content API unreachable: {exc}") from exc

    async def send(self, recipient: Recipient, texts: list[str], purpose: str = "answer") -> str:
        """Sends ``texts`` (each already under the size limit), five per call: the first call
        as a reply while the token is valid, the rest (and a refused reply) as pushes with a
        retry key. Returns "reply", "push" or "reply+push"."""
        ways: list[str] = []
        for index, batch in enumerate(batches(texts)):
            messages = [TextMessage(text=text) for text in batch]
            if index == 0 and reply_token_valid(recipient, self.settings.reply_token_ttl_s) \
                    and await self._reply(recipient, messages):
                ways.append("reply")
                continue
            await self._push(recipient, messages, retry_key(recipient.event_key, purpose, index))
            ways.append("push")
        return "+".join(dict.fromkeys(ways)) or "nothing"

    async def _reply(self, recipient: Recipient, messages: list[TextMessage]) -> bool:
        try:
            await self.messaging.reply_message(ReplyMessageRequest(
                replyToken=recipient.reply_token, messages=messages))
        except ApiException as exc:
            if exc.status == 400:  # expired or already used: the push carries it instead
                log.info("reply token refused for %s, pushing: %s", recipient.chat_id,
                         _short(exc))
                return False
            raise _transient_or_fatal(exc) from exc
        except ClientError as exc:
            raise UpstreamUnavailable(f"LINE API unreachable: {exc}") from exc
        return True

    async def _push(self, recipient: Recipient, messages: list[TextMessage], key: str) -> None:
        try:
            await self.messaging.push_message(
                PushMessageRequest(to=recipient.chat_id, messages=messages), x_line_retry_key=key)
        except ApiException as exc:
            if exc.status == CONFLICT:
                log.info("push %s was already accepted by LINE", key)
                return
            raise _transient_or_fatal(exc) from exc
        except ClientError as exc:
            raise UpstreamUnavailable(f"LINE API unreachable: {exc}") from exc


class LineRequestRefused(Exception):
    """LINE refused a request for a reason retrying cannot fix (bad token, bad request)."""


def _transient_or_fatal(exc: ApiException) -> Exception:
    if exc.status is not None and (exc.status >= 500 or exc.status == 429):
        return UpstreamUnavailable(f"LINE API: {_short(exc)}")
    return LineRequestRefused(_short(exc))


def _short(exc: Exception) -> str:
    if isinstance(exc, ApiException):
        body = exc.body.decode(errors="replace") if isinstance(exc.body, bytes) else exc.body
        return f"HTTP {exc.status}: {str(body or exc.reason)[:300]}"
    return str(exc)[:300]
