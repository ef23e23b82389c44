"""The load benchmark for any OpenAI-compatible chat endpoint (vLLM, the LexLedger gateway, an
external provider): a fixed number of chat completions sent by N concurrent workers, each timed
end to end and, when streaming, to its first content token. ``BenchReport`` turns the samples
into the numbers an operator compares endpoints by: p50/p99 latency and TTFT, output tokens per
second, requests per second, error rate and the cost of a million tokens."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import numpy as np

# legal and financial vocabulary, so that prompts tokenize like LexLedger's real traffic
_PROMPT_WORDS = (
    "the lessee shall pay monthly rent of forty thousand baht on the first business day "
    "revenue for the fiscal year increased by twelve percent compared with the prior period "
    "either party may terminate this agreement with ninety days written notice governing law "
    "total assets equal total liabilities plus shareholders equity at the reporting date"
).split()


@dataclass(frozen=True)
class BenchConfig:
    """What to send, how hard, and what tokens cost."""

    base_url: str
    model: str
    api_key: str = "none"
    concurrency: int = 4
    requests: int = 32
    input_tokens: int = 128
    output_tokens: int = 64
    stream: bool = True
    # vLLM-only: generate exactly output_tokens tokens, so runs compare like with like
    ignore_eos: bool = False
    warmup: int = 1
    timeout_s: float = 300.0
    # $ per million input / output tokens (a provider's price list)
    price_in: float | None = None
    price_out: float | None = None
    # $ per hour for a self-hosted deployment (e.g. 8 GPUs x hourly rate)
    hourly_cost: float | None = None


@dataclass(frozen=True)
class RequestSample:
    """One request's outcome; ``error`` is empty on success."""

    latency_s: float
    ttft_s: float | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


def build_prompt(index: int, approx_tokens: int) -> str:
    """A prompt of roughly ``approx_tokens`` tokens (about one per short word), unique per request
    so that a prefix cache cannot answer it from an earlier request."""
    words = [_PROMPT_WORDS[(index * 7 + i) % len(_PROMPT_WORDS)] for i in range(approx_tokens)]
    return f"Request {index}. Summarise: " + " ".join(words)


def _payload(config: BenchConfig, index: int) -> dict[str, object]:
    payload: dict[str, object] = {
        "model": config.model,
        "messages": [{"role": "user", "content": build_prompt(index, config.input_tokens)}],
        "max_tokens": config.output_tokens,
        "temperature": 0.0,
        "stream": config.stream,
    }
    if config.stream:
        payload["stream_options"] = {"include_usage": True}
    if config.ignore_eos:
        payload["ignore_eos"] = True
    return payload


async def _one_request(client: httpx.AsyncClient, config: BenchConfig,
                       index: int) -> RequestSample:
    started = time.perf_counter()
    try:
        if not config.stream:
            response = await client.post("/chat/completions", json=_payload(config, index))
            latency = time.perf_counter() - started
            if response.status_code != 200:
                return RequestSample(latency_s=latency, error=f"HTTP {response.status_code}")
            usage = response.json().get("usage") or {}
            return RequestSample(latency_s=latency,
                                 prompt_tokens=usage.get("prompt_tokens", 0),
                                 completion_tokens=usage.get("completion_tokens", 0))
        ttft: float | None = None
        usage = {}
        async with client.stream("POST", "/chat/completions",
                                 json=_payload(config, index)) as response:
            if response.status_code != 200:
                await response.aread()
                return RequestSample(latency_s=time.perf_counter() - started,
                                     error=f"HTTP {response.status_code}")
            async for line in response.aiter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                chunk = json.loads(data)
                if "error" in chunk:
                    # a failure after the 200 header arrives as an error event in the stream
                    return RequestSample(latency_s=time.perf_counter() - started,
                                         ttft_s=ttft, error="stream error")
                if chunk.get("usage"):
                    usage = chunk["usage"]
                if ttft is None and any(
                        (choice.get("delta") or {}).get("content")
                        or (choice.get("delta") or {}).get("tool_calls")
                        for choice in chunk.get("choices") or []):
                    ttft = time.perf_counter() - started
        return RequestSample(latency_s=time.perf_counter() - started, ttft_s=ttft,
                             prompt_tokens=usage.get("prompt_tokens", 0),
                             completion_tokens=usage.get("completion_tokens", 0))
    except (httpx.HTTPError, json.JSONDecodeError) as exc:
        return RequestSample(latency_s=time.perf_counter() - started,
                             error=type(exc).__name__)


@dataclass
class BenchReport:
    """The samples of one run and the numbers derived from them."""

    config: BenchConfig
    samples: list[RequestSample]
    wall_s: float
    errors: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.errors = Counter(s.error for s in self.samples if not s.ok)

    @property
    def ok_samples(self) -> list[RequestSample]:
        return [s for s in self.samples if s.ok]

    @property
    def error_rate(self) -> float:
        return (len(self.samples) - len(self.ok_samples)) / max(1, len(self.samples))

    def latency_percentile(self, q: float) -> float | None:
        values = [s.latency_s for s in self.ok_samples]
        return float(np.percentile(values, q)) if values else None

    def ttft_percentile(self, q: float) -> float | None:
        values = [s.ttft_s for s in self.ok_samples if s.ttft_s is not None]
        return float(np.percentile(values, q)) if values else None

    @property
    def prompt_tokens(self) -> int:
        return sum(s.prompt_tokens for s in self.ok_samples)

    @property
    def completion_tokens(self) -> int:
        return sum(s.completion_tokens for s in self.ok_samples)

    @property
    def output_tokens_per_s(self) -> float:
        """Aggregate decode throughput: every output token of the run over its wall time."""
        return self.completion_tokens / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def per_request_tokens_per_s(self) -> float | None:
        """Median speed one client sees while its answer streams (after the first token)."""
        rates = [(s.completion_tokens - 1) / (s.latency_s - s.ttft_s) for s in self.ok_samples
                 if s.ttft_s is not None and s.completion_tokens > 1 and s.latency_s > s.ttft_s]
        return float(np.median(rates)) if rates else None

    @property
    def requests_per_s(self) -> float:
        return len(self.ok_samples) / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def price_per_mtok(self) -> float | None:
        """Blended $ per million tokens (input and output) at the given price list."""
        cfg = self.config
        total = self.prompt_tokens + self.completion_tokens
        if cfg.price_in is None or cfg.price_out is None or total == 0:
            return None
        cost = self.prompt_tokens * cfg.price_in + self.completion_tokens * cfg.price_out
        return cost / total

    @property
    def hosted_cost_per_mtok_out(self) -> float | None:
        """$ per million output tokens when the deployment costs ``hourly_cost`` and runs at
        this run's throughput around the clock."""
        if self.config.hourly_cost is None or self.output_tokens_per_s <= 0:
            return None
        return self.config.hourly_cost / (self.output_tokens_per_s * 3600) * 1e6


async def run_bench(config: BenchConfig,
                    on_done: Callable[[RequestSample], None] | None = None) -> BenchReport:
    """Send ``config.requests`` chat completions from ``config.concurrency`` workers."""
    if config.concurrency < 1 or config.requests < 1:
        raise ValueError("concurrency and requests must both be at least 1")
    limits = httpx.Limits(max_connections=config.concurrency,
                          max_keepalive_connections=config.concurrency)
    headers = {"Authorization": f"Bearer {config.api_key}"}
    async with httpx.AsyncClient(base_url=config.base_url.rstrip("/"), headers=headers,
                                 timeout=config.timeout_s, limits=limits) as client:
        for index in range(config.warmup):
            await _one_request(client, config, -1 - index)
        next_index = iter(range(config.requests))
        samples: list[RequestSample] = []

        async def worker() -> None:
            for index in next_index:
                sample = await _one_request(client, config, index)
                samples.append(sample)
                if on_done is not None:
                    on_done(sample)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(min(config.concurrency, config.requests))))
        wall = time.perf_counter() - started
    return BenchReport(config=config, samples=samples, wall_s=wall)
