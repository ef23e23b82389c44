"""Batch throughput: documents per minute for a batch of generated contracts going through the
whole pipeline (ingest, analysis, verify) fed by the fair-share feeder, with 1 and 2 worker
processes, next to ingest-only throughput (plain uploads, workers consuming only the ``ingest``
queue) on the same documents. The model is an instant OpenAI-compatible stub on loopback, so the
numbers are LexLedger's own cost, not the model's. Everything runs as real processes: the API
under uvicorn, Celery workers on Redis, a throwaway PostgreSQL database.
Run: ``python bench/batch.py [--docs 20] [--workers 1,2]``."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Annotated, Any

import httpx
import psycopg
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

PG_ADMIN = os.environ.get("LEXLEDGER_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("LEXLEDGER_BENCH_REDIS", "redis://127.0.0.1:6379/0")
RUN = f"{os.getpid()}_{uuid.uuid4().hex[:6]}"
DB_NAME = f"lexledger_bench_batch_{RUN}"
DB_URL = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") \
    + f"/{DB_NAME}"
WORK = Path(tempfile.mkdtemp(prefix="lexledger-bench-batch-"))
console = Console(width=140)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class InstantModel:
    """An OpenAI-compatible chat endpoint that answers at once with an empty JSON object, so
    the agents fall back to their deterministic extraction without waiting for a model."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the http.server API)
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                body = json.dumps({
                    "id": "stub", "object": "chat.completion", "created": int(time.time()),
                    "model": "stub", "choices": [{"index": 0, "finish_reason": "stop",
                                                  "message": {"role": "assistant",
                                                              "content": "{}"}}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                }).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Processes:
    """The API and workers as subprocesses in their own process groups, ended by PID."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.popens: list[subprocess.Popen[bytes]] = []

    def start(self, args: list[str]) -> subprocess.Popen[bytes]:
        log = (WORK / f"proc-{len(self.popens)}.log").open("wb")
        popen = subprocess.Popen([sys.executable, "-m", "app", *args], env=self.env,
                                 stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.popens.append(popen)
        return popen

    def api(self) -> str:
        port = free_port()
        self.start(["api", "--port", str(port)])
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    return url
            except httpx.HTTPError:
                time.sleep(0.3)
        raise RuntimeError("the API did not start; see " + str(WORK))

    def workers(self, count: int, queues: str) -> None:
        for i in range(count):
            self.start(["worker", "--queues", queues, "--concurrency", "1",
                        "--hostname", f"bench{i}-{RUN}-{len(self.popens)}@%h"])

    def stop_workers(self) -> None:
        self.stop(keep_first=True)

    def stop(self, keep_first: bool = False) -> None:
        keep = self.popens[:1] if keep_first else []
        for popen in reversed(self.popens[len(keep):]):
            if popen.poll() is None:
                os.killpg(popen.pid, signal.SIGTERM)
                try:
                    popen.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(popen.pid, signal.SIGKILL)
                    popen.wait(5)
        self.popens = keep


def contracts(n: int, tag: str) -> list[tuple[str, bytes]]:
    from app.samples import generate_samples

    folder = WORK / "samples"
    if not (folder / "services-agreement.pdf").exists():
        generate_samples(folder)
    pdf = (folder / "services-agreement.pdf").read_bytes()
    return [(f"{tag}-{i:03d}.pdf", pdf + f"\n% {tag} {i}\n".encode()) for i in range(n)]


def new_key(tenant: str) -> str:
    from app.core.db import session_scope
    from app.services.tenants import create_api_key

    with session_scope() as session:
        return create_api_key(session, tenant_name=tenant)[1]


def follow(label: str, total: int, count_done: Any) -> float:
    """Waits with a progress bar until ``count_done()`` reaches ``total``; returns seconds."""
    start = time.monotonic()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        bar = progress.add_task(label, total=total)
        while (done := count_done()) < total:
            progress.update(bar, completed=done)
            if time.monotonic() - start > 1800:
                raise RuntimeError(f"{label}: still {done}/{total} after 30 minutes")
            time.sleep(0.25)
        progress.update(bar, completed=total)
    return time.monotonic() - start


def run_batch(url: str, docs: int, tag: str) -> float:
    headers = {"Authorization": f"Bearer {new_key(tag)}"}
    files = [("files", item) for item in contracts(docs, tag)]
    start = time.monotonic()
    response = httpx.post(f"{url}/v1/batches", headers=headers, files=files, timeout=300)
    response.raise_for_status()
    batch_id = response.json()["id"]

    def done() -> int:
        body = httpx.get(f"{url}/v1/batches/{batch_id}", headers=headers, timeout=60).json()
        if body["counts"].get("failed"):
            raise RuntimeError(f"documents failed: {body['documents']}")
        return int(body["counts"].get("done", 0))

    follow(tag, docs, done)
    return time.monotonic() - start


def run_ingest_only(url: str, docs: int, tag: str) -> float:
    from sqlalchemy import func, select

    from app.core.db import session_scope
    from app.models import Document, Job, JobStage, StageName, StageStatus, Tenant

    headers = {"Authorization": f"Bearer {new_key(tag)}"}
    start = time.monotonic()
    for name, data in contracts(docs, tag):
        httpx.post(f"{url}/v1/documents", headers=headers, files={"files": (name, data)},
                   timeout=120).raise_for_status()

    def done() -> int:
        with session_scope() as session:
            return int(session.scalar(
                select(func.count()).select_from(JobStage)
                .join(Job, Job.id == JobStage.job_id).join(Document, Document.id == Job.document_id)
                .join(Tenant, Tenant.id == Document.tenant_id)
                .where(Tenant.name == tag, JobStage.name == StageName.INGEST,
                       JobStage.status == StageStatus.DONE)) or 0)

    follow(tag, docs, done)
    return time.monotonic() - start


def main(docs: Annotated[int, typer.Option(help="contracts per run")] = 20,
         workers: Annotated[str, typer.Option(help="worker counts to try")] = "1,2") -> None:
    """Print documents per minute for batches and for ingest only, per worker count."""
    model = InstantModel()
    prefix = f"lexledger-bench-{RUN}:"
    env = {**os.environ, "LEXLEDGER_ENV": "test", "LEXLEDGER_DB__URL": DB_URL,
           "LEXLEDGER_STORAGE__BLOB_DIR": str(WORK / "blobs"),
           "LEXLEDGER_CELERY__EAGER": "false", "LEXLEDGER_CELERY__BROKER_URL": REDIS_URL,
           "LEXLEDGER_CELERY__KEY_PREFIX": prefix, "LEXLEDGER_LLM__BASE_URL": model.url,
           "LEXLEDGER_LLM__MAX_RETRIES": "0", "LEXLEDGER_LOG_LEVEL": "WARNING",
           "PYTHONUNBUFFERED": "1"}
    os.environ.update({k: v for k, v in env.items() if k.startswith("LEXLEDGER_")})
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    processes = Processes(env)
    rows = []
    try:
        from app.core.migrate import upgrade_database

        upgrade_database(DB_URL)
        url = processes.api()
        for count in (int(c) for c in workers.split(",")):
            processes.workers(count, "ingest,analysis")
            seconds = run_batch(url, docs, f"batch-w{count}")
            rows.append(("batch, full pipeline", count, docs, seconds))
            processes.stop_workers()
            processes.workers(count, "ingest")
            seconds = run_ingest_only(url, docs, f"ingest-w{count}")
            rows.append(("ingest only", count, docs, seconds))
            processes.stop_workers()
    finally:
        processes.stop()
        model.close()
        _drop(prefix)
    table = Table(title=f"LexLedger batch throughput ({os.cpu_count()} CPUs, instant model "
                        "stub, 3-page generated contracts)")
    for column in ("mode", "workers", "documents", "seconds", "documents/min"):
        table.add_column(column, justify="right" if column != "mode" else "left")
    for mode, count, n, seconds in rows:
        table.add_row(mode, str(count), str(n), f"{seconds:.1f}", f"{n / seconds * 60:.1f}")
    console.print(table)


def _drop(prefix: str) -> None:
    from app.core.db import get_engine

    get_engine().dispose()
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)


if __name__ == "__main__":
    typer.run(main)
