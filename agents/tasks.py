"""The Celery tasks the workers run. Each is thin: it takes a job id, runs one stage through
``agents.pipeline`` (which re-loads rows, skips finished stages and stores failures), and queues
the next stage after its own transaction has committed. Only transient errors (database or broker
connection trouble) are retried, with exponential backoff and jitter."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from celery import Task
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
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


class StageTask(Task):  # type: ignore[misc]
    """A pipeline stage's task. A failure the stage does not handle itself (an unexpected error
    once its retries are spent, or the hard time limit, whose kill Celery reports here from the
    worker's main process) fails the job's document with a reason, instead of leaving it
    unfinished for ever."""

    def on_failure(self, exc: BaseException, task_id: str, args: Any, kwargs: Any,
                   einfo: Any) -> None:
        job_id = args[0] if args else kwargs.get("job_id")
        if isinstance(exc, TimeLimitExceeded):
            limit = get_settings().celery.time_limit_s
            reason = f"processing stopped after the {limit} s hard time limit"
        else:  # the details are in the worker's log, not in what a customer reads
            reason = f"processing failed unexpectedly ({type(exc).__name__})"
        log.error("job %s: %s", job_id, reason)
        try:
            with session_scope() as session, session.begin():
                fail_unfinished(session=session, job_id=job_id, reason=reason)
        except Exception:  # the database itself may be what failed; the log keeps the reason
            log.exception("job %s: its failure could not be stored", job_id)


@celery_app.task(name="lexledger.ingest", bind=True, base=StageTask, **RETRY)
def ingest(self: Task, job_id: str) -> None:
    """Parse, gate, chunk and store the pages of the job's document, then queue its analysis."""
    proceed = False
    with failing_when_overdue(job_id), session_scope() as session:
        proceed = run_ingest(session, job_id)
    if proceed:
        enqueue("lexledger.analyse", job_id)


@celery_app.task(name="lexledger.analyse", bind=True, base=StageTask, **RETRY)
def analyse(self: Task, job_id: str) -> None:
    """Triage, analyse and verify the job's document and store its result."""
    with failing_when_overdue(job_id), session_scope() as session:
        run_analysis(session, job_id)
