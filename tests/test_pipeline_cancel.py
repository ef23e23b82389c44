"""Cancelling a document while its pages are being stored: the ingest stage notices at its next
batch, stores nothing more, and the document stays cancelled with the progress it had reached.
Tasks run in-process (eager Celery); the cancel is made from a second database session between
two batches, as the API's cancel would be."""

from __future__ import annotations

import io

from sqlalchemy import func, select

import agents.pipeline.ingest_stage as ingest_stage
from app.core.db import session_scope
from app.models import Document, Page
from app.services.jobs import cancel_job, latest_job, load_job
from tests.pdf_factory import text_pdf_bytes


def test_a_cancel_between_batches_stops_the_ingest_where_it_was(client, auth, monkeypatch):
    pages = 3 * ingest_stage.PAGE_BATCH
    batches = ingest_stage._batches

    def cancelled_after_the_first_batch(reading):
        for index, (batch, last) in enumerate(batches(reading)):
            if index == 1:  # the first batch is committed: the user cancels now
                with session_scope() as other, other.begin():
                    document = other.scalars(select(Document)).one()
                    job = latest_job(session=other, document_id=document.id)
                    assert job is not None
                    job = load_job(session=other, job_id=job.id, lock=True)
                    assert job is not None
                    cancel_job(session=other, job=job, document=job.document)
            yield batch, last

    monkeypatch.setattr(ingest_stage, "_batches", cancelled_after_the_first_batch)
    response = client.post("/v1/documents", headers=auth, files=[
        ("files", ("long.pdf", io.BytesIO(text_pdf_bytes(pages)), "application/pdf"))])
    assert response.status_code == 202, response.text
    [document] = response.json()["documents"]

    detail = client.get(f"/v1/documents/{document['id']}", headers=auth).json()
    assert detail["status"] == "cancelled"
    stages = {stage["name"]: stage for stage in detail["job"]["stages"]}
    assert stages["ingest"]["status"] == "cancelled"
    assert (stages["ingest"]["progress_done"], stages["ingest"]["progress_total"]) == (
        ingest_stage.PAGE_BATCH, pages)
    assert stages["analysis"]["status"] == "cancelled"
    with session_scope() as session:
        stored = session.scalar(select(func.count()).select_from(Page))
    assert stored == ingest_stage.PAGE_BATCH  # the batch in hand when the cancel came is dropped
