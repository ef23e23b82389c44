"""A model endpoint for one-shot runs on the embedded defaults. When the configured endpoint
answers, it is used as it is. When it does not, and it is meant to be on this machine (a loopback
address) and the vLLM venv is installed, the tiny CPU model is served by the real vLLM engine
(``lexledger-inference serve --profile tiny-cpu``, a separate process: the application never
imports the inference service) for the length of the run and then stopped. Otherwise the run
goes on without a model, and every result says so."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import httpx
from rich.console import Console

from app.core.settings import get_settings

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
TINY_PROFILE = "tiny-cpu"
START_TIMEOUT_S = 600.0


def _models(base_url: str, api_key: str) -> list[str] | None:
    """The model ids the endpoint serves, or None when nothing answers there."""
    try:
        response = httpx.get(f"{base_url.rstrip('/')}/models", timeout=2.0,
                             headers={"Authorization": f"Bearer {api_key}"})
        if response.status_code != 200:
            return None
        return [m["id"] for m in response.json().get("data", [])]
    except (httpx.HTTPError, ValueError):
        return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _inference_command() -> list[str]:
    script = shutil.which("lexledger-inference") or str(
        Path(sys.executable).with_name("lexledger-inference"))
    return [script]


@contextmanager
def model_endpoint(console: Console, *, start_tiny: bool = True) -> Iterator[str]:
    """Makes ``get_settings().llm`` point at a working endpoint for the duration of the block
    when one can be had, and yields a line describing what the run will use."""
    settings = get_settings()
    llm = settings.llm
    if not llm.enabled:
        yield "model calls are switched off: deterministic results only"
        return
    if _models(llm.base_url, llm.api_key) is not None:
        yield f"model {llm.model} at {llm.base_url}"
        return
    venv_python = settings.engine.vllm_venv / "bin" / "python"
    local = urlparse(llm.base_url).hostname in LOOPBACK
    if not (start_tiny and local and venv_python.exists()):
        why = "no vLLM venv (make vllm-venv)" if local else "not a local address"
        yield f"no model endpoint at {llm.base_url} ({why}): deterministic results only"
        return

    port = _free_port()
    log_dir = settings.engine.log_dir
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"process-{TINY_PROFILE}-{port}.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [*_inference_command(), "serve", "--profile", TINY_PROFILE, "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        served = None
        started = time.monotonic()
        with console.status("starting the tiny CPU model with vLLM") as status:
            while served is None and time.monotonic() - started < START_TIMEOUT_S:
                if server.poll() is not None:
                    break
                time.sleep(1.0)
                served = _models(base_url, "none")
                status.update(f"starting the tiny CPU model with vLLM "
                              f"({time.monotonic() - started:.0f} s)")
        if not served:
            yield (f"the tiny CPU model did not start (log: {log_path}): "
                   "deterministic results only")
            return
        original = (llm.base_url, llm.model, llm.api_key)
        llm.base_url, llm.model, llm.api_key = base_url, served[0], "none"
        try:
            yield (f"tiny CPU model {served[0]} served by vLLM for this run (random weights: "
                   "its answers are not meaningful; deterministic results are kept)")
        finally:
            llm.base_url, llm.model, llm.api_key = original
    finally:
        _stop(server)


def _stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(10)
