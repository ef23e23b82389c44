"""Benchmark of the LINE webhook's acknowledgement: signed deliveries sent 50 at a time to the
API under uvicorn while a real Celery worker computes the answers from Redis, against the mock
LINE server. It prints the ack latency (p50, p90, p99, max) per round and overall, and how long
the worker took to answer everything. The target is p99 <= 200 ms. Runs on its own Postgres
database (created and dropped here) and its own Redis key prefix.
Run: ``python bench/line_webhook.py [--rounds 10] [--concurrency 50]``."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Annotated

import aiohttp
import httpx
import numpy as np
import psycopg
import redis
import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.line_mock import (  # noqa: E402  (the repository root is put on the path above)
    ACCESS_TOKEN,
    CHANNEL_SECRET,
    MockLine,
    event_body,
    sign,
    text_event,
)

PG_ADMIN = os.environ.get("LEXLEDGER_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("LEXLEDGER_BENCH_REDIS", "redis://127.0.0.1:6379/0")
TARGET_P99_MS = 200.0
QUESTIONS = ("Which law governs the agreement?", "What is the monthly fee?",
             "ค่าเช่าเดือนละเท่าไหร่", "When does the agreement expire?",
             "Can the customer terminate early?")
console = Console(width=120)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "app", *args], env=env, cwd=ROOT,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its reaped children (uvicorn workers)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(value) for value in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


def process_tree_cpu(pid: int) -> float:
    total = cpu_seconds(pid)
    children = Path(f"/proc/{pid}/task/{pid}/children")
    for child in children.read_text().split() if children.exists() else []:
        total += cpu_seconds(int(child))
    return total


def wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"API exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("API did not start")


async def deliver_round(session: aiohttp.ClientSession, url: str, round_no: int,
                        concurrency: int) -> list[float]:
    """``concurrency`` deliveries at once, one new question each; their ack times in ms. The
    bodies are built and signed before the clock starts, so the times are the server's."""
    deliveries = []
    for i in range(concurrency):
        body = event_body(text_event(QUESTIONS[i % len(QUESTIONS)],
                                     user_id=f"Ubench{round_no}x{i}"))
        deliveries.append((body, {"X-Line-Signature": sign(body),
                                  "Content-Type": "application/json"}))

    async def one(body: bytes, headers: dict[str, str]) -> float:
        started = time.perf_counter()
        async with session.post(url, data=body, headers=headers) as response:
            text = await response.text()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status != 200:
            raise RuntimeError(f"webhook answered {response.status}: {text}")
        return elapsed

    return list(await asyncio.gather(*(one(body, headers) for body, headers in deliveries)))


def percentiles(values: list[float]) -> tuple[float, float, float, float]:
    array = np.array(values)
    return (float(np.percentile(array, 50)), float(np.percentile(array, 90)),
            float(np.percentile(array, 99)), float(array.max()))


def main(rounds: Annotated[int, typer.Option(help="rounds of concurrent deliveries")] = 10,
         concurrency: Annotated[int, typer.Option(help="deliveries in flight at once")] = 50,
         worker_concurrency: Annotated[int, typer.Option(help="interactive worker pool")] = 2,
         api_workers: Annotated[int, typer.Option(help="uvicorn worker processes")] = 1,
         ) -> None:
    """Measure webhook ack latency while a worker answers the questions."""
    run = f"{os.getpid()}_{uuid.uuid4().hex[:6]}"
    database = f"lexledger_bench_line_{run}"
    var = Path(tempfile.mkdtemp(prefix="lexledger-bench-line-"))
    db_url = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") \
        + f"/{database}"
    mock = MockLine().start()
    env = dict(os.environ, PYTHONUNBUFFERED="1", LEXLEDGER_ENV="dev",
               LEXLEDGER_LOG_LEVEL="WARNING",
               LEXLEDGER_DB__URL=db_url, LEXLEDGER_CELERY__EAGER="false",
               LEXLEDGER_CELERY__BROKER_URL=REDIS_URL,
               LEXLEDGER_CELERY__KEY_PREFIX=f"lexledger-bench-{run}:",
               LEXLEDGER_STORAGE__BLOB_DIR=str(var / "blobs"),
               LEXLEDGER_LINE__CHANNEL_SECRET=CHANNEL_SECRET,
               LEXLEDGER_LINE__CHANNEL_ACCESS_TOKEN=ACCESS_TOKEN,
               LEXLEDGER_LINE__API_HOST=mock.url, LEXLEDGER_LINE__DATA_API_HOST=mock.url,
               LEXLEDGER_LINE__USER_MESSAGES_PER_WINDOW="1000")
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    processes: list[subprocess.Popen[bytes]] = []
    try:
        migrate = subprocess.run([sys.executable, "-m", "app", "db", "upgrade"], env=env,
                                 cwd=ROOT, capture_output=True, text=True)
        if migrate.returncode != 0:
            raise RuntimeError(migrate.stderr[-3000:])
        port = free_port()
        api_log = var / "api.log"
        processes.append(start(["api", "--port", str(port), "--workers", str(api_workers)],
                               env, api_log))
        processes.append(start(["worker", "--queues", "interactive", "--concurrency",
                                str(worker_concurrency), "--hostname", f"bench-{run}@%h"],
                               env, var / "worker.log"))
        processes.append(start(["worker", "--queues", "ingest,analysis", "--concurrency", "1",
                                "--hostname", f"bench-ingest-{run}@%h"], env,
                               var / "ingest.log"))
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, processes[0], api_log)
        upload_samples(base, env, var)
        result = asyncio.run(measure(f"{base}/v1/line/webhook", mock, rounds, concurrency,
                                     processes[0].pid))
    finally:
        for process in reversed(processes):
            stop(process)
        mock.stop()
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        forget_run_keys(f"lexledger-bench-{run}:")
    report(result, rounds, concurrency, worker_concurrency, api_workers)


def forget_run_keys(prefix: str) -> None:
    """Removes this run's queues, bindings and answer streams from Redis."""
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"{prefix}*"))
    for start in range(0, len(keys), 500):
        client.delete(*keys[start:start + 500])


def upload_samples(base: str, env: dict[str, str], var: Path) -> None:
    """The documents the questions are asked about, uploaded for the bot's tenant and
    processed by the ingest worker before the clock starts."""
    subprocess.run([sys.executable, "-m", "app", "samples", "--out", str(var / "samples")],
                   env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    created = subprocess.run([sys.executable, "-m", "app", "keys", "create", "--tenant", "line"],
                             env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    headers = {"Authorization": f"Bearer {created.stdout.strip().splitlines()[-1]}"}
    names = ("services-agreement.pdf", "thai-lease.pdf")
    files = [("files", (name, (var / "samples" / name).read_bytes(), "application/pdf"))
             for name in names]
    response = httpx.post(f"{base}/v1/documents", headers=headers, files=files, timeout=60)
    response.raise_for_status()
    deadline = time.monotonic() + 300
    with console.status("processing the sample documents"):
        while time.monotonic() < deadline:
            listing = httpx.get(f"{base}/v1/documents", headers=headers,
                                params={"status": "done"}, timeout=10).json()
            if listing["total"] == len(names):
                return
            time.sleep(0.5)
    raise RuntimeError("the sample documents were not processed in time")


async def measure(url: str, mock: MockLine, rounds: int, concurrency: int,
                  api_pid: int) -> dict[str, object]:
    per_round: list[list[float]] = []
    # aiohttp as the load generator: about 0.4 ms of CPU per request, so 50 at once measure the
    # server (an httpx client spent 6-7 ms per request here, more than the API itself)
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as client:
        await deliver_round(client, url, -1, 5)  # warm-up: connections, first queries
        # one delivery at a time: the webhook's own cost, before the answers pile up
        sequential = [(await deliver_round(client, url, -2 - i, 1))[0] for i in range(50)]
        warm_replies = 55
        started = time.perf_counter()
        cpu_before = process_tree_cpu(api_pid)
        client_cpu_before = time.process_time()
        with Progress(console=console) as progress:
            bar = progress.add_task("deliveries", total=rounds * concurrency)
            for round_no in range(rounds):
                per_round.append(await deliver_round(client, url, round_no, concurrency))
                answered = len(mock.calls_to("/message/reply")) - warm_replies
                progress.update(bar, advance=concurrency,
                                description=f"deliveries (answered {answered})")
        sent_at = time.perf_counter()
        api_cpu_ms = (process_tree_cpu(api_pid) - cpu_before) * 1000 / (rounds * concurrency)
        client_cpu_ms = (time.process_time() - client_cpu_before) * 1000 / (rounds * concurrency)
        expected = warm_replies + rounds * concurrency
        deadline = time.monotonic() + 600
        while len(mock.calls_to("/message/reply")) + len(mock.calls_to("/message/push")) \
                < expected and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        done_at = time.perf_counter()
    return {"per_round": per_round, "sequential": sequential, "api_cpu_ms": api_cpu_ms,
            "client_cpu_ms": client_cpu_ms,
            "answered": len(mock.calls_to("/message/reply")) + len(mock.calls_to("/message/push"))
            - warm_replies, "send_s": sent_at - started,
            "answer_s": done_at - started, "pushes": len(mock.calls_to("/message/push"))}


def report(result: dict[str, object], rounds: int, concurrency: int, workers: int,
           api_workers: int) -> None:
    per_round: list[list[float]] = result["per_round"]  # type: ignore[assignment]
    table = Table(title=f"LINE webhook ack latency: {rounds} rounds x {concurrency} concurrent "
                        f"deliveries, {api_workers} API process(es), answers computed by "
                        f"{workers} worker processes")
    for column in ("round", "p50 ms", "p90 ms", "p99 ms", "max ms"):
        table.add_column(column, justify="right")
    sequential: list[float] = result["sequential"]  # type: ignore[assignment]
    table.add_row("1 at a time", *(f"{v:.1f}" for v in percentiles(sequential)),
                  end_section=True)
    for index, values in enumerate(per_round):
        table.add_row(str(index + 1), *(f"{v:.1f}" for v in percentiles(values)))
    everything = [v for values in per_round for v in values]
    p50, p90, p99, worst = percentiles(everything)
    table.add_row("all", f"{p50:.1f}", f"{p90:.1f}", f"[bold]{p99:.1f}", f"{worst:.1f}",
                  end_section=True)
    console.print(table)
    verdict = "[green]met" if p99 <= TARGET_P99_MS else "[red]missed"
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    console.print(f"{os.cpu_count()} CPUs, load average {load} when the run ended")
    cpu_ms = float(result["api_cpu_ms"])  # type: ignore[arg-type]
    client_ms = float(result["client_cpu_ms"])  # type: ignore[arg-type]
    console.print(f"API CPU per delivery {cpu_ms:.2f} ms: {concurrency} deliveries at once need "
                  f"{cpu_ms * concurrency:.0f} ms of one core (the sending client: "
                  f"{client_ms:.2f} ms per delivery, this process and the mock LINE server)")
    console.print(f"p99 {p99:.1f} ms vs target {TARGET_P99_MS:.0f} ms: {verdict}")
    console.print(f"{len(everything)} deliveries sent in {result['send_s']:.1f} s; "
                  f"{result['answered']} answered after {result['answer_s']:.1f} s "
                  f"({result['pushes']} by push after the reply token aged)")


if __name__ == "__main__":
    typer.run(main)
