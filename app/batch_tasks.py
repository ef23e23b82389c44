"""The Celery tasks behind batches: the feeder (hands a tenant's batches their next documents),
the completion hook (a finished job frees a slot) and the signed completion callback, retried
with exponential backoff. They are thin: the work is in ``app.services.batches`` and
``app.callbacks``. They are light and run on the default ``ingest`` queue."""

from __future__ import annotations

import logging
import time

from celery import Task

from app.callbacks import CallbackRefused, deliver
from app.core.db import session_scope
from app.core.errors import UpstreamUnavailable
from app.core.settings import get_settings
from app.models.base import utcnow
from app.models.batch import Batch
from app.services.batch_feeder import (
    CALLBACK_TASK,
    FEED_TASK,
    JOB_FINISHED_TASK,
    run_feeder,
    tenant_of_batch_job,
)
from app.services.batches import summarize
from app.worker import celery_app

log = logging.getLogger(__name__)


@celery_app.task(name=FEED_TASK)
def feed(tenant_id: str) -> None:
    """Hand the tenant's running batches their next documents, within the in-flight caps."""
    run_feeder(tenant_id)


@celery_app.task(name=JOB_FINISHED_TASK)
def job_finished(job_id: str) -> None:
    """A job finished: if it belongs to a batch, its slot goes to the tenant's next document."""
    with session_scope() as session:
        tenant_id = tenant_of_batch_job(session, job_id)
    if tenant_id is not None:
        run_feeder(str(tenant_id))


@celery_app.task(name=CALLBACK_TASK, bind=True, max_retries=None)
def send_callback(self: Task, batch_id: str) -> None:
    """POST the signed summary of a finished batch to its callback URL, once; retried with
    exponential backoff when the receiver is down, then recorded as failed."""
    with session_scope() as session, session.begin():
        batch = session.get(Batch, batch_id)
        if batch is None or batch.callback_url is None or batch.callback_delivered_at:
            return
        url, payload = batch.callback_url, {"event": "batch.finished",
                                            "batch": summarize(session, batch)}
    attempts = get_settings().batches.callback_max_attempts
    try:
        deliver(url, payload)
    except CallbackRefused as exc:
        _record(batch_id, error=str(exc))
        return
    except UpstreamUnavailable as exc:
        if self.request.retries + 1 >= attempts:
            _record(batch_id, error=f"{exc} (gave up after {attempts} attempts)")
            return
        delay = min(300, 2 ** (self.request.retries + 1))
        if self.request.is_eager:
            # an embedded run has no worker to come back later: retry in place, briefly
            time.sleep(min(delay, 1.0))
            send_callback.apply(args=(batch_id,), retries=self.request.retries + 1)
            return
        raise self.retry(exc=exc, countdown=delay) from exc
    _record(batch_id, error=None)


def _record(batch_id: str, *, error: str | None) -> None:
    with session_scope() as session, session.begin():
        batch = session.get(Batch, batch_id)
        if batch is None:
            return
        batch.callback_error = error
        if error is None:
            batch.callback_delivered_at = utcnow()
        else:
            log.warning("batch %s callback failed: %s", batch_id, error)
