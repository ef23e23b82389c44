"""The analysis and verify stages: triage the document, run the analysis for its type, check
every cited span against the page text, and store one result per job. Safe to run twice: a
finished job is skipped and the result row is unique per job."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.triage import classify_by_keywords
from agents.verify import verify_citations
from app.models import Document, Page, Result, StageName
from app.services.jobs import finish_job, finish_stage, is_stage_done, load_job, start_stage

log = logging.getLogger(__name__)

RESULT_SCHEMA_VERSION = 1
DETERMINISTIC_MODEL = "deterministic-rules"


def run_analysis(session: Session, job_id: str) -> bool:
    """Runs analysis then verification for ``job_id``; False when there was nothing to do."""
    with session.begin():
        job = load_job(session=session, job_id=job_id, lock=True)
        if job is None or job.status in ("cancelled", "failed", "done"):
            return False
        if not is_stage_done(job, StageName.INGEST):
            log.warning("job %s: analysis requested before ingest finished", job_id)
            return False
        document = session.get(Document, job.document_id)
        if document is None:
            return False
        pages = [(p.number, p.text) for p in session.scalars(
            select(Page).where(Page.document_id == document.id).order_by(Page.number))]
        flags = {p.number: list(p.flags) for p in session.scalars(
            select(Page).where(Page.document_id == document.id))}
        if not is_stage_done(job, StageName.ANALYSIS):
            start_stage(session=session, job=job, document=document, name=StageName.ANALYSIS)
        document_id = document.id
        document_facts = {"id": str(document.id), "filename": document.filename,
                          "sha256": document.sha256, "pages": document.page_count}

    triage = classify_by_keywords(pages)
    result: dict[str, Any] = {
        "schema_version": RESULT_SCHEMA_VERSION,
        "document": document_facts,
        "model": DETERMINISTIC_MODEL,
        "doc_type": {
            "value": triage.doc_type,
            "scores": triage.scores,
            "citations": [{"page": e.page, "start": e.start, "end": e.end, "text": e.text}
                          for e in triage.evidence],
        },
        "quality": _quality_summary(flags),
    }

    with session.begin():
        job = load_job(session=session, job_id=job_id, lock=True)
        document = session.get(Document, document_id) if job else None
        if job is None or document is None:
            return False
        finish_stage(session=session, job=job, name=StageName.ANALYSIS,
                     detail=f"type: {triage.doc_type}")
        document.doc_type = triage.doc_type
        start_stage(session=session, job=job, document=document, name=StageName.VERIFY)

    page_text = dict(pages)
    report = verify_citations(result, page_text)
    result["verification"] = report

    with session.begin():
        job = load_job(session=session, job_id=job_id, lock=True)
        document = session.get(Document, document_id) if job else None
        if job is None or document is None:
            return False
        existing = session.scalar(select(Result).where(Result.job_id == job.id))
        if existing is None:
            session.add(Result(document_id=document.id, job_id=job.id,
                               model=result["model"], data=result))
        else:
            existing.data, existing.model = result, result["model"]
        finish_stage(session=session, job=job, name=StageName.VERIFY,
                     detail=f"{report['verified']}/{report['checked']} citations verified")
        finish_job(session=session, job=job, document=document)
    return True


def _quality_summary(flags: dict[int, list[str]]) -> dict[str, list[int]]:
    summary: dict[str, list[int]] = {}
    for number in sorted(flags):
        for flag in flags[number]:
            summary.setdefault(flag, []).append(number)
    return summary
