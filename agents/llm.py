"""The one LLM client factory and the structured-answer protocol every agent uses. The client
is langchain-openai's ``ChatOpenAI`` pointed at the inference gateway (``get_settings().llm``);
tests inject an ``httpx`` client so the model is faked only at the HTTP boundary. ``ask`` sends
a prompt with a JSON-schema (or tool-call) answer format, validates the parsed answer with the
caller's grounding check, retries an invalid answer once, and reports what happened instead of
raising, except when no model endpoint answers: that becomes ``UpstreamUnavailable`` (raised
from the transport error) after the client's own retries."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
import openai
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_openai import ChatOpenAI
from pydantic import BaseModel, SecretStr

from app.core.errors import UpstreamUnavailable
from app.core.settings import LLMSettings, get_settings

# answers the client could not parse into the schema (bad JSON, cut off, filtered)
UNPARSABLE = (ValueError, openai.LengthFinishReasonError, openai.ContentFilterFinishReasonError)
StructuredMethod = Literal["json_schema", "function_calling"]
Check = Callable[[Any], str | None]
# a bound on every answer: structured answers are short, and a random-weight development model
# would otherwise write until the context is full
MAX_ANSWER_TOKENS = 800
# transport failures and server-side errors: the endpoint is not answering usefully
UNAVAILABLE = (openai.APIConnectionError, openai.APITimeoutError, openai.InternalServerError,
               openai.RateLimitError)


def chat_model(*, settings: LLMSettings | None = None,
               http_client: httpx.Client | None = None,
               http_async_client: httpx.AsyncClient | None = None) -> ChatOpenAI:
    """The chat model every agent talks to: the gateway's OpenAI-compatible endpoint, greedy
    decoding, the configured timeout and retries."""
    llm = settings or get_settings().llm
    if http_async_client is None:
        # never langchain-openai's process-wide default client: it stays bound to the event loop
        # of the first task, and every later task of a worker process (each runs its graph in a
        # new loop) would fail with "Event loop is closed"
        http_async_client = httpx.AsyncClient(timeout=llm.timeout_s)
    return ChatOpenAI(
        model=llm.model, base_url=llm.base_url, api_key=SecretStr(llm.api_key),
        timeout=llm.timeout_s, max_retries=llm.max_retries, temperature=0,
        max_completion_tokens=MAX_ANSWER_TOKENS, http_client=http_client,
        http_async_client=http_async_client)


@dataclass
class AgentContext:
    """Per-run knobs handed to every graph node (never checkpointed): the chat model, or
    ``None`` when model calls are switched off."""

    chat: ChatOpenAI | None
    model: str = ""

    @classmethod
    def from_settings(cls) -> AgentContext:
        """The configured model with its own HTTP client; make one per event loop and
        ``aclose`` it when that loop's run ends."""
        llm = get_settings().llm
        if not llm.enabled:
            return cls(chat=None, model=llm.model)
        return cls(chat=chat_model(settings=llm), model=llm.model)

    async def aclose(self) -> None:
        """Closes the model client's connections (they belong to the current event loop)."""
        if self.chat is not None and self.chat.root_async_client is not None:
            await self.chat.root_async_client.close()


@dataclass
class Answer:
    """The outcome of one structured question: ``value`` is the validated answer or ``None``;
    ``status`` is ok / invalid (after the retry) / unavailable / disabled."""

    status: Literal["ok", "invalid", "unavailable", "disabled"]
    value: Any = None
    model: str = ""
    attempts: int = 0
    error: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def fallback_reason(self) -> str:
        """Why a caller is using its deterministic value instead of this answer."""
        return {
            "unavailable": "model unavailable",
            "disabled": "model calls disabled",
            "invalid": f"model answer invalid after {self.attempts} attempts: {self.error}",
        }.get(self.status, self.error or self.status)

    def log(self, step: str) -> dict[str, Any]:
        """The entry recorded in the result's model log."""
        return {"step": step, "status": self.status, "model": self.model,
                "attempts": self.attempts, "error": self.error}


def model_unavailable(log: Sequence[dict[str, Any]]) -> bool:
    """Whether an earlier step of this run (its ``llm_log``) found no model endpoint answering;
    later steps then do not wait on it again."""
    return any(entry["status"] == "unavailable" for entry in log)


async def ask(context: AgentContext, schema: type[BaseModel], messages: Sequence[BaseMessage],
              *, check: Check | None = None, method: StructuredMethod = "json_schema",
              attempts: int = 2) -> Answer:
    """Asks for an answer shaped like ``schema``. An answer that does not parse, or that
    ``check`` rejects (it returns the reason), is sent back once with the reason; after that
    the caller falls back to its deterministic value. Raises ``UpstreamUnavailable`` when the
    endpoint does not answer at all."""
    if context.chat is None:
        return Answer(status="disabled", model=context.model, error="model calls are disabled")
    runnable = context.chat.with_structured_output(schema, method=method, include_raw=True)
    history = list(messages)
    answer = Answer(status="invalid", model=context.model)
    for attempt in range(1, attempts + 1):
        answer.attempts = attempt
        try:
            out = await runnable.ainvoke(history)
        except UNAVAILABLE as exc:
            raise UpstreamUnavailable(f"model endpoint unavailable: {exc}") from exc
        except openai.APIStatusError as exc:
            if exc.status_code >= 500:
                raise UpstreamUnavailable(f"model endpoint failed: {exc}") from exc
            answer.problems.append(f"request refused ({exc.status_code}): {exc.message}"[:300])
            answer.error = answer.problems[-1]
            break  # the same request would be refused again
        except UNPARSABLE as exc:
            # the OpenAI client parses JSON-schema answers itself and raises on bad JSON
            out = {"raw": None, "parsed": None, "parsing_error": _first_line(exc)}
        raw: AIMessage | None = out.get("raw")
        if raw is not None:
            answer.model = str(raw.response_metadata.get("model_name") or context.model)
        parsed, error = out.get("parsed"), out.get("parsing_error")
        problem = f"answer does not match the schema: {error}" if parsed is None else (
            check(parsed) if check else None)
        if problem is None:
            answer.status, answer.value, answer.error = "ok", parsed, None
            return answer
        answer.problems.append(str(problem)[:300])
        answer.error = answer.problems[-1]
        history += [raw] if raw is not None else []
        history += [HumanMessage(
            f"That answer is invalid: {problem}. Answer again, following the schema and "
            "quoting the document exactly.")]
    return answer


def _first_line(exc: Exception) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return " ".join(lines[:2])[:300]
