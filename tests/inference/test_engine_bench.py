"""``lexledger-inference bench``: the load benchmark measures what really happened on the wire
(token counts from the server's usage, first-token times from the stream, HTTP failures as
errors) against the real vLLM CPU server, and its derived numbers follow from the samples."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

from inference.engine.bench import BenchConfig, BenchReport, RequestSample, run_bench
from inference.engine.cli import app

if TYPE_CHECKING:
    from tests.inference.conftest import VllmServer


def _config(server: VllmServer, **overrides: object) -> BenchConfig:
    settings: dict[str, object] = {
        "base_url": server.base_url, "model": server.model, "concurrency": 2, "requests": 4,
        "input_tokens": 32, "output_tokens": 8, "ignore_eos": True, "warmup": 0}
    settings.update(overrides)
    return BenchConfig(**settings)  # type: ignore[arg-type]


def test_report_numbers_follow_from_the_samples() -> None:
    config = BenchConfig(base_url="http://127.0.0.1:1/v1", model="m", price_in=0.5,
                         price_out=2.0, hourly_cost=36.0)
    samples = [RequestSample(latency_s=1.0 + i / 10, ttft_s=0.1, prompt_tokens=100,
                             completion_tokens=11) for i in range(10)]
    samples.append(RequestSample(latency_s=0.2, error="HTTP 503"))
    report = BenchReport(config=config, samples=samples, wall_s=2.0)
    assert report.error_rate == pytest.approx(1 / 11)
    assert report.errors == {"HTTP 503": 1}
    assert report.latency_percentile(50) == pytest.approx(1.45)
    assert report.ttft_percentile(99) == pytest.approx(0.1)
    assert report.output_tokens_per_s == pytest.approx(110 / 2.0)
    assert report.requests_per_s == pytest.approx(5.0)
    # 1000 tokens in at $0.5/M and 110 out at $2/M, over 1110 tokens
    assert report.price_per_mtok == pytest.approx((1000 * 0.5 + 110 * 2.0) / 1110)
    # $36/h at 55 tokens/s
    assert report.hosted_cost_per_mtok_out == pytest.approx(36.0 / (55 * 3600) * 1e6)


@pytest.mark.vllm
@pytest.mark.slow
def test_streaming_bench_against_vllm(vllm_server: VllmServer) -> None:
    report = asyncio.run(run_bench(_config(vllm_server)))
    assert report.error_rate == 0
    assert len(report.samples) == 4
    for sample in report.samples:
        assert sample.completion_tokens == 8  # ignore_eos: exactly max_tokens
        assert sample.ttft_s is not None and 0 < sample.ttft_s <= sample.latency_s
        assert sample.prompt_tokens > 32
    assert report.output_tokens_per_s > 0
    assert report.per_request_tokens_per_s is not None


@pytest.mark.vllm
@pytest.mark.slow
def test_longer_prompts_are_counted_longer(vllm_server: VllmServer) -> None:
    short = asyncio.run(run_bench(_config(vllm_server, requests=2, stream=False,
                                          input_tokens=16)))
    long = asyncio.run(run_bench(_config(vllm_server, requests=2, stream=False,
                                         input_tokens=256)))
    assert short.error_rate == long.error_rate == 0
    assert long.prompt_tokens > 4 * short.prompt_tokens
    assert all(s.ttft_s is None for s in long.samples)  # not observable without a stream


@pytest.mark.vllm
@pytest.mark.slow
def test_failures_are_counted_as_errors(vllm_server: VllmServer) -> None:
    report = asyncio.run(run_bench(_config(vllm_server, model="no-such-model")))
    assert report.error_rate == 1.0
    assert report.errors == {"HTTP 404": 4}
    assert report.latency_percentile(50) is None


@pytest.fixture
def failing_stream_server() -> Iterator[str]:
    """An endpoint that starts a 200 stream, sends one token, then an error event (what vLLM
    does when a request fails after its headers went out)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            chunk = {"object": "chat.completion.chunk",
                     "choices": [{"index": 0, "delta": {"content": "The"}}]}
            error = {"error": {"message": "engine died", "type": "InternalServerError",
                               "code": 500}}
            for event in (chunk, error):
                self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_error_event_inside_a_stream_is_an_error(failing_stream_server: str) -> None:
    config = BenchConfig(base_url=failing_stream_server, model="m", concurrency=1, requests=2,
                         warmup=0, timeout_s=5)
    report = asyncio.run(run_bench(config))
    assert report.errors == {"stream error": 2}
    assert all(s.ttft_s is not None for s in report.samples)


def test_unreachable_endpoint_is_all_errors(unused_port: int) -> None:
    config = BenchConfig(base_url=f"http://127.0.0.1:{unused_port}/v1", model="m",
                         concurrency=2, requests=3, warmup=0, timeout_s=5)
    report = asyncio.run(run_bench(config))
    assert report.errors == {"ConnectError": 3}


@pytest.mark.vllm
@pytest.mark.slow
def test_bench_command_prints_the_table(vllm_server: VllmServer) -> None:
    result = CliRunner().invoke(app, [
        "bench", "--base-url", vllm_server.base_url, "--model", vllm_server.model,
        "--concurrency", "2", "--requests", "4", "--output-tokens", "8", "--ignore-eos",
        "--price-in", "0.27", "--price-out", "1.10", "--hourly-cost", "25"],
        terminal_width=160)
    assert result.exit_code == 0, result.output
    for row in ("latency p50", "latency p99", "TTFT p50", "output tokens/s", "requests/s",
                "error rate", "$ / MTok (blended, price list)", "$ / MTok out (self-hosted)"):
        assert row in result.output
    assert "0.0%" in result.output
    assert "$0." in result.output
