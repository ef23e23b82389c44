"""Wire formats of the gateway's OpenAI-compatible API: the ``{"error": {message, type, param,
code}}`` body with its status, the light inspection of a chat request the gateway needs (model,
stream, usage option) without validating or rebuilding the whole body, Server-Sent-Events framing,
and the ``/v1/models`` list. Request bodies are passed through to the backend as JSON
dictionaries so that ``response_format``, ``tools`` and any field a backend understands arrive
untouched; only ``model`` and ``stream_options`` are rewritten."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import BaseModel

from app.core.errors import InvalidInput, LexLedgerError

SSE_DONE = b"data: [DONE]\n\n"


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


class GatewayError(LexLedgerError):
    """A domain error plus what OpenAI's error body carries beyond it: the offending ``param``,
    a more specific ``code`` and response headers (``Retry-After``)."""

    def __init__(self, base: LexLedgerError, *, code: str | None = None, param: str | None = None,
                 headers: list[tuple[bytes, bytes]] | None = None) -> None:
        super().__init__(base.message)
        self.status_code = base.status_code
        self.type = base.type
        self.code = code or base.code
        self.param = param
        self.headers = headers or []
        self.__cause__ = base


def error_body(exc: LexLedgerError, *, code: str | None = None,
               param: str | None = None) -> bytes:
    """The JSON error body for ``exc`` in OpenAI's shape."""
    detail = ErrorDetail(message=exc.message, type=exc.type,
                         param=param if param is not None else getattr(exc, "param", None),
                         code=code or exc.code)
    return ErrorBody(error=detail).model_dump_json().encode()


def upstream_error_body(status: int, raw: bytes) -> bytes:
    """An upstream's error response normalised to OpenAI's shape (vLLM and most providers
    already use it; older servers put the fields at the top level)."""
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        parsed = None
    fields: dict[str, Any] = {}
    if isinstance(parsed, dict):
        inner = parsed.get("error")
        fields = inner if isinstance(inner, dict) else parsed
    message = fields.get("message") or raw.decode(errors="replace")[:500] or f"HTTP {status}"
    err_type = fields.get("type") or ("invalid_request_error" if status < 500 else "server_error")
    code = fields.get("code")
    param = fields.get("param")
    detail = ErrorDetail(message=str(message), type=str(err_type),
                         param=None if param is None else str(param),
                         code=None if code is None else str(code))
    return ErrorBody(error=detail).model_dump_json().encode()


@dataclass(slots=True)
class ChatRequest:
    """A parsed chat-completions body and the few fields the gateway acts on."""

    body: dict[str, Any]
    model: str
    stream: bool
    include_usage: bool

    @classmethod
    def parse(cls, raw: bytes) -> ChatRequest:
        """Parses the request body; raises InvalidInput (400) with the offending ``param``."""
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise GatewayError(InvalidInput(f"request body is not valid JSON: {exc}")) from exc
        if not isinstance(body, dict):
            raise GatewayError(InvalidInput("request body must be a JSON object"))
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise GatewayError(InvalidInput("'model' is required and must be a string"),
                               param="model")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise GatewayError(InvalidInput("'messages' must be a non-empty array"),
                               param="messages")
        stream = body.get("stream") is True
        options = body.get("stream_options")
        include_usage = bool(stream and isinstance(options, dict) and options.get("include_usage"))
        return cls(body=body, model=model, stream=stream, include_usage=include_usage)

    def upstream_payload(self, upstream_model: str) -> bytes:
        """The body for a backend: its own model name, and usage always requested on streams
        so that every stream can be metered."""
        body = dict(self.body)
        body["model"] = upstream_model
        if self.stream:
            options = dict(body.get("stream_options") or {})
            options["include_usage"] = True
            body["stream_options"] = options
        return orjson.dumps(body)


def model_list(models: list[str], owned_by: str = "lexledger") -> bytes:
    """The ``GET /v1/models`` body."""
    created = int(time.time())
    return orjson.dumps({
        "object": "list",
        "data": [{"id": m, "object": "model", "created": created, "owned_by": owned_by}
                 for m in models],
    })


def sse_error_event(exc: LexLedgerError) -> bytes:
    """An error delivered inside an already-started stream; the OpenAI client raises on it."""
    return b"data: " + error_body(exc) + b"\n\n"
