"""Relaying a backend's Server-Sent-Events stream to the client. Bytes from the backend are cut
into events; each event is passed on as it is, except that the backend's model name becomes the
public one, the usage chunk the gateway asked for on the client's behalf is taken out when the
client did not ask for it, and the usage numbers are read for metering. Until the first token
the relay also judges each event, so the caller can tell a stream that never produced anything
(and can still go to another backend) from one that has started."""

from __future__ import annotations

from typing import Any

import orjson

_DONE = b"data: [DONE]"


def _is_token_chunk(chunk: dict[str, Any]) -> bool:
    for choice in chunk.get("choices") or ():
        if choice.get("finish_reason") is not None:
            return True
        delta = choice.get("delta") or {}
        if delta.get("content") or delta.get("tool_calls") or delta.get("reasoning_content"):
            return True
    return False


class StreamBroken(Exception):
    """The backend sent an error event instead of tokens."""


class SseRelay:
    """Event-by-event transformation of one upstream stream."""

    def __init__(self, upstream_model: str, public_model: str, include_usage: bool) -> None:
        self._buffer = b""
        self._rename = (f'"model":"{upstream_model}"'.encode(),
                        f'"model":"{public_model}"'.encode()) \
            if upstream_model != public_model else None
        self.include_usage = include_usage
        self.started = False
        self.done = False
        self.prompt_tokens = 0
        self.completion_tokens = 0

    def feed(self, data: bytes) -> bytes:
        """The bytes to send on for ``data``; raises StreamBroken on an error event that
        arrives before the first token."""
        buffer = self._buffer + data if self._buffer else data
        if b"\r\n" in buffer:
            buffer = buffer.replace(b"\r\n", b"\n")
        parts = buffer.split(b"\n\n")
        self._buffer = parts.pop()
        out: list[bytes] = []
        for event in parts:
            if not event:
                continue
            relayed = self._event(event)
            if relayed is not None:
                out.append(relayed)
        return b"".join(out)

    def _event(self, event: bytes) -> bytes | None:
        if event.startswith(_DONE):
            self.done = True
            self.started = True
            return _DONE + b"\n\n"
        if self._rename is not None:
            event = event.replace(*self._rename)
        has_usage = b'"usage"' in event and b'"usage":null' not in event
        if self.started and not has_usage:
            return event + b"\n\n"
        payload = self._payload(event)
        if payload is None:
            return event + b"\n\n"
        if "error" in payload and not self.started:
            error = payload["error"]
            message = error.get("message") if isinstance(error, dict) else error
            raise StreamBroken(str(message))
        usage = payload.get("usage")
        if isinstance(usage, dict):
            self.prompt_tokens = int(usage.get("prompt_tokens") or 0)
            self.completion_tokens = int(usage.get("completion_tokens") or 0)
            if not self.include_usage:
                if not payload.get("choices"):
                    return None
                payload.pop("usage")
                return b"data: " + orjson.dumps(payload) + b"\n\n"
        if not self.started and _is_token_chunk(payload):
            self.started = True
        return event + b"\n\n"

    @staticmethod
    def _payload(event: bytes) -> dict[str, Any] | None:
        data = b"".join(line[5:].lstrip() for line in event.split(b"\n")
                        if line.startswith(b"data:"))
        if not data:
            return None
        try:
            parsed = orjson.loads(data)
        except orjson.JSONDecodeError:
            return None
        return parsed if isinstance(parsed, dict) else None
