"""Task publishing for async routes: one background thread publishes to the broker for the event
loop, so a request awaits the broker's acceptance without a thread hop of its own (on two cores a
hop into the request thread pool cost more CPU than the publish itself). Requests that arrive
while the thread is publishing go out on its next pass, and their callers are woken together.

A caller is answered only once its task is with the broker: an acknowledgement never promises
work that could still be lost. The event loop never blocks on the broker; when the broker is
down, the callers waiting on that pass get the publish's error."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from starlette.concurrency import run_in_threadpool

from app.queue import enqueue
from app.worker import celery_app

_Waiter = tuple[str, tuple[Any, ...], asyncio.AbstractEventLoop, "asyncio.Future[None]"]
_Outcome = tuple["asyncio.Future[None]", BaseException | None]


class Publisher:
    def __init__(self) -> None:
        self._pending: list[_Waiter] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    async def enqueue(self, task_name: str, *args: Any) -> None:
        """``app.queue.enqueue(task_name, *args)`` from the publishing thread; returns once the
        broker has the task, or raises what publishing raised. With eager Celery (the embedded
        default) the task itself runs, in the thread pool, as a request's work would."""
        if celery_app.conf.task_always_eager:
            await run_in_threadpool(enqueue, task_name, *args)
            return
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        with self._lock:
            self._pending.append((task_name, args, loop, done))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="task-publisher",
                                                daemon=True)
                self._thread.start()
        self._wake.set()
        await done

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            with self._lock:
                batch, self._pending = self._pending, []
            self._publish(batch)

    def _publish(self, batch: list[_Waiter]) -> None:
        outcomes: dict[asyncio.AbstractEventLoop, list[_Outcome]] = {}
        failure: BaseException | None = None
        for task_name, args, loop, done in batch:
            if failure is None:  # once the broker failed, the rest of the pass fails fast
                try:
                    enqueue(task_name, *args)
                except Exception as exc:  # handed to the callers, who decide what it means
                    failure = exc
            outcomes.setdefault(loop, []).append((done, failure))
        for loop, settled in outcomes.items():
            try:
                loop.call_soon_threadsafe(_settle, settled)
            except RuntimeError:  # that event loop has closed: nobody waits any more
                pass


def _settle(settled: list[_Outcome]) -> None:
    for done, error in settled:
        if done.cancelled():  # the client went away meanwhile; the task is queued all the same
            continue
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)


publisher = Publisher()
