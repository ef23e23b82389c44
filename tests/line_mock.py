"""A local stand-in for LINE's Messaging API and data API, served by uvicorn on a free loopback
port, that the official SDK talks to through ``Configuration(host=...)``. It records every call
(path, headers, JSON body) and behaves like LINE where the bot depends on it: a reply token works
once and can be made to fail as expired, a push whose ``X-Line-Retry-Key`` was already accepted
answers 409 and is not delivered again, profiles carry a language, and message content is served
from what a test put there. Also signs webhook bodies with the real HMAC."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

CHANNEL_SECRET = "mock-channel-secret-0123456789abcdef"
ACCESS_TOKEN = "mock-channel-access-token"
# the tenant the mock channel's bot (destination "Ubot0000") is mapped to
TENANT = "acme"


def sign(body: bytes, secret: str = CHANNEL_SECRET) -> str:
    """LINE's X-Line-Signature of a webhook body."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@dataclass
class LineCall:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    delivered: bool


@dataclass
class MockLine:
    """The mock server's state; tests read ``calls`` and set the rest."""

    calls: list[LineCall] = field(default_factory=list)
    contents: dict[str, bytes] = field(default_factory=dict)
    profile_languages: dict[str, str] = field(default_factory=dict)
    refused_reply_tokens: set[str] = field(default_factory=set)
    used_reply_tokens: set[str] = field(default_factory=set)
    accepted_retry_keys: set[str] = field(default_factory=set)
    reply_delay_s: float = 0.0
    url: str = ""
    _reply_chats: dict[str, str] = field(default_factory=dict)
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> MockLine:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        config = uvicorn.Config(self._app(), host="127.0.0.1", port=port, log_level="warning",
                                lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("mock LINE server did not start")
            time.sleep(0.02)
        self.url = f"http://127.0.0.1:{port}"
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(10)

    def calls_to(self, suffix: str) -> list[LineCall]:
        with self._lock:
            return [call for call in self.calls if call.path.endswith(suffix)]

    def delivered_texts(self, chat_id: str) -> list[str]:
        """Every text the chat's user actually saw, in order (replies and accepted pushes)."""
        texts: list[str] = []
        with self._lock:
            for call in self.calls:
                if not call.delivered or not isinstance(call.body, dict):
                    continue
                to = call.body.get("to") or self._reply_chats.get(call.body.get("replyToken"))
                if to == chat_id:
                    texts += [m["text"] for m in call.body.get("messages", [])]
        return texts

    def wait_for(self, suffix: str, count: int = 1, timeout: float = 30.0) -> list[LineCall]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            calls = self.calls_to(suffix)
            if len(calls) >= count:
                return calls
            time.sleep(0.05)
        raise AssertionError(f"expected {count} call(s) to {suffix}; got {self.calls}")

    def deliver(self, http: Any, *events: dict[str, Any], url: str = "/v1/line/webhook",
                signature: str | None = None) -> Any:
        """Posts a signed webhook with ``events`` through ``http`` (a TestClient or an httpx
        client) and remembers their reply tokens, so replies can be traced to their chat."""
        body = event_body(*events)
        with self._lock:
            for event in events:
                if event.get("replyToken"):
                    self._reply_chats[event["replyToken"]] = event["source"]["userId"]
        return http.post(url, content=body, headers={
            "Content-Type": "application/json",
            "X-Line-Signature": sign(body) if signature is None else signature})

    def _record(self, request: Request, body: Any, delivered: bool) -> None:
        with self._lock:
            self.calls.append(LineCall(request.method, request.url.path,
                                       {k.lower(): v for k, v in request.headers.items()},
                                       body, delivered))

    def _app(self) -> Starlette:
        async def reply(request: Request) -> Response:
            body = await request.json()
            token = body.get("replyToken")
            if self.reply_delay_s:
                await asyncio.sleep(self.reply_delay_s)
            if token in self.refused_reply_tokens or token in self.used_reply_tokens:
                self._record(request, body, delivered=False)
                return JSONResponse({"message": "Invalid reply token"}, status_code=400)
            self.used_reply_tokens.add(token)
            self._record(request, body, delivered=True)
            return JSONResponse({"sentMessages": _sent(body)})

        async def push(request: Request) -> Response:
            body = await request.json()
            key = request.headers.get("x-line-retry-key")
            if key is not None:
                try:
                    uuid.UUID(key)
                except ValueError:
                    self._record(request, body, delivered=False)
                    return JSONResponse({"message": "The retry key is not a UUID"}, 400)
                if key in self.accepted_retry_keys:
                    self._record(request, body, delivered=False)
                    return JSONResponse({"message": "The retry key is already accepted",
                                         "sentMessages": _sent(body)}, status_code=409,
                                        headers={"x-line-accepted-request-id": key})
                self.accepted_retry_keys.add(key)
            self._record(request, body, delivered=True)
            return JSONResponse({"sentMessages": _sent(body)})

        async def loading(request: Request) -> Response:
            self._record(request, await request.json(), delivered=True)
            return JSONResponse({}, status_code=202)

        async def profile(request: Request) -> Response:
            user_id = request.path_params["user_id"]
            self._record(request, None, delivered=True)
            return JSONResponse({"userId": user_id, "displayName": "Khun Test",
                                 "language": self.profile_languages.get(user_id, "en")})

        async def content(request: Request) -> Response:
            message_id = request.path_params["message_id"]
            self._record(request, None, delivered=message_id in self.contents)
            if message_id not in self.contents:
                return JSONResponse({"message": "Not found"}, status_code=404)
            return Response(self.contents[message_id], media_type="application/octet-stream")

        return Starlette(routes=[
            Route("/v2/bot/message/reply", reply, methods=["POST"]),
            Route("/v2/bot/message/push", push, methods=["POST"]),
            Route("/v2/bot/chat/loading/start", loading, methods=["POST"]),
            Route("/v2/bot/profile/{user_id}", profile, methods=["GET"]),
            Route("/v2/bot/message/{message_id}/content", content, methods=["GET"]),
        ])


def _sent(body: dict[str, Any]) -> list[dict[str, str]]:
    return [{"id": str(uuid.uuid4().int)[:18], "quoteToken": uuid.uuid4().hex}
            for _ in body.get("messages", [])]


def event_body(*events: dict[str, Any], destination: str = "Ubot0000") -> bytes:
    """A webhook body as LINE sends it."""
    return json.dumps({"destination": destination, "events": list(events)},
                      ensure_ascii=False).encode()


def text_event(text: str, *, user_id: str = "U1000", reply_token: str | None = None,
               event_id: str | None = None, redelivery: bool = False,
               age_s: float = 0.0) -> dict[str, Any]:
    """A text message event from a one-to-one chat, ``age_s`` seconds old."""
    return _event("message", user_id=user_id, reply_token=reply_token, event_id=event_id,
                  redelivery=redelivery, age_s=age_s,
                  message={"type": "text", "id": uuid.uuid4().hex[:18], "text": text,
                           "quoteToken": uuid.uuid4().hex})


def file_event(message_id: str, file_name: str, size: int, *, user_id: str = "U1000",
               reply_token: str | None = None) -> dict[str, Any]:
    return _event("message", user_id=user_id, reply_token=reply_token,
                  message={"type": "file", "id": message_id, "fileName": file_name,
                           "fileSize": size})


def follow_event(user_id: str, *, reply_token: str | None = None) -> dict[str, Any]:
    return _event("follow", user_id=user_id, reply_token=reply_token,
                  follow={"isUnblocked": False})


def unfollow_event(user_id: str) -> dict[str, Any]:
    event = _event("unfollow", user_id=user_id)
    event.pop("replyToken")
    return event


def _event(kind: str, *, user_id: str, reply_token: str | None = None,
           event_id: str | None = None, redelivery: bool = False, age_s: float = 0.0,
           **extra: Any) -> dict[str, Any]:
    return {"type": kind, "mode": "active",
            "timestamp": int((time.time() - age_s) * 1000),
            "source": {"type": "user", "userId": user_id},
            "webhookEventId": event_id or uuid.uuid4().hex[:26].upper(),
            "deliveryContext": {"isRedelivery": redelivery},
            "replyToken": reply_token or uuid.uuid4().hex, **extra}


def mock_line_channel(monkeypatch: pytest.MonkeyPatch) -> Iterator[MockLine]:
    """A started mock LINE server with the channel settings pointed at it; for a test module's
    ``line`` fixture: ``yield from mock_line_channel(monkeypatch)``."""
    mock = MockLine().start()
    from app.core.settings import get_settings

    settings = get_settings().line
    for name, value in {"channel_secret": CHANNEL_SECRET, "channel_access_token": ACCESS_TOKEN,
                        "api_host": mock.url, "data_api_host": mock.url,
                        "tenant_by_destination": {"Ubot0000": TENANT},
                        # a loaded machine can take a while on a first answer; tests that
                        # want an expired token send an event older than this
                        "reply_token_ttl_s": 600.0}.items():
        monkeypatch.setattr(settings, name, value)
    try:
        yield mock
    finally:
        mock.stop()
