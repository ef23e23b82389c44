"""Waiting for a vLLM server to become ready: polls its ``/health`` endpoint until it answers 200,
while watching the server process, so a server that dies during start-up is reported at once
with the end of its log instead of after the whole timeout."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from app.core.errors import UpstreamUnavailable

POLL_INTERVAL_S = 0.5


def log_tail(path: Path | None, lines: int = 30) -> str:
    """The last ``lines`` lines of a server log, or an empty string when there is none."""
    if path is None or not path.is_file():
        return ""
    text = path.read_text(encoding="utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


def wait_for_health(
    base_url: str,
    *,
    timeout_s: float,
    process: subprocess.Popen[bytes] | None = None,
    log_path: Path | None = None,
    on_poll: Callable[[float], None] | None = None,
) -> float:
    """Block until ``{base_url}/health`` answers 200; return the seconds it took.

    ``base_url`` is the server root (``http://host:port``). Raises ``UpstreamUnavailable`` when
    ``process`` exits first or ``timeout_s`` passes; the message carries the log's last lines.
    ``on_poll`` is called with the elapsed seconds after every attempt (for progress displays).
    """
    started = time.monotonic()
    url = f"{base_url.rstrip('/')}/health"
    with httpx.Client(timeout=2.0) as client:
        while True:
            elapsed = time.monotonic() - started
            if process is not None and process.poll() is not None:
                raise UpstreamUnavailable(
                    f"vLLM server exited with code {process.returncode} before it was ready"
                    f"\n{log_tail(log_path)}")
            try:
                if client.get(url).status_code == 200:
                    return elapsed
            except httpx.TransportError:
                pass  # not listening yet
            if elapsed > timeout_s:
                raise UpstreamUnavailable(
                    f"vLLM server at {base_url} not healthy after {timeout_s:.0f} s"
                    f"\n{log_tail(log_path)}")
            if on_poll is not None:
                on_poll(elapsed)
            time.sleep(POLL_INTERVAL_S)
