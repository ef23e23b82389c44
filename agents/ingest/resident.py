"""A resident parsing child: one sandboxed process per worker process that parses documents one
after another, so a document costs a message on a pipe instead of a fork. A fork of a worker costs
about 4-6 ms of CPU plus the copy-on-write faults of a fresh child (about 10 ms more per document
on a busy two-core machine), which on short documents was most of the ingest time.

The child gets the same limits as a one-shot child (agents.ingest.sandbox): an address-space
limit fixed when it starts, a CPU-time allowance renewed for each document, and the parent's
wait-time budget per document. It serves until something goes wrong: a crash, a limit, a caller
that stops reading mid-document, more memory than a quarter of the budget kept between documents,
or ``MAX_DOCUMENTS`` documents; then it is ended and the next document starts a fresh one. A
process that forks (Celery's prefork pool) forgets the resident child it inherited, and a thread
that finds the resident child busy parses in a one-shot child instead.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Generator, Iterable
from functools import partial
from typing import Any

from agents.ingest import sandbox
from agents.ingest.sandbox import ChildStats, FrameReader

MAX_DOCUMENTS = 200
# the child's first frame for each document: after it, a death is the document's doing
_STARTED = "started"
_MIB = 1024 * 1024


class ChildGone(Exception):
    """The resident child had died before it took the document (a retry is safe)."""


class ResidentChild:
    """The long-lived child and the two pipes to it (requests down, frames up)."""

    def __init__(self, memory_bytes: int) -> None:
        self.memory_bytes = memory_bytes
        self.documents = 0
        request_read, self.request_fd = os.pipe()
        self.response_fd, response_write = sandbox.results_pipe()
        self.pid = os.fork()
        if self.pid == 0:  # pragma: no cover - observed through the pipe
            os.close(self.request_fd)
            os.close(self.response_fd)
            _serve(request_read, response_write, memory_bytes)
        os.close(request_read)
        os.close(response_write)
        self.base_rss = _rss(self.pid)
        self.stats = ChildStats(pid=self.pid)

    def parse(
        self,
        work: Callable[..., Iterable[Any]],
        args: tuple[Any, ...],
        *,
        timeout_s: float,
        stats: ChildStats,
    ) -> Generator[Any, None, None]:
        """Send one document's work and yield its items; the child lives on only if every item
        was read and the work ended cleanly (DONE or a domain error)."""
        stats.pid = self.pid
        finished = False
        try:
            try:
                sandbox.send_frame(self.request_fd, "work", (work, args, timeout_s))
            except OSError:
                raise ChildGone() from None
            reader = FrameReader(self.response_fd, timeout_s, stats)
            if reader.next_frame() is None:  # it died before it took the document
                raise ChildGone()
            while True:
                frame = reader.next_frame()
                if frame is None:
                    status = self._end()
                    raise sandbox.death_error(status, stats, self.memory_bytes)
                kind, payload = frame
                if kind == sandbox.ITEM:
                    yield payload
                    continue
                finished = True
                if kind == sandbox.ERROR:
                    class_name, message = payload
                    raise sandbox.domain_error(class_name, message)
                return
        finally:
            self.documents += 1
            stats.peak_rss_bytes = _peak_rss(self.pid) if self.pid else self.stats.peak_rss_bytes
            if not finished or not self.healthy():
                self.retire()

    def alive(self) -> bool:
        """The child has not exited (it is reaped here if it has)."""
        if self.pid == 0:
            return False
        try:
            pid, _ = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:  # already reaped elsewhere
            pid = self.pid
        if pid == 0:
            return True
        self.pid = 0
        for fd in (self.request_fd, self.response_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
        return False

    def healthy(self) -> bool:
        """Alive, not too old, and not holding on to memory a document left behind."""
        if not self.alive() or self.documents >= MAX_DOCUMENTS:
            return False
        rss = _rss(self.pid)
        return rss > 0 and rss - self.base_rss < self.memory_bytes // 4

    def retire(self) -> None:
        """End the child now (a no-op when it is already gone)."""
        if self.pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            self._end()

    def _end(self) -> int:
        status = 0
        if self.pid:
            with contextlib.suppress(ChildProcessError):
                status = sandbox.reap(self.pid, self.stats)
            self.pid = 0
            for fd in (self.request_fd, self.response_fd):
                with contextlib.suppress(OSError):
                    os.close(fd)
        return status


def _serve(request_fd: int, response_fd: int, memory_bytes: int) -> None:
    """The resident child's loop: one request, one stream of frames, until the pipe closes or a
    document leaves the process unfit to continue."""
    code = 1
    try:
        sandbox.become_child(memory_bytes, None, keep=(request_fd, response_fd), resident=True)
        requests = FrameReader(request_fd, None, ChildStats())
        while (frame := requests.next_frame()) is not None:
            work, args, timeout_s = frame[1]
            sandbox.send_frame(response_fd, _STARTED, None)
            sandbox.limit_cpu(timeout_s)
            if not sandbox.serve_one(partial(work, *args), response_fd, memory_bytes):
                break
        code = 0
    finally:
        os._exit(code)


_lock = threading.Lock()
_resident: ResidentChild | None = None


def parse_in_resident(
    work: Callable[..., Iterable[Any]],
    args: tuple[Any, ...],
    *,
    memory_bytes: int,
    timeout_s: float,
    stats: ChildStats,
) -> Generator[Any, None, None]:
    """Run ``work(*args)`` in this process's resident child (started on first use) and yield
    its items. ``work`` must be a module-level function: it travels to the child by name."""
    global _resident
    if not _lock.acquire(blocking=False):
        # another thread of this process is mid-document: parse in a child of our own
        yield from sandbox.run_isolated(
            partial(work, *args), memory_bytes=memory_bytes, timeout_s=timeout_s, stats=stats
        )
        return
    try:
        if _resident is not None and (
            not _resident.alive() or _resident.memory_bytes != memory_bytes
        ):
            _resident.retire()
            _resident = None
        for attempt in range(2):
            if _resident is None:
                _resident = ResidentChild(memory_bytes)
            try:
                yield from _resident.parse(work, args, timeout_s=timeout_s, stats=stats)
                return
            except ChildGone:
                _resident = None
                if attempt:
                    raise RuntimeError("the PDF parsing process cannot be started") from None
    finally:
        _lock.release()


def shutdown_resident() -> None:
    """End this process's resident child, if any (tests and benchmarks call it to count its
    CPU time; workers need not: the child ends with its parent)."""
    global _resident
    with _lock:
        if _resident is not None:
            _resident.retire()
            _resident = None


def _forget_after_fork() -> None:
    # the child of a fork must not talk to its parent's resident child: close our copies of the
    # pipes (the parent keeps its own) and start a fresh one on first use
    global _resident, _lock
    if _resident is not None:
        for fd in (_resident.request_fd, _resident.response_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
    _resident = None
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)


def _rss(pid: int) -> int:
    return _status_kib(pid, "VmRSS:") * 1024


def _peak_rss(pid: int) -> int:
    return _status_kib(pid, "VmHWM:") * 1024


def _status_kib(pid: int, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(field):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0
