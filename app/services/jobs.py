"""Job and stage bookkeeping, shared by the API (creating jobs) and the workers (moving stages).
Stage state lives in the database so a task delivered twice can see what is already done.
Helpers take ``session`` keyword-only and never commit: the calling task owns the transaction."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session, joinedload

from app.models import (
    STAGE_DOCUMENT_STATUS,
    Document,
    DocumentStatus,
    Job,
    JobStage,
    StageName,
    StageStatus,
)
from app.models.base import utcnow

PIPELINE = (StageName.INGEST, StageName.ANALYSIS, StageName.VERIFY)


def create_job(*, session: Session, document: Document) -> Job:
    """A new job for ``document`` with every stage pending; the document goes back to queued."""
    job = Job(document_id=document.id, status=DocumentStatus.QUEUED)
    job.stages = [JobStage(name=name, position=i) for i, name in enumerate(PIPELINE)]
    session.add(job)
    document.status = DocumentStatus.QUEUED
    document.failure_reason = None
    session.flush()
    return job


def latest_job(*, session: Session, document_id: uuid.UUID) -> Job | None:
    return session.scalar(select(Job).where(Job.document_id == document_id)
                          .order_by(Job.created_at.desc()).limit(1))


def load_job(*, session: Session, job_id: uuid.UUID | str, lock: bool = False) -> Job | None:
    """The job with its stages and document (one query; ``lock`` holds the job row until the
    transaction ends), or ``None`` when it has been deleted meanwhile."""
    # populate_existing: a session that loaded the job earlier must see a cancel made since
    query = (select(Job).where(Job.id == uuid.UUID(str(job_id)))
             .options(joinedload(Job.stages), joinedload(Job.document))
             .execution_options(populate_existing=True))
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Job)
    return session.scalars(query).unique().one_or_none()


def stage_of(job: Job, name: StageName) -> JobStage:
    return next(stage for stage in job.stages if stage.name == name)


def start_stage(*, session: Session, job: Job, document: Document, name: StageName,
                total: int | None = None, started_at: datetime | None = None) -> JobStage:
    """Marks the stage running; ``started_at`` when its work began before this transaction
    (the ingest stage records its start with the first stored pages, after parsing them)."""
    stage = stage_of(job, name)
    if is_cancelled(job):  # a cancelled job never moves again
        return stage
    stage.status = StageStatus.RUNNING
    stage.attempts += 1
    stage.started_at = started_at or utcnow()
    stage.error = None
    stage.progress_done = 0
    stage.progress_total = total
    job.status = document.status = STAGE_DOCUMENT_STATUS[name]
    job.started_at = job.started_at or stage.started_at
    return stage


def advance_stage(*, session: Session, job_id: uuid.UUID | str, name: StageName,
                  done: int) -> bool:
    """Moves a running stage's progress to ``done`` with one statement, without loading the job;
    False when the stage no longer runs (the job was cancelled or deleted meanwhile)."""
    moved = session.execute(
        update(JobStage)
        .where(JobStage.job_id == uuid.UUID(str(job_id)), JobStage.name == name,
               JobStage.status == StageStatus.RUNNING)
        .values(progress_done=done)
        .execution_options(synchronize_session=False))
    return cast(CursorResult[Any], moved).rowcount == 1


def finish_stage(*, session: Session, job: Job, name: StageName, detail: str | None = None) -> None:
    stage = stage_of(job, name)
    if is_cancelled(job):
        return
    stage.status = StageStatus.DONE
    stage.finished_at = utcnow()
    if stage.progress_total is not None:
        stage.progress_done = stage.progress_total
    if detail:
        stage.detail = detail[:200]


def finish_job(*, session: Session, job: Job, document: Document) -> None:
    if is_cancelled(job):
        return
    job.status = document.status = DocumentStatus.DONE
    job.finished_at = utcnow()


def fail_job(*, session: Session, job: Job, document: Document, name: StageName,
             reason: str) -> None:
    """Marks the stage, the job and the document failed with a readable reason; later stages
    stay pending (they never ran)."""
    stage = stage_of(job, name)
    stage.status = StageStatus.FAILED
    stage.error = reason
    stage.finished_at = utcnow()
    job.status = document.status = DocumentStatus.FAILED
    job.error = document.failure_reason = reason
    job.finished_at = stage.finished_at


def fail_unfinished(*, session: Session, job_id: uuid.UUID | str, reason: str) -> bool:
    """Fails a job that stopped without finishing (its task broke or ran out of time) at the
    stage that was running, ingest when none was; False when the job had finished or is gone."""
    job = load_job(session=session, job_id=job_id, lock=True)
    if job is None or job.document is None or DocumentStatus(job.status).finished:
        return False
    running = next((s.name for s in job.stages if s.status == StageStatus.RUNNING),
                   StageName.INGEST)
    fail_job(session=session, job=job, document=job.document, name=running, reason=reason)
    return True


def is_stage_done(job: Job, name: StageName) -> bool:
    return stage_of(job, name).status == StageStatus.DONE


def is_cancelled(job: Job) -> bool:
    """True once the job was cancelled: stages check this at their boundaries and stop."""
    return job.status == DocumentStatus.CANCELLED


def cancel_job(*, session: Session, job: Job, document: Document | None,
               reason: str = "cancelled") -> bool:
    """Marks an unfinished job and its document cancelled; stages not yet finished become
    cancelled too. A running stage notices at its next boundary. False when already finished."""
    if DocumentStatus(job.status).finished:
        return False
    now = utcnow()
    for stage in job.stages:
        if stage.status in (StageStatus.PENDING, StageStatus.RUNNING):
            stage.status = StageStatus.CANCELLED
            stage.finished_at = now
    job.status = DocumentStatus.CANCELLED
    job.error = reason
    job.finished_at = now
    if document is not None:
        document.status = DocumentStatus.CANCELLED
        document.failure_reason = reason
    return True
