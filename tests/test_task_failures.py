"""A stage's task that fails in a way the stage does not handle itself ends its document failed,
with a reason, instead of leaving it processing for ever: an unexpected error, and the hard time
limit (Celery's worker kills the pool process and calls the task's ``on_failure`` from its main
process with ``TimeLimitExceeded``; the call below is the one it makes)."""

from __future__ import annotations

import uuid

from celery.exceptions import TimeLimitExceeded
from sqlalchemy import select

from agents import tasks
from app.core.db import session_scope
from app.core.settings import get_settings
from app.models import Job


def queued_document(client, auth, samples_dir, monkeypatch) -> tuple[str, str]:
    """An uploaded document whose ingest task was not run yet: (document id, job id)."""
    monkeypatch.setattr("app.services.documents.enqueue", lambda *args, **kwargs: None)
    pdf = (samples_dir / "services-agreement.pdf").read_bytes()
    response = client.post("/v1/documents", headers=auth,
                           files={"files": (f"{uuid.uuid4().hex}.pdf", pdf + uuid.uuid4().bytes)})
    assert response.status_code == 202, response.text
    document_id = response.json()["documents"][0]["id"]
    with session_scope() as session:
        job_id = session.scalar(select(Job.id).where(Job.document_id == uuid.UUID(document_id)))
    return document_id, str(job_id)


def test_an_unexpected_error_fails_the_document_with_a_reason(client, auth, samples_dir,
                                                             monkeypatch):
    document_id, job_id = queued_document(client, auth, samples_dir, monkeypatch)

    def broken(session, job_id):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(tasks, "run_ingest", broken)
    # as a worker runs it: the error is the task's outcome, not raised to the caller
    outcome = tasks.ingest.apply(args=(job_id,), throw=False)
    assert isinstance(outcome.result, RuntimeError)
    body = client.get(f"/v1/documents/{document_id}", headers=auth).json()
    assert body["status"] == "failed"
    assert body["failure_reason"] == "processing failed unexpectedly (RuntimeError)"
    assert {s["name"]: s["status"] for s in body["job"]["stages"]}["ingest"] == "failed"


def test_the_hard_time_limit_fails_the_document_with_a_reason(client, auth, samples_dir,
                                                             monkeypatch):
    document_id, job_id = queued_document(client, auth, samples_dir, monkeypatch)
    limit = get_settings().celery.time_limit_s
    tasks.ingest.on_failure(TimeLimitExceeded(limit), "task-id", (job_id,), {}, None)
    body = client.get(f"/v1/documents/{document_id}", headers=auth).json()
    assert body["status"] == "failed"
    assert body["failure_reason"] == f"processing stopped after the {limit} s hard time limit"


def test_a_finished_document_is_left_as_it_is(client, auth, samples_dir):
    pdf = (samples_dir / "thai-lease.pdf").read_bytes()
    [doc] = client.post("/v1/documents", headers=auth,
                        files={"files": ("lease.pdf", pdf)}).json()["documents"]
    with session_scope() as session:
        job_id = session.scalar(select(Job.id).where(Job.document_id == uuid.UUID(doc["id"])))
    tasks.analyse.on_failure(TimeLimitExceeded(1), "task-id", (str(job_id),), {}, None)
    assert client.get(f"/v1/documents/{doc['id']}", headers=auth).json()["status"] == "done"
