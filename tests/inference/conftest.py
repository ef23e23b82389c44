"""Fixtures for the inference tests: ``vllm_server`` starts the real vLLM CPU OpenAI server (the
``tiny-cpu`` profile, from the vLLM venv) on the tiny DeepSeek-V3 the project builds, once per
test session, on a free loopback port; it is stopped by PID when the session ends. Tests that
need it are skipped, with the set-up command in the reason, only when the vLLM venv is absent."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from inference.engine.launcher import start_engine
from inference.engine.profiles import load_profile

REPO_ROOT = Path(__file__).resolve().parents[2]
VLLM_VENV = REPO_ROOT / ".venv-vllm"
# the first start on a busy 2-core machine imports torch and vLLM twice (server + engine core)
SERVER_START_TIMEOUT_S = 600.0


def vllm_available() -> bool:
    """Whether the vLLM CPU venv exists (made by scripts/setup-vllm-venv.sh)."""
    return (VLLM_VENV / "bin" / "python").is_file()


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class VllmServer:
    """A running vLLM server: ``base_url`` is the OpenAI base URL (ending in ``/v1``), ``model``
    the served model name. Unpacks as ``base_url, model = vllm_server``."""

    base_url: str
    model: str
    root_url: str
    pid: int
    log_path: Path

    def __iter__(self) -> Iterator[str]:
        return iter((self.base_url, self.model))


@pytest.fixture(scope="session")
def vllm_venv() -> Path:
    """The vLLM CPU venv; skips the test when it has not been created."""
    if not vllm_available():
        pytest.skip(f"vLLM CPU venv missing: run scripts/setup-vllm-venv.sh {VLLM_VENV.name}")
    return VLLM_VENV


@pytest.fixture
def unused_port() -> int:
    """A free loopback port for a server the test starts itself."""
    return free_port()


@pytest.fixture(scope="session")
def vllm_server(tmp_path_factory: pytest.TempPathFactory,
                vllm_venv: Path) -> Iterator[VllmServer]:
    """The real vLLM CPU OpenAI server on the tiny model, shared by the whole session."""
    workdir = tmp_path_factory.mktemp("vllm")
    engine = start_engine(load_profile("tiny-cpu"), port=free_port(), venv=vllm_venv,
                          model=str(workdir / "tiny-deepseek-v3"),
                          log_path=workdir / "vllm.log")
    try:
        engine.wait_ready(timeout_s=SERVER_START_TIMEOUT_S)
        yield VllmServer(base_url=engine.base_url, model=engine.served_model_name,
                         root_url=engine.root_url, pid=engine.pid, log_path=engine.log_path)
    finally:
        engine.stop()
