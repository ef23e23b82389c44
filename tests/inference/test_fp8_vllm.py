"""The CPU dev profile serving an FP8 checkpoint: the tiny DeepSeek-V3 written in block-FP8,
dequantized to BF16 (vLLM's CPU build has no FP8 GEMMs without AMX), loaded by the real vLLM
CPU server (as BF16, no quantization) and answering a chat completion."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from inference.engine.launcher import start_engine
from inference.engine.profiles import load_profile
from inference.fp8.checkpoint import dequantize_checkpoint
from inference.tiny_model import build_tiny_model

pytestmark = [pytest.mark.vllm, pytest.mark.slow]
# a first start on a busy 2-core machine imports torch and vLLM twice
START_TIMEOUT_S = 600.0


def test_vllm_serves_a_dequantized_fp8_checkpoint(vllm_venv: Path, unused_port: int,
                                                  tmp_path: Path) -> None:
    fp8 = build_tiny_model(tmp_path / "fp8", fp8=True)
    dequantize_checkpoint(fp8, tmp_path / "bf16", show_progress=False)
    # this model is not the profile's tiny build: serve the directory as it is
    profile = load_profile("tiny-cpu").model_copy(update={"build_tiny_model": False})
    engine = start_engine(profile, port=unused_port, venv=vllm_venv,
                          model=str(tmp_path / "bf16"), log_path=tmp_path / "vllm.log")
    try:
        engine.wait_ready(timeout_s=START_TIMEOUT_S)
        reply = httpx.post(f"{engine.base_url}/chat/completions", timeout=120, json={
            "model": engine.served_model_name, "max_tokens": 8, "temperature": 0,
            "messages": [{"role": "user", "content": "ค่าเช่าเดือนละเท่าไร"}],
        })
    finally:
        engine.stop()
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["usage"]["completion_tokens"] > 0
    assert body["choices"][0]["message"]["content"] is not None
    log = (tmp_path / "vllm.log").read_text()
    assert "quantization=None" in log  # served as BF16, scales multiplied out
