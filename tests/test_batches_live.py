"""Batches in their production shape: the API under uvicorn and real Celery workers on Redis.
30 documents all finish and export one matching row each, and the completion callback arrives
once with a valid signature; cancel mid-batch leaves nothing running and nothing started after;
one tenant's big batch does not hold back another tenant's small one."""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.callbacks import SIGNATURE_HEADER, verify_signature
from app.core.db import session_scope
from app.models import JobStage
from app.models.batch import BatchItem
from tests.conftest import make_key
from tests.live import live_env, wait_for
from tests.pdf_factory import distinct_copies

pytestmark = pytest.mark.slow

SECRET = "test-callback-secret"
RUNNING = {"parsing", "analysing", "verifying"}


class Receiver:
    """A loopback HTTP server that records every callback it gets."""

    def __init__(self) -> None:
        received: list[tuple[dict[str, str], bytes]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the http.server API)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((dict(self.headers), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.received = received
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/lexledger"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def create(url: str, headers: dict[str, str], documents: list[bytes], prefix: str,
           **form: str) -> dict[str, Any]:
    files = [("files", (f"{prefix}-{i:02d}.pdf", data)) for i, data in enumerate(documents)]
    response = httpx.post(f"{url}/v1/batches", headers=headers, files=files, data=form,
                          timeout=120)
    assert response.status_code == 202, response.text
    return response.json()


def summary(url: str, headers: dict[str, str], batch_id: str) -> dict[str, Any]:
    response = httpx.get(f"{url}/v1/batches/{batch_id}", headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def env_with_callbacks() -> dict[str, str]:
    return live_env(LEXLEDGER_BATCHES__CALLBACK_ALLOW_PRIVATE="true",
                    LEXLEDGER_BATCHES__CALLBACK_SECRET=SECRET)


def test_30_documents_finish_export_matches_and_callback_arrives_once(stack, samples_dir: Path):
    env = env_with_callbacks()
    url = stack.start_api(env)
    stack.start_worker(env, concurrency=2)
    headers = {"Authorization": f"Bearer {make_key('acme')}"}
    contract = (samples_dir / "services-agreement.pdf").read_bytes()
    receiver = Receiver()
    try:
        batch = create(url, headers, distinct_copies(contract, 30), "contract",
                       callback_url=receiver.url, name="thirty")
        assert batch["total"] == 30
        # fair share: never more than the per-batch cap handed to the queues at once
        assert sum(d["queued_for_work"] for d in batch["documents"]) <= 4

        def finished() -> dict[str, Any] | None:
            body = summary(url, headers, batch["id"])
            assert "failed" not in body["counts"], body["documents"]
            return body if body["status"] == "done" else None

        body = wait_for(finished, 900, "30 documents to finish")
        assert body["counts"] == {"done": 30} and body["documents_per_minute"] > 0

        exported = httpx.get(f"{url}/v1/batches/{batch['id']}/export", headers=headers,
                             params={"format": "csv"}, timeout=60)
        rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
        assert [r["document_id"] for r in rows] == [d["document_id"] for d in body["documents"]]
        assert [r["filename"] for r in rows] == [f"contract-{i:02d}.pdf" for i in range(30)]
        assert {r["status"] for r in rows} == {"done"}
        assert all(r["doc_type"] == "contract" and r["result.doc_type pages"] for r in rows)

        wait_for(lambda: receiver.received, 60, "the completion callback")
        time.sleep(3)  # a second delivery would arrive by now
        assert len(receiver.received) == 1
        headers_in, raw = receiver.received[0]
        signature = {k.lower(): v for k, v in headers_in.items()}[SIGNATURE_HEADER.lower()]
        assert verify_signature(raw, signature, SECRET)
        assert not verify_signature(raw, signature, "another-secret")
        assert not verify_signature(raw + b" ", signature, SECRET)
        payload = json.loads(raw)
        assert payload["event"] == "batch.finished"
        assert payload["batch"]["id"] == batch["id"]
        assert payload["batch"]["counts"] == {"done": 30}
    finally:
        receiver.close()


def test_cancel_mid_batch_leaves_nothing_running_and_nothing_starts_after(stack,
                                                                         samples_dir: Path):
    env = live_env()
    url = stack.start_api(env)
    stack.start_worker(env, concurrency=1)
    headers = {"Authorization": f"Bearer {make_key('acme')}"}
    contract = (samples_dir / "services-agreement.pdf").read_bytes()
    batch = create(url, headers, distinct_copies(contract, 16), "contract")

    wait_for(lambda: summary(url, headers, batch["id"])["counts"].get("done", 0) >= 2, 300,
             "two documents to finish")
    response = httpx.post(f"{url}/v1/batches/{batch['id']}/cancel", headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    cancelled_at = datetime.now(UTC)
    assert response.json()["documents"] >= 1

    body = summary(url, headers, batch["id"])
    assert body["status"] == "cancelled"
    assert not RUNNING & set(body["counts"]), body["counts"]
    time.sleep(8)  # time for the worker to reach (and stop at) its next stage boundary
    body = summary(url, headers, batch["id"])
    assert not RUNNING & set(body["counts"]) and "queued" not in body["counts"], body["counts"]
    assert set(body["counts"]) <= {"done", "cancelled"} and body["counts"]["cancelled"] >= 1
    assert sum(body["counts"].values()) == 16
    with session_scope() as session:
        job_ids = session.scalars(select(BatchItem.job_id)
                                  .where(BatchItem.batch_id == batch["id"])).all()
        late = session.scalars(select(JobStage).where(JobStage.job_id.in_(job_ids),
                                                      JobStage.started_at > cancelled_at)).all()
    assert late == [], [(s.job_id, s.name, s.started_at) for s in late]


def test_a_big_batch_does_not_hold_back_another_tenants_small_one(stack, samples_dir: Path):
    env = live_env(LEXLEDGER_BATCHES__MAX_IN_FLIGHT_PER_BATCH="2")
    url = stack.start_api(env)
    stack.start_worker(env, concurrency=1)
    big_tenant = {"Authorization": f"Bearer {make_key('bigco')}"}
    small_tenant = {"Authorization": f"Bearer {make_key('smallco')}"}
    contract = (samples_dir / "services-agreement.pdf").read_bytes()
    big = create(url, big_tenant, distinct_copies(contract, 12, "big"), "big")
    small = create(url, small_tenant, distinct_copies(contract, 2, "small"), "small")

    wait_for(lambda: summary(url, small_tenant, small["id"])["status"] == "done", 300,
             "the small batch to finish")
    done_of_big = summary(url, big_tenant, big["id"])["counts"].get("done", 0)
    # dumped all at once, the small batch would wait for all 12; fed fairly, it waits for a few
    assert done_of_big <= 6, done_of_big
    wait_for(lambda: summary(url, big_tenant, big["id"])["status"] == "done", 600,
             "the big batch to finish")
