"""Runs PDF parsing in a forked child process so that no file can take down the worker: the child
gets an address-space limit (the parent's current size plus ``parse_memory_bytes``) and a CPU-time
limit, and streams its results back over a pipe one message at a time. The parent counts only the
time it spends waiting for the child (not the time its caller spends on each page) against
``parse_timeout_s``. A child that raises a domain error, runs out of memory, crashes (PDFium aborts
when an allocation fails) or runs too long becomes a ``DocumentRejected`` with a readable reason.

``os.fork`` is used instead of ``multiprocessing``: Celery's prefork pool children are daemonic and
may not start ``multiprocessing`` children, and a fork costs a few milliseconds where spawning a
fresh interpreter costs a hundred. ``run_isolated`` is the one-shot child; agents.ingest.resident
keeps one child per process alive across documents with the same pieces (frames, limits, errors).
"""

from __future__ import annotations

import contextlib
import ctypes
import faulthandler
import fcntl
import gc
import math
import os
import pickle
import resource
import select
import signal
import struct
import time
import tracemalloc
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from typing import Any

from app.core import errors

_HEADER = struct.Struct("!I")
ITEM, ERROR, DONE, ALLOW = "item", "error", "done", "allow"
_PR_SET_PDEATHSIG = 1
_MIB = 1024 * 1024
# A child that can write a short document's pages without blocking finishes it in one time slice;
# on a busy machine every hand-over between the two processes costs a scheduling delay.
PIPE_BYTES = _MIB
# the caller reads in slices of this much: a few pages at a time, never the whole pipe
_READ_BYTES = 256 * 1024


@dataclass(frozen=True)
class Allowance:
    """Yielded by a child's work before a step that may take long (OCR of a page): the step gets
    ``seconds`` more of CPU time in the child and of waiting in the parent, so a document's time
    limit grows with the slow pages it holds, each of which is bounded on its own."""

    seconds: float


@dataclass
class ChildStats:
    """What a parsing child cost: filled in when a one-shot child is reaped; for the resident
    child, ``peak_rss_bytes`` is its high-water mark so far."""

    pid: int = 0
    peak_rss_bytes: int = 0
    cpu_s: float = 0.0
    waited_s: float = 0.0


def run_isolated(
    work: Callable[[], Iterable[Any]],
    *,
    memory_bytes: int,
    timeout_s: float,
    stats: ChildStats | None = None,
) -> Generator[Any, None, None]:
    """Run ``work()`` in a forked child and yield each item it produces, in order.

    ``work`` runs only in the child; the items it yields must pickle. Domain errors it raises are
    raised here with the same class and message. Leaving the loop early (or an exception in the
    caller) kills the child. ``stats`` receives the child's peak RSS and CPU time at the end.
    """
    read_fd, write_fd = results_pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child's lines are measured by what the parent sees
        os.close(read_fd)
        _child_main(work, write_fd, memory_bytes, timeout_s)
    os.close(write_fd)
    record = stats if stats is not None else ChildStats()
    record.pid = pid
    reaped = False
    try:
        reader = FrameReader(read_fd, timeout_s, record)
        while True:
            frame = reader.next_frame()
            if frame is None:
                status = reap(pid, record)
                reaped = True
                raise death_error(status, record, memory_bytes)
            kind, payload = frame
            if kind == ITEM:
                yield payload
            elif kind == ERROR:
                class_name, message = payload
                raise domain_error(class_name, message)
            else:
                return
    finally:
        if not reaped:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            reap(pid, record)
        os.close(read_fd)


def results_pipe() -> tuple[int, int]:
    """A pipe for a child's frames, enlarged to ``PIPE_BYTES`` where the kernel allows it; its
    buffer is all the child may run ahead of the caller, so memory stays bounded."""
    read_fd, write_fd = os.pipe()
    with contextlib.suppress(OSError, AttributeError):
        fcntl.fcntl(write_fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    return read_fd, write_fd


class FrameReader:
    """Reads length-prefixed pickled frames, charging the wait to the parse time budget
    (``timeout_s``; None waits as long as it takes)."""

    def __init__(self, fd: int, timeout_s: float | None, stats: ChildStats) -> None:
        self.fd = fd
        self.timeout_s = timeout_s
        self.stats = stats
        self.buffer = bytearray()

    def next_frame(self) -> tuple[str, Any] | None:
        """The next frame, or None when the other side closed the pipe. An ``ALLOW`` frame (the
        child announced a slow step, see ``Allowance``) extends the time budget and is not
        returned."""
        while True:
            header = self._read_exactly(_HEADER.size)
            if header is None:
                return None
            (length,) = _HEADER.unpack(header)
            body = self._read_exactly(length)
            if body is None:
                return None
            frame: tuple[str, Any] = pickle.loads(body)
            if frame[0] != ALLOW:
                return frame
            if self.timeout_s is not None:
                self.timeout_s += frame[1]

    def _read_exactly(self, count: int) -> bytes | None:
        while len(self.buffer) < count:
            left = None if self.timeout_s is None else max(self.timeout_s - self.stats.waited_s, 0)
            began = time.monotonic()
            ready, _, _ = select.select([self.fd], [], [], left)
            self.stats.waited_s += time.monotonic() - began
            if not ready:
                raise errors.ResourceLimitExceeded(
                    f"parse time limit: the PDF took longer than {self.timeout_s:g} s to parse"
                )
            data = os.read(self.fd, max(_READ_BYTES, count - len(self.buffer)))
            if not data:
                return None
            self.buffer += data
        result = bytes(self.buffer[:count])
        del self.buffer[:count]
        return result


def _child_main(
    work: Callable[[], Iterable[Any]], write_fd: int, memory_bytes: int, timeout_s: float
) -> None:
    """The child's whole life: limits, work, frames, ``os._exit`` (never return to the caller)."""
    code = 1
    try:
        become_child(memory_bytes, timeout_s, keep=(write_fd,))
        serve_one(work, write_fd, memory_bytes)
        code = 0
    finally:
        os._exit(code)


def serve_one(work: Callable[[], Iterable[Any]], write_fd: int, memory_bytes: int) -> bool:
    """Stream ``work()``'s items, then DONE or the error; True when the process is still sound
    enough to parse another document (a domain error), False after anything else."""
    try:
        for item in work():
            if isinstance(item, Allowance):
                extend_cpu(item.seconds)
                send_frame(write_fd, ALLOW, item.seconds)
            else:
                send_frame(write_fd, ITEM, item)
        send_frame(write_fd, DONE, None)
        return True
    except errors.LexLedgerError as exc:
        send_error(write_fd, type(exc).__name__, exc.message)
        return True
    except MemoryError:
        send_error(
            write_fd,
            "ResourceLimitExceeded",
            f"parse memory limit: parsing this PDF needs more than {memory_bytes // _MIB} MiB "
            "(a decompression bomb or a pathological file)",
        )
    except RecursionError:
        send_error(
            write_fd,
            "ResourceLimitExceeded",
            "nesting limit: the PDF's objects are nested too deeply to parse",
        )
    except BaseException as exc:  # noqa: B036 - the child must report and exit, whatever happened
        send_error(write_fd, "RuntimeError", f"{type(exc).__name__}: {exc}")
    return False


def become_child(memory_bytes: int, cpu_seconds: float | None, *, keep: Iterable[int],
                 resident: bool = False) -> None:
    """Limits and hygiene for a freshly forked parsing child (see the module docstring). Every
    inherited file descriptor but stdio and ``keep`` (the child's pipes) is closed.

    A ``resident`` child outlives the thread that started it, so it must not use the parent-death
    signal (Linux sends it when that thread exits); it ends on its request pipe's EOF instead.
    """
    close_inherited(keep)
    # the parent's handlers (Celery's, uvicorn's) must not run here; a parent that dies takes
    # its parsing child along
    # a Python traceback dumped by an inherited faulthandler says nothing about the PDF, and a
    # parent's allocation tracing would only slow the child down
    faulthandler.disable()
    tracemalloc.stop()
    # inherited objects are never freed here: keeping the collector off them avoids copying
    # every page of the parent's heap on the first collection
    gc.freeze()
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1):
        signal.signal(signum, signal.SIG_DFL)
    if not resident:
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    address_space = _current_address_space() + memory_bytes
    resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    if cpu_seconds is not None:
        limit_cpu(cpu_seconds)


def close_inherited(keep: Iterable[int]) -> None:
    """Closes every file descriptor above stderr but ``keep``. A child forked from the API would
    otherwise hold its parent's sockets: a keep-alive connection the server closed stays open
    while the child lives, and the client's next request on it is never read."""
    low = 3
    for fd in sorted(set(keep)):
        if fd >= low:
            os.closerange(low, fd)
            low = fd + 1
    os.closerange(low, os.sysconf("SC_OPEN_MAX"))


def limit_cpu(seconds: float) -> None:
    """Let this process use ``seconds`` more CPU time before the kernel stops it (SIGXCPU)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = math.ceil(usage.ru_utime + usage.ru_stime + seconds) + 1
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def extend_cpu(seconds: float) -> None:
    """Let this process use ``seconds`` more CPU time than its limit allowed so far."""
    soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if soft == resource.RLIM_INFINITY:
        return
    soft += math.ceil(seconds)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _current_address_space() -> int:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[0])
    return pages * os.sysconf("SC_PAGE_SIZE")


def send_frame(fd: int, kind: str, payload: Any) -> None:
    """Write one length-prefixed pickled frame (blocking: the pipe is the back-pressure)."""
    body = pickle.dumps((kind, payload), protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(_HEADER.pack(len(body)) + body)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def send_error(fd: int, class_name: str, message: str) -> int:
    """Report an error to the parent; the exit code to use if even that fails."""
    with contextlib.suppress(BaseException):
        send_frame(fd, ERROR, (class_name, message))
        return 0
    return 1


def reap(pid: int, stats: ChildStats) -> int:
    """Wait for the child, record its peak RSS and CPU time, return its wait status (0 when a
    process that ignores SIGCHLD had it reaped already)."""
    try:
        _, status, usage = os.wait4(pid, 0)
    except ChildProcessError:
        return 0
    stats.peak_rss_bytes = usage.ru_maxrss * 1024
    stats.cpu_s = usage.ru_utime + usage.ru_stime
    return status


def domain_error(class_name: str, message: str) -> Exception:
    """The exception a child reported, rebuilt on this side of the pipe."""
    cls = getattr(errors, class_name, None)
    if isinstance(cls, type) and issubclass(cls, errors.LexLedgerError):
        return cls(message)
    return RuntimeError(f"PDF parsing failed unexpectedly: {message}")


def death_error(status: int, stats: ChildStats, memory_bytes: int) -> errors.LexLedgerError:
    """Explain a child that ended without saying why."""
    if os.WIFSIGNALED(status):
        signum = os.WTERMSIG(status)
        name = signal.Signals(signum).name
        if signum == signal.SIGXCPU:
            return errors.ResourceLimitExceeded(
                f"parse time limit: the PDF used more CPU time than allowed ({name})"
            )
        # PDFium aborts when an allocation fails; the kernel's OOM killer sends SIGKILL
        how = "was killed" if signum == signal.SIGKILL else f"aborted with {name}"
        return errors.ResourceLimitExceeded(
            f"parse memory limit: parsing this PDF needs more than the {memory_bytes // _MIB} MiB "
            f"allowed (the parser {how}; a decompression bomb or a file that breaks the parser)"
        )
    return errors.ResourceLimitExceeded(
        f"the PDF parser exited unexpectedly (status {os.waitstatus_to_exitcode(status)})"
    )
