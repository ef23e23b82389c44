"""Support for the agent tests: page text of a sample PDF (through the real ingest core), the
supervisor graph run in-process, and a scripted chat model faked only at the HTTP boundary: it
answers the
OpenAI chat-completions requests the real ``ChatOpenAI`` client sends (JSON-schema structured
output and forced tool calls), from a per-step script, and records every request. Used through
``httpx.MockTransport`` in-process, or served on loopback by ``ScriptedServer`` for workers
running as separate processes."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from langgraph.checkpoint.memory import InMemorySaver

from agents.ingest import extract_pages
from agents.llm import AgentContext, chat_model
from agents.supervisor.graph import build_graph
from app.core.settings import LLMSettings, get_settings

MODEL_NAME = "scripted-deepseek-v3"
Reply = Callable[[dict[str, Any]], Any]


@lru_cache(maxsize=16)
def pages_of(path: Path) -> tuple[tuple[int, str], ...]:
    """The gated page text of a PDF, as the ingest stage stores it."""
    return tuple((p.number, p.text) for p in extract_pages(path, limits=get_settings().limits))


def no_model() -> AgentContext:
    """A context whose model endpoint refuses connections (nothing listens on port 9)."""
    return AgentContext(chat=chat_model(settings=LLMSettings(
        base_url="http://127.0.0.1:9/v1", max_retries=0)), model="deepseek-v3")


def scripted(script: Script) -> AgentContext:
    """A context whose model is ``script``, reached through the real OpenAI client."""
    client = httpx.AsyncClient(transport=script.transport())
    return AgentContext(chat=chat_model(settings=LLMSettings(max_retries=0),
                                        http_async_client=client), model="deepseek-v3")


def analyse(pages: tuple[tuple[int, str], ...] | list[tuple[int, str]],
            context: AgentContext) -> dict[str, Any]:
    """The supervisor graph's final state for ``pages`` (in-memory checkpoints)."""
    graph = build_graph(InMemorySaver())
    config = {"configurable": {"thread_id": "test"}}
    return asyncio.run(graph.ainvoke({"pages": list(pages), "llm_log": []}, config,
                                     context=context))


def step_of(body: dict[str, Any]) -> str:
    """Which agent step a request is: the tool name or the response schema name."""
    if body.get("tools"):
        return body["tools"][0]["function"]["name"]
    return body.get("response_format", {}).get("json_schema", {}).get("name", "text")


def listing(body: dict[str, Any]) -> dict[str, Any]:
    """The JSON listing in the first user message (candidates or facts)."""
    user = [m for m in body["messages"] if m["role"] == "user"][0]["content"]
    return json.loads(user.split(":\n", 1)[1]) if ":\n" in user else {}


def completion(body: dict[str, Any], answer: Any) -> dict[str, Any]:
    """An OpenAI chat completion carrying ``answer`` as the tool call's arguments (when the
    request forced a tool) or as JSON content; a str answer is sent as raw content."""
    content = answer if isinstance(answer, str) else json.dumps(answer, ensure_ascii=False)
    if body.get("tools"):
        name = body["tools"][0]["function"]["name"]
        message: dict[str, Any] = {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function",
             "function": {"name": name, "arguments": content}}]}
    else:
        message = {"role": "assistant", "content": content}
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": int(time.time()),
            "model": MODEL_NAME, "choices": [{"index": 0, "message": message,
                                              "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}}


class Script:
    """Answers by step name; each step's replies are used in order, the last one repeating.
    ``requests`` keeps every request body in arrival order."""

    def __init__(self, replies: dict[str, list[Reply]],
                 first_delay_s: dict[str, float] | None = None):
        self.replies = replies
        # a slow first answer per step, e.g. to kill a worker while it waits
        self.first_delay_s = first_delay_s or {}
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def answer(self, body: dict[str, Any]) -> dict[str, Any]:
        step = step_of(body)
        with self.lock:
            seen = sum(1 for r in self.requests if step_of(r) == step)
            self.requests.append(body)
        if seen == 0:
            time.sleep(self.first_delay_s.get(step, 0.0))
        replies = self.replies.get(step) or [lambda _: "not json"]
        return completion(body, replies[min(seen, len(replies) - 1)](body))

    def steps(self) -> list[str]:
        return [step_of(r) for r in self.requests]

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(
            lambda request: httpx.Response(200, json=self.answer(json.loads(request.content))))


def confirm_type(body: dict[str, Any]) -> dict[str, Any]:
    """Triage: confirm the proposed type, quoting the document's first non-empty line."""
    user = [m for m in body["messages"] if m["role"] == "user"][0]["content"]
    proposed = user.split("\n", 1)[0].removeprefix("Proposed type: ").strip()
    opening = user.split("Document opening:\n", 1)[1]
    quote = next(line for line in opening.splitlines() if len(line.strip()) > 5).strip()
    return {"doc_type": proposed, "quote": quote}


def pick(rules: dict[str, Callable[[Any], bool]]) -> Reply:
    """Choose, for each field offered, the first candidate whose value satisfies the field's
    rule (the top candidate when there is no rule), quoting its passage."""
    def reply(body: dict[str, Any]) -> dict[str, Any]:
        choices = []
        for field, offered in listing(body).items():
            rule = rules.get(field, lambda _: True)
            n = next((c["n"] for c in offered["candidates"] if rule(c["value"])), -1)
            quote = offered["candidates"][max(n, 0)]["words"]
            choices.append({"field": field, "candidate": n, "quote": quote})
        return {"choices": choices}
    return reply


def misquote(body: dict[str, Any]) -> dict[str, Any]:
    """Choices that quote words the passages do not contain."""
    return {"choices": [{"field": field, "candidate": 0, "quote": "words nowhere in it"}
                        for field in listing(body)]}


def judge_nothing(body: dict[str, Any]) -> dict[str, Any]:
    """Clause review: no judgement, so the classifier's inventory stands."""
    return {"judgements": []}


def summarise_facts(body: dict[str, Any]) -> dict[str, Any]:
    """A grounded summary: one sentence per fact (or figure) with its page."""
    facts = listing(body)
    if isinstance(facts, list):
        return {"sentences": [{"text": f"The {f['label']} is {f['value']}.",
                               "pages": [f["page"]]} for f in facts[:4]]}
    figures = facts.get("key_figures", {})
    return {"sentences": [{"text": f"{key} {value['value']:,.0f}", "pages": [value["page"]]}
                          for key, value in list(figures.items())[:3]]}


class ScriptedServer:
    """The script served over HTTP on a loopback port (for worker processes)."""

    def __init__(self, script: Script, port: int) -> None:
        self.script = script
        handler = self._handler()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.base_url = f"http://127.0.0.1:{port}/v1"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        script = self.script

        class Handler(BaseHTTPRequestHandler):
            # keep-alive, like a real server: clients reuse pooled connections
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                data = json.dumps(script.answer(body)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the worker that asked was killed meanwhile

            def log_message(self, *args: Any) -> None:
                return

        return Handler

    def __enter__(self) -> ScriptedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
