"""Refuses request bodies over the limit before they are read: the declared Content-Length is
checked as the request arrives, so an oversized upload is answered 413 without being spooled
(each file is checked again while it is stored)."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from app.api.errors import error_response


class BodySizeGuard:
    def __init__(self, app: ASGIApp, *, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == b"content-length" and value.isdigit() and int(value) > self.max_body:
                    response = error_response(
                        413, f"request body of {int(value)} bytes is over the {self.max_body} "
                        "byte limit", "invalid_request_error", "file_too_large")
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)
