"""A worker started on the same host as the API gives way to it: the worker and its pool processes
run at ``celery.worker_nice`` below the API's CPU priority, so webhook acks and API calls stay fast
while documents and answers are computed."""

from __future__ import annotations

import os
from pathlib import Path

from tests.live import live_env, wait_for


def niceness(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def children(pid: int) -> list[int]:
    found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in found]


def test_worker_and_its_pool_run_below_the_apis_priority(stack):
    env = live_env(LEXLEDGER_CELERY__WORKER_NICE="7")
    stack.start_api(env)
    worker = stack.start_worker(env, queues="interactive", concurrency=2)
    api = stack.processes[0]

    pool = wait_for(lambda: len(children(worker.popen.pid)) == 2 and children(worker.popen.pid),
                    60, "the worker's pool processes")

    assert niceness(api.popen.pid) == niceness(os.getpid())
    assert niceness(worker.popen.pid) == niceness(os.getpid()) + 7
    assert [niceness(child) for child in pool] == [niceness(os.getpid()) + 7] * 2
