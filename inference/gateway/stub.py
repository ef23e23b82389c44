"""A fast, scriptable OpenAI-compatible upstream for the gateway's tests and benchmark: it answers
chat completions (JSON or an SSE stream of ``chunks`` tokens with the usage chunk and ``[DONE]``)
with no model behind them, and can be switched at run time (``POST /_stub/mode``) to be slow, to
fail with a status (and ``Retry-After``), or to break streams before their first token. Its
request count is at ``GET /_stub/stats``. Not part of the serving path; it stands in for vLLM
where only the gateway's own behaviour is under test."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import orjson
import typer
import uvicorn

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

JSON = [(b"content-type", b"application/json")]


class StubUpstream:
    """The ASGI stub; ``mode`` holds the behaviour switches."""

    def __init__(self, model: str = "stub-model", chunks: int = 16) -> None:
        self.mode: dict[str, Any] = {
            "model": model, "chunks": chunks, "delay_ms": 0.0, "chunk_delay_ms": 0.0,
            "fail_status": 0, "retry_after": None, "break_stream": False,
            # when positive, only this many more requests fail, then the stub is healthy again
            "fail_count": 0,
        }
        self.requests = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                while (await receive())["type"] != "lifespan.shutdown":
                    await send({"type": "lifespan.startup.complete"})
                await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        path = scope["path"]
        if path.endswith("/chat/completions"):
            await self._chat(orjson.loads(body), send)
        elif path == "/_stub/mode":
            self.mode.update(orjson.loads(body))
            await _send(send, 200, orjson.dumps(self.mode))
        elif path == "/_stub/stats":
            await _send(send, 200, orjson.dumps({"requests": self.requests}))
        elif path.endswith("/models"):
            await _send(send, 200, orjson.dumps({"object": "list", "data": [
                {"id": self.mode["model"], "object": "model", "created": 0, "owned_by": "stub"}]}))
        else:
            await _send(send, 200, b'{"status":"ok"}')

    async def _chat(self, request: dict[str, Any], send: Send) -> None:
        self.requests += 1
        mode = self.mode
        if mode["delay_ms"]:
            await asyncio.sleep(mode["delay_ms"] / 1000)
        failing = bool(mode["fail_status"])
        if failing and mode["fail_count"] > 0:
            mode["fail_count"] -= 1
            if mode["fail_count"] == 0:
                mode["fail_status"] = 0
        if failing:
            headers = []
            if mode["retry_after"] is not None:
                headers.append((b"retry-after", str(mode["retry_after"]).encode()))
            body = orjson.dumps({"error": {"message": "injected failure", "type": "server_error",
                                           "param": None, "code": None}})
            await _send(send, int(mode["fail_status"]), body, headers)
            return
        prompt_tokens = sum(len(str(m.get("content", ""))) for m in request["messages"]) // 4 + 1
        chunks = int(request.get("max_tokens") or mode["chunks"])
        chunks = min(chunks, int(mode["chunks"]))
        created = int(time.time())
        ident = f"chatcmpl-stub{self.requests}"
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": chunks,
                 "total_tokens": prompt_tokens + chunks}
        if not request.get("stream"):
            await _send(send, 200, orjson.dumps({
                "id": ident, "object": "chat.completion", "created": created,
                "model": mode["model"],
                "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                             "message": {"role": "assistant", "content": "tok " * chunks}}],
                "usage": usage}))
            return
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/event-stream")]})

        def event(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {"type": "http.response.body", "more_body": True, "body": b"data: "
                    + orjson.dumps({"id": ident, "object": "chat.completion.chunk",
                                    "created": created, "model": mode["model"],
                                    "choices": [{"index": 0, "delta": delta,
                                                 "finish_reason": finish}]}) + b"\n\n"}

        await send(event({"role": "assistant", "content": ""}))
        if mode["break_stream"]:
            await send({"type": "http.response.body", "more_body": False, "body": b""})
            return
        for _ in range(chunks):
            if mode["chunk_delay_ms"]:
                await asyncio.sleep(mode["chunk_delay_ms"] / 1000)
            await send(event({"content": "tok "}))
        await send(event({}, "stop"))
        if (request.get("stream_options") or {}).get("include_usage"):
            await send({"type": "http.response.body", "more_body": True, "body": b"data: "
                        + orjson.dumps({"id": ident, "object": "chat.completion.chunk",
                                        "created": created, "model": mode["model"],
                                        "choices": [], "usage": usage}) + b"\n\n"})
        await send({"type": "http.response.body", "more_body": False,
                    "body": b"data: [DONE]\n\n"})


async def _send(send: Send, status: int, body: bytes,
                headers: list[tuple[bytes, bytes]] | None = None) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": JSON + (headers or [])})
    await send({"type": "http.response.body", "body": body})


def serve(port: int, model: str = "stub-model", chunks: int = 16) -> None:
    """Runs the stub upstream on 127.0.0.1:PORT until interrupted."""
    uvicorn.run(StubUpstream(model, chunks), host="127.0.0.1", port=port, log_level="warning",
                access_log=False, loop="uvloop", http="httptools", lifespan="on",
                proxy_headers=False)


def main(port: Annotated[int, typer.Option(help="loopback port to listen on")],
         model: Annotated[str, typer.Option(help="model name the stub reports")] = "stub-model",
         chunks: Annotated[int, typer.Option(help="tokens per streamed answer")] = 16) -> None:
    """Runs the stub upstream on 127.0.0.1:PORT."""
    serve(port, model, chunks)


if __name__ == "__main__":
    typer.run(main)
