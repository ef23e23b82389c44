"""Runs PDF parsing in a forked child process so that no file can take down the worker: the child
gets an address-space limit (the parent's current size plus ``parse_memory_bytes``) and a CPU-time
limit, and streams its results back over a pipe one message at a time. The parent counts only the
time it spends waiting for the child (not the time its caller spends on each page) against
``parse_timeout_s``. A child that raises a domain error, runs out of memory, crashes (PDFium aborts
when an allocation fails) or runs too long becomes a ``DocumentRejected`` with a readable reason.

``os.fork`` is used instead of ``multiprocessing``: Celery's prefork pool children are daemonic and
may not start ``multiprocessing`` children, and a fork costs a millisecond where spawning a fresh
interpreter costs a hundred.
"""

from __future__ import annotations

import contextlib
import ctypes
import faulthandler
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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from app.core import errors

_HEADER = struct.Struct("!I")
_ITEM, _ERROR, _DONE = "item", "error", "done"
_PR_SET_PDEATHSIG = 1
_MIB = 1024 * 1024


@dataclass
class ChildStats:
    """What one parsing child cost; filled in when it has been reaped."""

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
) -> Iterator[Any]:
    """Run ``work()`` in a forked child and yield each item it produces, in order.

    ``work`` runs only in the child; the items it yields must pickle. Domain errors it raises are
    raised here with the same class and message. Leaving the loop early (or an exception in the
    caller) kills the child. ``stats`` receives the child's peak RSS and CPU time at the end.
    """
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child's lines are measured by what the parent sees
        os.close(read_fd)
        _child_main(work, write_fd, memory_bytes, timeout_s)
    os.close(write_fd)
    record = stats if stats is not None else ChildStats()
    record.pid = pid
    reaped = False
    try:
        reader = _FrameReader(read_fd, timeout_s, record)
        while True:
            frame = reader.next_frame()
            if frame is None:
                status = _reap(pid, record)
                reaped = True
                raise _death_error(status, record, memory_bytes)
            kind, payload = frame
            if kind == _ITEM:
                yield payload
            elif kind == _ERROR:
                class_name, message = payload
                raise _domain_error(class_name, message)
            else:
                return
    finally:
        if not reaped:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            _reap(pid, record)
        os.close(read_fd)


class _FrameReader:
    """Reads length-prefixed pickled frames, charging the wait to the parse time budget."""

    def __init__(self, fd: int, timeout_s: float, stats: ChildStats) -> None:
        self.fd = fd
        self.timeout_s = timeout_s
        self.stats = stats
        self.buffer = bytearray()

    def next_frame(self) -> tuple[str, Any] | None:
        header = self._read_exactly(_HEADER.size)
        if header is None:
            return None
        (length,) = _HEADER.unpack(header)
        body = self._read_exactly(length)
        if body is None:
            return None
        frame: tuple[str, Any] = pickle.loads(body)
        return frame

    def _read_exactly(self, count: int) -> bytes | None:
        while len(self.buffer) < count:
            left = self.timeout_s - self.stats.waited_s
            began = time.monotonic()
            ready, _, _ = select.select([self.fd], [], [], max(left, 0.0))
            self.stats.waited_s += time.monotonic() - began
            if not ready:
                raise errors.ResourceLimitExceeded(
                    f"parse time limit: the PDF took longer than {self.timeout_s:g} s to parse"
                )
            data = os.read(self.fd, max(65536, count - len(self.buffer)))
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
    code = 0
    try:
        _become_child(memory_bytes, timeout_s)
        for item in work():
            _send(write_fd, _ITEM, item)
        _send(write_fd, _DONE, None)
    except errors.LexLedgerError as exc:
        code = _send_error(write_fd, type(exc).__name__, exc.message)
    except MemoryError:
        code = _send_error(
            write_fd,
            "ResourceLimitExceeded",
            f"parse memory limit: parsing this PDF needs more than {memory_bytes // _MIB} MiB "
            "(a decompression bomb or a pathological file)",
        )
    except RecursionError:
        code = _send_error(
            write_fd,
            "ResourceLimitExceeded",
            "nesting limit: the PDF's objects are nested too deeply to parse",
        )
    except BaseException as exc:  # noqa: B036 - the child must report and exit, whatever happened
        code = _send_error(write_fd, "RuntimeError", f"{type(exc).__name__}: {exc}")
    finally:
        os._exit(code)


def _become_child(memory_bytes: int, timeout_s: float) -> None:
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
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    address_space = _current_address_space() + memory_bytes
    resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    cpu = math.ceil(timeout_s) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))


def _current_address_space() -> int:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[0])
    return pages * os.sysconf("SC_PAGE_SIZE")


def _send(fd: int, kind: str, payload: Any) -> None:
    body = pickle.dumps((kind, payload), protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(_HEADER.pack(len(body)) + body)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _send_error(fd: int, class_name: str, message: str) -> int:
    with contextlib.suppress(BaseException):
        _send(fd, _ERROR, (class_name, message))
        return 0
    return 1


def _reap(pid: int, stats: ChildStats) -> int:
    _, status, usage = os.wait4(pid, 0)
    stats.peak_rss_bytes = usage.ru_maxrss * 1024
    stats.cpu_s = usage.ru_utime + usage.ru_stime
    return status


def _domain_error(class_name: str, message: str) -> Exception:
    cls = getattr(errors, class_name, None)
    if isinstance(cls, type) and issubclass(cls, errors.LexLedgerError):
        return cls(message)
    return RuntimeError(f"PDF parsing failed unexpectedly: {message}")


def _death_error(status: int, stats: ChildStats, memory_bytes: int) -> errors.LexLedgerError:
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
