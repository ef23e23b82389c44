"""The Celery tasks the workers run. Each is thin: it takes a job id, runs one stage through
``agents.pipeline`` (which re-loads rows, skips finished stages and stores failures), and queues
the next stage after its own transaction has committed. Only transient errors (database or broker
connection trouble) are retried, with exponential backoff and jitter."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from celery import Task
from celery.exceptions import SoftTimeLimitExceeded
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.exc import OperationalError

from agents.pipeline.analysis_stage import run_analysis
from agents.pipeline.ingest_stage import run_ingest
from app.core.db import session_scope
from app.core.errors import UpstreamUnavailable
from app.core.settings import get_settings
from app.queue import enqueue
from app.services.jobs import fail_unfinished
from app.worker import celery_app

log = logging.getLogger(__name__)

TRANSIENT = (OperationalError, RedisConnectionError, UpstreamUnavailable)
RETRY = {"autoretry_for": TRANSIENT, "retry_backoff": 2, "retry_backoff_max": 120,
         "retry_jitter": True, "max_retries": 5}


@contextmanager
def failing_when_overdue(job_id: str) -> Iterator[None]:
    """Turns the soft time limit into a failed document with a reason a user can act on."""
    try:
        yield
    except SoftTimeLimitExceeded:
        limit = get_settings().celery.soft_time_limit_s
        reason = f"processing stopped after the {limit} s time limit"
        log.error("job %s: %s", job_id, reason)
        with session_scope() as session, session.begin():
            fail_unfinished(session=session, job_id=job_id, reason=reason)


@celery_app.task(name="lexledger.ingest", bind=True, **RETRY)
def ingest(self: Task, job_id: str) -> None:
    """Parse, gate, chunk and store the pages of the job's document, then queue its analysis."""
    proceed = False
    with failing_when_overdue(job_id), session_scope() as session:
        proceed = run_ingest(session, job_id)
    if proceed:
        enqueue("lexledger.analyse", job_id)


@celery_app.task(name="lexledger.analyse", bind=True, **RETRY)
def analyse(self: Task, job_id: str) -> None:
    """Triage, analyse and verify the job's document and store its result."""
    with failing_when_overdue(job_id), session_scope() as session:
        run_analysis(session, job_id)
