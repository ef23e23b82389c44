"""Starting and stopping vLLM's OpenAI server from a serving profile. The server runs as a
subprocess of the vLLM venv's python (the application's environment never imports vLLM), in its
own process group so that stopping it also ends the engine-core and worker processes it forks.
``start_engine`` returns an ``EngineProcess`` handle; the ``serve`` command and the test fixtures
both use it."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from app.core.errors import UpstreamUnavailable
from app.core.settings import get_settings
from inference.engine.health import wait_for_health
from inference.engine.profiles import VLLM_SERVER_MODULE, ServingProfile

STOP_GRACE_S = 20.0


def vllm_python(venv: Path | None = None) -> Path:
    """The vLLM venv's interpreter; raises with the set-up command when the venv is missing."""
    venv = venv or get_settings().engine.vllm_venv
    python = venv / "bin" / "python"
    if not python.is_file():
        raise UpstreamUnavailable(
            f"the vLLM venv {venv} does not exist; create it with scripts/setup-vllm-venv.sh")
    return python


def prepare_model(profile: ServingProfile, model: str | None = None) -> str:
    """The model the server loads: ``model`` or the profile's, built first when the profile
    serves the tiny CPU model (a no-op when that build is already current)."""
    target = model or profile.model
    if profile.build_tiny_model:
        # imported here: only the CPU profile needs the builder (and torch to run it)
        from inference.tiny_model import build_tiny_model

        build_tiny_model(Path(target))
    return target


def server_command(
    profile: ServingProfile,
    *,
    python: Path,
    model: str | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    node_rank: int = 0,
    leader_address: str | None = None,
) -> list[str]:
    """The full argument vector that starts the server for one node of ``profile``."""
    return [str(python), "-m", VLLM_SERVER_MODULE,
            *profile.argv(model=model, host=host, port=port, node_rank=node_rank,
                          leader_address=leader_address)]


@dataclass
class EngineProcess:
    """A vLLM server started by ``start_engine``; ``stop()`` or a with-block ends it."""

    profile: ServingProfile
    process: subprocess.Popen[bytes]
    host: str
    port: int
    log_path: Path
    command: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The OpenAI base URL (what a client's ``base_url`` is set to)."""
        return f"{self.root_url}/v1"

    @property
    def served_model_name(self) -> str:
        return self.profile.served_model_name

    def wait_ready(self, timeout_s: float | None = None,
                   on_poll: Callable[[float], None] | None = None) -> float:
        """Block until the server answers ``/health``; return the seconds it took."""
        timeout = timeout_s if timeout_s is not None else get_settings().engine.health_timeout_s
        return wait_for_health(self.root_url, timeout_s=timeout, process=self.process,
                               log_path=self.log_path,
                               on_poll=on_poll)

    def stop(self, grace_s: float = STOP_GRACE_S) -> int | None:
        """Stop the server: SIGTERM (vLLM shuts its engine down), then SIGKILL to its process
        group after ``grace_s``. Returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                pass
        # the group id is the server's own pid (start_new_session): this reaches only the
        # engine-core and worker processes it forked, even after the server itself is gone
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        return self.process.wait()

    def __enter__(self) -> EngineProcess:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def start_engine(
    profile: ServingProfile,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    model: str | None = None,
    node_rank: int = 0,
    leader_address: str | None = None,
    venv: Path | None = None,
    log_path: Path | None = None,
) -> EngineProcess:
    """Start vLLM's OpenAI server for ``profile`` and return at once (see ``wait_ready``).

    Output goes to ``log_path`` (default: ``<engine.log_dir>/<profile>-<port>.log``).
    """
    python = vllm_python(venv)
    command = server_command(profile, python=python, model=prepare_model(profile, model),
                             host=host, port=port, node_rank=node_rank,
                             leader_address=leader_address)
    if log_path is None:
        log_path = get_settings().engine.log_dir / f"{profile.name}-{port}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    # the child needs PATH, HOME and the like as well as the profile's variables
    env = {**os.environ, **profile.env}
    with log_path.open("ab") as log:
        log.write(f"\n==== {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(command)}\n".encode())
        log.flush()
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    return EngineProcess(profile=profile, process=process, host=host, port=port,
                         log_path=log_path, command=command)
