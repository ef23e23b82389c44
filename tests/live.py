"""Runs LexLedger the way production does, as separate processes on loopback: the API under
uvicorn and Celery workers consuming from Redis, all sharing the test database and blob folder.
Every process is started in its own process group and ended by its PID."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import httpx

from tests.conftest import REDIS_URL, RUN_ID, VAR

T = TypeVar("T")


def wait_for(predicate: Callable[[], T], timeout: float, what: str,
             interval: float = 0.3) -> T:
    """Polls ``predicate`` until it returns something truthy, and returns that."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def live_env(**overrides: str) -> dict[str, str]:
    """The environment of a production-like process: a real broker, no eager tasks."""
    env = dict(os.environ)
    env.update({
        "LEXLEDGER_CELERY__EAGER": "false",
        "LEXLEDGER_CELERY__BROKER_URL": REDIS_URL,
        "LEXLEDGER_CELERY__KEY_PREFIX": f"lexledger-test-{RUN_ID}:",
        "PYTHONUNBUFFERED": "1",
    })
    env.update(overrides)
    return env


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def kill(self, sig: int = signal.SIGTERM, wait_s: float = 15.0) -> None:
        """Signals the whole process group (a Celery worker and its pool children)."""
        if self.popen.poll() is not None:
            return
        try:
            os.killpg(self.popen.pid, sig)
        except ProcessLookupError:
            return
        try:
            self.popen.wait(wait_s)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(5)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-5000:]


@dataclass
class Stack:
    processes: list[Process] = field(default_factory=list)
    api_url: str = ""

    def start(self, name: str, args: list[str], env: dict[str, str]) -> Process:
        log = VAR / f"{name}-{len(self.processes)}.log"
        handle = log.open("wb")
        popen = subprocess.Popen([sys.executable, "-m", "app", *args], env=env, stdout=handle,
                                 stderr=subprocess.STDOUT, start_new_session=True)
        process = Process(name, popen, log)
        self.processes.append(process)
        return process

    def start_api(self, env: dict[str, str]) -> str:
        port = free_port()
        process = self.start("api", ["api", "--port", str(port)], env)
        self.api_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.popen.poll() is not None:
                raise RuntimeError(f"API exited early:\n{process.output()}")
            try:
                if httpx.get(f"{self.api_url}/healthz", timeout=1).status_code == 200:
                    return self.api_url
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError(f"API did not start:\n{process.output()}")

    def start_worker(self, env: dict[str, str], queues: str = "ingest,analysis",
                     concurrency: int = 2) -> Process:
        name = f"worker{len(self.processes)}"
        return self.start(name, ["worker", "--queues", queues, "--concurrency",
                                 str(concurrency), "--hostname", f"{name}-{RUN_ID}@%h"], env)

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.kill()
