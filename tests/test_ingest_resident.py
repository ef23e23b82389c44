"""The resident parsing child: documents parsed one after another share one sandboxed child, a
document that kills it costs only that document, a forked worker (Celery's prefork pool) parses on
its own, two threads parsing at once both get their pages, and a child keeps none of its parent's
sockets open."""

from __future__ import annotations

import os
import signal
import socket
import threading
from pathlib import Path

import pytest

from agents.ingest import PageExtraction, extract_pages, read_pdf
from agents.ingest.resident import shutdown_resident
from agents.ingest.sandbox import run_isolated
from app.core.errors import ResourceLimitExceeded
from app.core.settings import LimitSettings
from tests import pdf_factory

LIMITS = LimitSettings(parse_memory_bytes=256 * 1024 * 1024, parse_timeout_s=60)


def child_pid(path: Path) -> int:
    extraction = PageExtraction(path, limits=LIMITS)
    assert [p.number for p in extraction] == [1, 2, 3]
    return extraction.stats.pid


def test_documents_share_one_child_until_one_breaks_it(tmp_path: Path) -> None:
    shutdown_resident()
    text = pdf_factory.write_many_pages(tmp_path / "text.pdf", 3, lines_per_page=5)
    first = child_pid(text)
    assert child_pid(text) == first
    with read_pdf(text, limits=LIMITS) as reading:
        assert reading.info.page_count == 3
        assert len(list(reading)) == 3
    assert child_pid(text) == first

    bomb = pdf_factory.write_decompression_bomb(tmp_path / "bomb.pdf", inflated_bytes=1 << 30)
    with pytest.raises(ResourceLimitExceeded, match=r"^parse memory limit"):
        list(extract_pages(bomb, limits=LIMITS))
    with pytest.raises(ProcessLookupError):
        os.kill(first, 0)
    # the next document gets a fresh child and is read as if nothing happened
    assert child_pid(text) != first


def test_a_forked_worker_parses_with_its_own_child(tmp_path: Path) -> None:
    text = pdf_factory.write_many_pages(tmp_path / "text.pdf", 3, lines_per_page=5)
    parent_child = child_pid(text)
    pid = os.fork()
    if pid == 0:  # the forked "worker": exit status 0 only if it read the pages itself
        code = 1
        try:
            own = child_pid(text)
            code = 0 if own != parent_child else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert child_pid(text) == parent_child  # the parent's child was left alone


def test_two_threads_parse_at_once(tmp_path: Path) -> None:
    paths = [
        pdf_factory.write_many_pages(tmp_path / f"doc{i}.pdf", 40, lines_per_page=30)
        for i in range(2)
    ]
    results: dict[int, list[int]] = {}

    def read(index: int) -> None:
        results[index] = [p.number for p in extract_pages(paths[index], limits=LIMITS)]

    threads = [threading.Thread(target=read, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results == {0: list(range(1, 41)), 1: list(range(1, 41))}


def test_a_child_started_by_a_finished_thread_keeps_serving(tmp_path: Path) -> None:
    # web servers parse in pool threads that come and go; the child must outlive them
    shutdown_resident()
    text = pdf_factory.write_many_pages(tmp_path / "text.pdf", 3, lines_per_page=5)
    started: list[int] = []
    thread = threading.Thread(target=lambda: started.append(child_pid(text)))
    thread.start()
    thread.join(timeout=60)
    assert child_pid(text) == started[0]


def test_a_child_that_died_between_documents_is_replaced(tmp_path: Path) -> None:
    text = pdf_factory.write_many_pages(tmp_path / "text.pdf", 3, lines_per_page=5)
    first = child_pid(text)
    os.kill(first, signal.SIGKILL)
    assert child_pid(text) != first


def test_a_connection_the_parent_closes_is_closed_while_its_child_lives(tmp_path: Path) -> None:
    # an API process forks its parsing child while clients' keep-alive connections are open;
    # when the server closes one, the client must see it closed, not a socket nobody reads
    shutdown_resident()
    server_end, client_end = socket.socketpair()
    text = pdf_factory.write_many_pages(tmp_path / "text.pdf", 3, lines_per_page=5)
    child = child_pid(text)
    server_end.close()
    client_end.settimeout(5)
    try:
        assert client_end.recv(1) == b""  # end of stream at once, the child still running
        os.kill(child, 0)
    finally:
        client_end.close()


def open_files() -> dict[int, str]:
    """What this process's file descriptors point at (``socket:[inode]`` for a socket)."""
    links = {}
    for name in os.listdir("/proc/self/fd"):
        try:
            links[int(name)] = os.readlink(f"/proc/self/fd/{name}")
        except FileNotFoundError:  # the descriptor listdir itself used
            pass
    return links


def test_a_one_shot_child_holds_no_inherited_socket() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    try:
        inherited = f"socket:[{os.fstat(listener.fileno()).st_ino}]"
        [seen] = run_isolated(lambda: [open_files()], memory_bytes=64 * 1024 * 1024,
                              timeout_s=30)
        assert inherited not in seen.values()
        assert seen  # the child's own pipe (and stdio) are still there
    finally:
        listener.close()
