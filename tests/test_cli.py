"""The command line as a person uses it: the one-shot ``lexledger process`` on the embedded
defaults (a SQLite file, tasks in-process, no model endpoint) and ``lexledger keys create``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from app.core.db import session_scope
from app.services.tenants import authenticate


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=600)


def embedded_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEXLEDGER_")}
    env.update({
        "LEXLEDGER_LLM__BASE_URL": "http://127.0.0.1:9/v1",  # no model: deterministic results
        "LEXLEDGER_LLM__MAX_RETRIES": "0",
        "COLUMNS": "160",
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
    })
    return env


def test_process_runs_the_pipeline_on_embedded_defaults(tmp_path: Path, samples_dir: Path):
    files = sorted(samples_dir.glob("*.pdf"))
    bad = tmp_path / "scan-notes.pdf"
    bad.write_text("not really a PDF")
    proc = run_cli(["process", "--no-tiny-model", *map(str, files), str(bad)],
                   embedded_env(tmp_path), tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert (tmp_path / "var" / "lexledger.db").exists(), "the embedded SQLite file is used"
    for path in files:
        assert path.name in out
    assert out.count(" done ") >= len(files)
    assert "rejected" in out and "not a PDF" in out
    results = [json.loads(p.read_text()) for p in (tmp_path / "var" / "results").glob("*.json")]
    assert len(results) == len(files)
    types = sorted(r["doc_type"]["value"] for r in results)
    assert types == ["contract", "financial_report", "financial_report", "lease"]
    assert "Northwind Analytics LLC" in out  # a party of the generated contract
    assert "deterministic results only" in out  # says no model produced these results


def test_keys_create_prints_a_working_key_once(tmp_path: Path, db: None):
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    proc = run_cli(["keys", "create", "--tenant", "acme", "--name", "ops"], env, tmp_path)
    assert proc.returncode == 0, proc.stderr
    key = proc.stdout.strip().splitlines()[-1]
    assert key.startswith("llk_")
    with session_scope() as session:
        caller = authenticate(session, key)
    assert caller.key_prefix in key


def test_several_documents_in_one_process_all_reach_the_model(tmp_path: Path, samples_dir: Path):
    """Each analysis runs its graph in a new event loop; the model client must not outlive
    one (a shared client fails the second document with "Event loop is closed")."""
    from tests.live import free_port

    port = free_port()
    stub = subprocess.Popen([sys.executable, "-c", "from inference.cli import main; main()",
                             "gateway-stub", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        import httpx

        for _ in range(100):
            try:
                httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=1)
                break
            except httpx.HTTPError:
                import time

                time.sleep(0.2)
        env = embedded_env(tmp_path)
        env.update({"LEXLEDGER_LLM__BASE_URL": f"http://127.0.0.1:{port}/v1",
                    "LEXLEDGER_LLM__MODEL": "stub-model"})
        files = [samples_dir / "services-agreement.pdf", samples_dir / "thai-lease.pdf"]
        proc = run_cli(["process", "--no-tiny-model", *map(str, files)], env, tmp_path)
    finally:
        stub.terminate()
        stub.wait(10)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "rejected" not in proc.stdout and "Event loop" not in proc.stdout, proc.stdout
    assert proc.stdout.count("no model endpoint answered") == 0
    assert len(list((tmp_path / "var" / "results").glob("*.json"))) == 2


VLLM_VENV = Path(__file__).resolve().parents[1] / ".venv-vllm"


@pytest.mark.slow
@pytest.mark.vllm
@pytest.mark.skipif(not (VLLM_VENV / "bin" / "python").exists(), reason="no .venv-vllm")
def test_process_serves_the_tiny_model_when_no_endpoint_answers(tmp_path: Path,
                                                               samples_dir: Path):
    env = embedded_env(tmp_path)
    env["LEXLEDGER_ENGINE__VLLM_VENV"] = str(VLLM_VENV)
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    proc = run_cli(["process", str(samples_dir / "thai-lease.pdf")], env, tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "tiny CPU model tiny-deepseek-v3 served by vLLM" in proc.stdout
    assert " done " in proc.stdout
    [result] = [json.loads(p.read_text()) for p in (tmp_path / "var" / "results").glob("*.json")]
    assert result["doc_type"]["value"] == "lease"
    assert "no model endpoint answered" not in json.dumps(result)
    # the server was stopped with the run
    [log] = (tmp_path / "var" / "log" / "vllm").glob("process-tiny-cpu-*.log")
    pid = int(re.search(r"vLLM pid (\d+)", log.read_text()).group(1))
    assert not Path(f"/proc/{pid}").exists()
