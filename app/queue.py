"""Hands work to the workers by task name. The API never imports the worker code: it names a
task, and Celery routes it to its queue (see ``app.worker``). Call only after the transaction that
created the rows has committed, so a worker never looks for a row that is not there yet.

On the embedded defaults Celery runs eagerly: the task executes in the calling process, through
exactly the same task code a worker would run."""

from __future__ import annotations

from typing import Any

from app.worker import celery_app, printable_args


def enqueue(task_name: str, *args: Any, countdown: float | None = None) -> None:
    """Sends ``task_name(*args)`` to its queue (or runs it now, when Celery is eager). The
    message's printable form names the arguments' types only: customer messages and document
    ids stay out of worker logs and monitoring, and publishing skips Celery's repr of them."""
    if celery_app.conf.task_always_eager:
        celery_app.loader.import_default_modules()
        celery_app.tasks[task_name].apply_async(args=args, countdown=countdown)
        return
    # given here, Celery skips rendering the arguments (app.worker keeps them hidden on retries)
    celery_app.send_task(task_name, args=args, countdown=countdown,
                         argsrepr=printable_args(args), kwargsrepr="{}")
