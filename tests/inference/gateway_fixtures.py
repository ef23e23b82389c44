"""Fixtures for the gateway tests: stub upstreams and gateways run as separate processes on free
loopback ports (each in its own process group, stopped by its PID), a gateway config written per
test, and helpers to switch a stub's behaviour and read its request count. The gateway processes
use the run's migrated test database (root conftest) for their usage ledger."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

ADMIN_KEY = "test-admin-key"
CLIENT_KEY = "sk-test-client"
# the gateway commands alone: the combined lexledger-inference CLI also loads torch
GATEWAY_CLI = [sys.executable, "-m", "inference.gateway.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    name: str
    popen: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.popen.poll() is not None:
            return
        os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(5)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def _start(name: str, args: list[str], log_dir: Path, env: dict[str, str] | None = None,
           ready_path: str = "/health") -> Server:
    port = free_port()
    log = log_dir / f"{name}-{port}.log"
    handle = log.open("wb")
    full_env = dict(os.environ, PYTHONUNBUFFERED="1", **(env or {}))
    popen = subprocess.Popen([*args, "--port", str(port)], env=full_env,
                             stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
    server = Server(name, popen, port, log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if popen.poll() is not None:
            raise RuntimeError(f"{name} exited early:\n{server.output()}")
        try:
            if httpx.get(server.url + ready_path, timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"{name} did not become ready:\n{server.output()}")


def start_stub(log_dir: Path, model: str = "stub-model", chunks: int = 16) -> Server:
    """A stub OpenAI-compatible upstream (inference.gateway.stub) on a free port."""
    return _start("stub", [sys.executable, "-m", "inference.gateway.stub", "--model", model,
                           "--chunks", str(chunks)], log_dir)


def set_mode(stub: Server, **mode: Any) -> None:
    """Switches a running stub's behaviour (delay_ms, fail_status, retry_after, ...)."""
    httpx.post(stub.url + "/_stub/mode", json=mode, timeout=5).raise_for_status()


def stub_requests(stub: Server) -> int:
    return int(httpx.get(stub.url + "/_stub/stats", timeout=5).json()["requests"])


def stub_backend(stub: Server, model: str = "stub-model", **extra: Any) -> dict[str, Any]:
    """A backend entry pointing at ``stub`` that serves the public model ``deepseek-v3``."""
    return {"base_url": stub.url + "/v1", "models": {"deepseek-v3": model},
            "price": {"input_per_mtok": 1.0, "output_per_mtok": 2.0},
            "connect_timeout_s": 1, "read_timeout_s": 10, **extra}


def client_key(**limits: Any) -> dict[str, Any]:
    return {"name": "test-client", "key": CLIENT_KEY, **limits}


@dataclass
class Gateway:
    server: Server
    config_path: Path
    state_path: Path
    env: dict[str, str]

    @property
    def base_url(self) -> str:
        return self.server.url + "/v1"

    @property
    def url(self) -> str:
        return self.server.url

    def admin(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(method, self.url + path, timeout=10,
                             headers={"Authorization": f"Bearer {ADMIN_KEY}"}, **kwargs)


GatewayFactory = Callable[..., Gateway]


@pytest.fixture(name="stubs")
def stubs_fixture(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Starts stub upstreams on demand; stops them all after the test."""
    started: list[Server] = []

    def start(model: str = "stub-model", chunks: int = 16) -> Server:
        server = start_stub(tmp_path, model, chunks)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(name="gateway_factory")
def gateway_factory_fixture(tmp_path: Path, database: str) -> Iterator[GatewayFactory]:
    """Starts gateways for a config dict; a restart reuses the same state file when asked."""
    started: list[Server] = []

    def start(config: dict[str, Any], *, state_path: Path | None = None,
              ledger: bool = True, **env: str) -> Gateway:
        config_path = tmp_path / f"gateway-{len(started)}.yaml"
        config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
        state = state_path or tmp_path / "canary-state.json"
        full_env = {"LEXLEDGER_GATEWAY__ADMIN_KEY": ADMIN_KEY,
                    "LEXLEDGER_GATEWAY__STATE_PATH": str(state),
                    "LEXLEDGER_GATEWAY__LEDGER_ENABLED": "true" if ledger else "false",
                    "LEXLEDGER_GATEWAY__LEDGER_FLUSH_INTERVAL_S": "0.2", **env}
        server = _start("gateway", [*GATEWAY_CLI, "gateway", "--config", str(config_path)],
                        tmp_path, full_env)
        started.append(server)
        return Gateway(server, config_path, state, full_env)

    yield start
    for server in started:
        server.stop()
