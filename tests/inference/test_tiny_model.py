"""The tiny DeepSeek-V3 builder: what it writes loads in ``transformers`` and runs, the layout
is DeepSeek-V3's (MLA sizes vLLM's CPU kernel accepts, dense + MoE layers, per-expert tensors),
the tokenizer and chat template work in English and Thai, and builds are reproducible."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoTokenizer
from typer.testing import CliRunner

from app.core.errors import Conflict
from inference.tiny_model import build_tiny_model
from inference.tiny_model.cli import app as tiny_model_cli
from inference.tiny_model.tokenizer import TOOL_CALL_BEGIN, TOOL_CALLS_BEGIN, TOOL_SEP


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model", seed=0)


def test_config_is_deepseek_v3_with_cpu_mla_sizes(model_dir: Path) -> None:
    config = json.loads((model_dir / "config.json").read_text())
    assert config["model_type"] == "deepseek_v3"
    assert config["architectures"] == ["DeepseekV3ForCausalLM"]
    assert config["kv_lora_rank"] + config["qk_rope_head_dim"] == 576
    assert config["q_lora_rank"]
    assert 0 < config["first_k_dense_replace"] < config["num_hidden_layers"]
    assert config["n_shared_experts"] == 1 and config["n_routed_experts"] > 1
    for name in ("tokenizer.json", "tokenizer_config.json", "generation_config.json"):
        assert (model_dir / name).is_file()


def test_checkpoint_has_dense_and_per_expert_moe_tensors_in_bf16(model_dir: Path) -> None:
    tensors = load_file(str(model_dir / "model.safetensors"))
    assert "model.layers.0.mlp.gate_proj.weight" in tensors  # dense first layer
    assert "model.layers.1.mlp.experts.7.down_proj.weight" in tensors
    assert "model.layers.1.mlp.shared_experts.up_proj.weight" in tensors
    assert tensors["model.layers.1.mlp.gate.e_score_correction_bias"].dtype == torch.float32
    assert tensors["model.layers.1.self_attn.kv_a_proj_with_mqa.weight"].shape[0] == 576
    assert tensors["lm_head.weight"].dtype == torch.bfloat16


def test_transformers_loads_every_weight_and_generates(model_dir: Path) -> None:
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    on_disk = load_file(str(model_dir / "model.safetensors"))
    # the fused expert tensor in transformers must hold the per-expert tensors from disk
    fused = model.model.layers[2].mlp.experts.gate_up_proj[3]
    inner = on_disk["model.layers.2.mlp.experts.3.gate_proj.weight"].shape[0]
    assert torch.equal(fused[:inner], on_disk["model.layers.2.mlp.experts.3.gate_proj.weight"]
                       .float())
    assert torch.equal(model.lm_head.weight, on_disk["lm_head.weight"].float())

    ids = tokenizer("ผู้เช่าตกลงชำระค่าเช่า The Lessee pays rent.", return_tensors="pt").input_ids
    with torch.no_grad():
        logits = model(ids).logits
    assert logits.shape == (1, ids.shape[1], len(tokenizer))
    assert torch.isfinite(logits).all()
    generated = model.generate(ids, max_new_tokens=5, do_sample=False)
    assert generated.shape[1] == ids.shape[1] + 5


def test_tokenizer_round_trips_thai_and_english_and_keeps_markers_whole(model_dir: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    text = "งบแสดงฐานะการเงิน ณ วันที่ 31 ธันวาคม 2025: total assets 1,234 million baht."
    ids = tokenizer(text, add_special_tokens=False).input_ids
    assert tokenizer.decode(ids) == text
    assert len(ids) < len(text.encode()) / 2  # BPE merges learned, not raw bytes
    for marker in (TOOL_CALLS_BEGIN, TOOL_CALL_BEGIN, TOOL_SEP):
        assert len(tokenizer(marker, add_special_tokens=False).input_ids) == 1
    assert tokenizer("x").input_ids[0] == tokenizer.bos_token_id == 0


def test_chat_template_renders_roles_and_tool_calls(model_dir: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    messages = [
        {"role": "system", "content": "You review leases."},
        {"role": "user", "content": "ค่าเช่าเท่าไร"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"type": "function", "function": {"name": "find_rent", "arguments": {"page": 2}}}]},
        {"role": "tool", "content": "5,000 baht"},
    ]
    prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert prompt.startswith("<｜begin▁of▁sentence｜>You review leases.<｜User｜>ค่าเช่าเท่าไร")
    assert 'function<｜tool▁sep｜>find_rent\n```json\n{"page": 2}\n```' in prompt
    assert "<｜tool▁output▁begin｜>5,000 baht<｜tool▁output▁end｜>" in prompt
    assert prompt.endswith("<｜Assistant｜>")


def test_rebuild_is_skipped_and_reproducible(model_dir: Path, tmp_path: Path) -> None:
    weights = model_dir / "model.safetensors"
    before = weights.stat().st_mtime_ns
    build_tiny_model(model_dir, seed=0)
    assert weights.stat().st_mtime_ns == before

    twin = build_tiny_model(tmp_path / "twin", seed=0)
    assert (twin / "model.safetensors").read_bytes() == weights.read_bytes()
    assert (twin / "tokenizer.json").read_bytes() == (model_dir / "tokenizer.json").read_bytes()

    other = build_tiny_model(tmp_path / "twin", seed=1)  # different seed replaces the build
    a = load_file(str(weights))["model.layers.0.self_attn.o_proj.weight"]
    b = load_file(str(other / "model.safetensors"))["model.layers.0.self_attn.o_proj.weight"]
    assert not torch.equal(a, b)


def test_refuses_to_overwrite_a_foreign_directory(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(Conflict):
        build_tiny_model(tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "not a model"


def test_cli_builds_block_fp8_variant(tmp_path: Path) -> None:
    out = tmp_path / "fp8"
    result = CliRunner().invoke(tiny_model_cli, ["--out", str(out), "--fp8"])
    assert result.exit_code == 0, result.output
    config = json.loads((out / "config.json").read_text())
    assert config["quantization_config"]["weight_block_size"] == [128, 128]
    with safe_open(str(out / "model.safetensors"), framework="pt") as f:
        weight = f.get_tensor("model.layers.0.self_attn.kv_a_proj_with_mqa.weight")
        scale = f.get_tensor("model.layers.0.self_attn.kv_a_proj_with_mqa.weight_scale_inv")
        assert weight.dtype == torch.float8_e4m3fn
        assert scale.dtype == torch.float32 and tuple(scale.shape) == (5, 2)  # 576 rows: 4.5 blocks
        assert f.get_tensor("model.embed_tokens.weight").dtype == torch.bfloat16
