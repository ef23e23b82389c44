"""The Celery application: broker, queues, routing and the reliability settings every task
relies on. Workers run the tasks defined in ``agents.tasks`` (named here, never imported by the
API). Queues: ``ingest`` (parsing), ``analysis`` (agents; batches), ``interactive`` (questions and
the LINE bot, so a chat never waits behind a batch).

Run one worker per queue group: ``lexledger worker --queues ingest,analysis``. A worker lowers its
CPU priority (``celery.worker_nice``) so an API on the same host keeps answering quickly, and each
pool process runs torch on ``celery.worker_torch_threads`` threads."""

from __future__ import annotations

import os
import sys
from typing import Any

from celery import Celery
from celery.signals import before_task_publish, worker_init, worker_process_init
from kombu import Queue

from app.core.settings import get_settings

QUEUES = ("ingest", "analysis", "interactive")

TASK_ROUTES = {
    "lexledger.ingest": {"queue": "ingest"},
    "lexledger.analyse": {"queue": "analysis"},
    "lexledger.interactive.*": {"queue": "interactive"},
}


def _transport_options() -> dict[str, object]:
    settings = get_settings().celery
    options: dict[str, object] = {
        "visibility_timeout": settings.visibility_timeout_s,
        "unacked_restore_interval": settings.unacked_restore_interval_s,
        "unacked_restore_throttle": 1,
    }
    if settings.key_prefix:
        options["global_keyprefix"] = settings.key_prefix
    return options


def create_celery() -> Celery:
    settings = get_settings().celery
    app = Celery("lexledger", broker=settings.broker_url, include=["agents.tasks",
                                                                  "agents.line.tasks",
                                                                  "agents.support.tasks",
                                                                  "app.batch_tasks"])
    app.conf.update(
        task_queues=[Queue(name) for name in QUEUES],
        task_default_queue="ingest",
        task_routes=TASK_ROUTES,
        task_ignore_result=True,
        # a task is acknowledged only after it finished; a killed worker's task is redelivered
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=settings.prefetch_multiplier,
        worker_max_tasks_per_child=settings.max_tasks_per_child,
        task_soft_time_limit=settings.soft_time_limit_s,
        task_time_limit=settings.time_limit_s,
        broker_transport_options=_transport_options(),
        broker_connection_retry_on_startup=True,
        task_always_eager=settings.eager,
        task_eager_propagates=True,
        worker_hijack_root_logger=False,
        task_serializer="json",
        accept_content=["json"],
    )
    return app


celery_app = create_celery()


def printable_args(args: tuple[Any, ...] | list[Any]) -> str:
    """What logs and monitoring show of a task's arguments: their types, never their values
    (customers' messages, document ids)."""
    return "(" + ", ".join(type(arg).__name__ for arg in args) + ")"


@before_task_publish.connect
def _hide_arguments(headers: dict[str, Any] | None = None, body: Any = None,
                    **_: Any) -> None:
    """Covers every publish, a task's own retries included (Celery re-renders those)."""
    if headers is not None and isinstance(body, tuple | list) and body:
        headers["argsrepr"] = printable_args(body[0])
        headers["kwargsrepr"] = "{}"


@worker_init.connect
def _yield_cpu_to_the_api(**_: Any) -> None:
    """Runs in the worker's main process before it forks its pool, which inherits the priority."""
    nice = get_settings().celery.worker_nice
    if nice:
        os.nice(nice)


@worker_process_init.connect
def _limit_torch_threads(**_: Any) -> None:
    threads = get_settings().celery.worker_torch_threads
    if not threads:
        return
    os.environ["OMP_NUM_THREADS"] = str(threads)  # for a torch imported later in this process
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)
