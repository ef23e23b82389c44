"""The pipeline in its production shape: the API under uvicorn and real Celery worker
processes consuming from Redis, on the real Postgres database. Includes a worker killed with
SIGKILL in the middle of a document: the document still finishes, exactly once."""

from __future__ import annotations

import io
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from pypdf import PdfReader, PdfWriter
from sqlalchemy import func, select

from app.core.db import session_scope
from app.models import Chunk, JobStage, Page, Result, StageName
from tests.conftest import make_key
from tests.live import live_env, wait_for
from tests.pdf_factory import distinct_copies

pytestmark = pytest.mark.slow


def test_50_uploads_at_16_concurrent_reach_done_with_a_real_worker(stack, samples_dir: Path):
    env = live_env()
    url = stack.start_api(env)
    stack.start_worker(env, concurrency=2)
    key = make_key("acme")
    headers = {"Authorization": f"Bearer {key}"}
    contract = (samples_dir / "services-agreement.pdf").read_bytes()
    pages_each = len(PdfReader(io.BytesIO(contract)).pages)
    documents = distinct_copies(contract, 50)

    def send(i: int) -> str:
        response = httpx.post(f"{url}/v1/documents", headers=headers, timeout=60,
                              files={"files": (f"contract-{i}.pdf", documents[i])})
        assert response.status_code == 202, response.text
        return response.json()["documents"][0]["id"]

    with ThreadPoolExecutor(16) as pool:
        ids = list(pool.map(send, range(50)))
    assert len(set(ids)) == 50

    def all_done() -> bool:
        listing = httpx.get(f"{url}/v1/documents", headers=headers,
                            params={"status": "done", "limit": 1}, timeout=10).json()
        failed = httpx.get(f"{url}/v1/documents", headers=headers,
                           params={"status": "failed", "limit": 5}, timeout=10).json()
        assert failed["total"] == 0, failed["items"]
        return listing["total"] == 50

    wait_for(all_done, 600, "50 documents to finish")
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Result)) == 50
        assert session.scalar(select(func.count()).select_from(Page)) == 50 * pages_each
        per_doc = session.execute(select(Page.document_id, func.count())
                                  .group_by(Page.document_id)).all()
        assert {count for _, count in per_doc} == {pages_each}


def test_worker_killed_mid_document_still_finishes_exactly_once(stack, samples_dir: Path):
    # limits short enough that the killed worker's task comes back within a minute, long
    # enough for a slow machine to analyse the 360 pages within them
    env = live_env(LEXLEDGER_CELERY__VISIBILITY_TIMEOUT_S="45",
                   LEXLEDGER_CELERY__TIME_LIMIT_S="40", LEXLEDGER_CELERY__SOFT_TIME_LIMIT_S="35",
                   LEXLEDGER_CELERY__UNACKED_RESTORE_INTERVAL_S="1")
    url = stack.start_api(env)
    first = stack.start_worker(env, queues="ingest", concurrency=1)
    headers = {"Authorization": f"Bearer {make_key('acme')}"}

    contract = (samples_dir / "services-agreement.pdf").read_bytes()
    writer = PdfWriter()
    for _ in range(120):
        writer.append(PdfReader(io.BytesIO(contract)))
    big = io.BytesIO()
    writer.write(big)
    total_pages = len(PdfReader(io.BytesIO(big.getvalue())).pages)

    response = httpx.post(f"{url}/v1/documents", headers=headers, timeout=60,
                          files={"files": ("big.pdf", big.getvalue())})
    document_id = response.json()["documents"][0]["id"]

    def ingest_stage() -> JobStage | None:
        with session_scope() as session:
            return session.scalar(select(JobStage).where(JobStage.name == StageName.INGEST))

    # kill the whole worker (main process and pool child) once some pages are stored
    wait_for(lambda: (s := ingest_stage()) and s.progress_done > 0, 120, "ingest to start")
    first.kill(signal.SIGKILL)
    stage = ingest_stage()
    assert stage is not None and stage.status == "running"
    assert 0 < stage.progress_done < total_pages, "the kill must land mid-document"

    stack.start_worker(env, queues="ingest,analysis", concurrency=1)

    def done() -> dict | None:
        body = httpx.get(f"{url}/v1/documents/{document_id}", headers=headers, timeout=10).json()
        assert body["status"] != "failed", body
        return body if body["status"] == "done" else None

    body = wait_for(done, 240, "the document to finish after the kill")
    stages = {s["name"]: s for s in body["job"]["stages"]}
    assert stages["ingest"]["attempts"] == 2
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Page)) == total_pages
        numbers = session.scalars(select(Page.number)).all()
        assert sorted(numbers) == list(range(1, total_pages + 1))
        assert session.scalar(select(func.count()).select_from(Result)) == 1
        ordinals = session.scalars(select(Chunk.ordinal)).all()
        assert len(ordinals) == len(set(ordinals))
