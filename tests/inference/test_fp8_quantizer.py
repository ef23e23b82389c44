"""Block-FP8 quantization of tensors and checkpoints: round trips stay inside E4M3's error
bound, partial blocks at the edges are handled, the files follow the DeepSeek-V3 layout vLLM
loads (names, dtypes, scale shapes, quantization_config), and conversion memory is bounded by
the shard size rather than the model size."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from app.core.errors import Conflict, InvalidInput
from inference.fp8.blocks import (
    dequantize_blockwise,
    dequantize_state_dict,
    quantization_error_sums,
    quantize_blockwise,
    quantize_state_dict,
    relative_error,
)
from inference.fp8.checkpoint import dequantize_checkpoint, quantize_checkpoint
from inference.tiny_model import build_tiny_model

E4M3_HALF_ULP = 2.0**-4  # 3 mantissa bits: rounding moves a normal value by at most 1/16 of it
E4M3_SUBNORMAL_HALF_STEP = 2.0**-10  # subnormal spacing is 2**-9 (times the block scale)


def _assert_within_e4m3_bound(original: torch.Tensor, restored: torch.Tensor,
                              scale_inv: torch.Tensor) -> None:
    rows, cols = original.shape
    scale = scale_inv.repeat_interleave(128, 0).repeat_interleave(128, 1)[:rows, :cols]
    bound = original.abs() * E4M3_HALF_ULP + scale * E4M3_SUBNORMAL_HALF_STEP
    assert ((original - restored).abs() <= bound * 1.0001).all()


@pytest.mark.parametrize("shape", [(256, 256), (576, 256), (130, 77), (1, 300), (129, 129)])
def test_round_trip_of_random_tensor_stays_within_e4m3_bound(shape: tuple[int, int]) -> None:
    weight = torch.randn(shape, generator=torch.Generator().manual_seed(0)) * 0.05
    quantized, scale_inv = quantize_blockwise(weight)
    assert quantized.dtype == torch.float8_e4m3fn and quantized.shape == weight.shape
    assert scale_inv.shape == (-(-shape[0] // 128), -(-shape[1] // 128))
    restored = dequantize_blockwise(quantized, scale_inv, torch.float32)
    _assert_within_e4m3_bound(weight, restored, scale_inv)
    assert relative_error(weight, restored) < 0.04


def test_structured_tensor_keeps_outlier_damage_inside_its_block() -> None:
    # one huge outlier must coarsen only its own 128x128 block, not the whole tensor
    weight = torch.linspace(-1, 1, 256 * 384).reshape(256, 384) * 0.01
    weight[5, 7] = 100.0
    quantized, scale_inv = quantize_blockwise(weight)
    restored = dequantize_blockwise(quantized, scale_inv, torch.float32)
    _assert_within_e4m3_bound(weight, restored, scale_inv)
    assert scale_inv[0, 0] == pytest.approx(100.0 / 448.0)
    assert scale_inv[1, 2] == pytest.approx(weight[128:, 256:].abs().max().item() / 448.0)
    assert relative_error(weight[128:, :], restored[128:, :]) < 0.04
    assert restored[5, 7] == 100.0  # the block's maximum maps to 448 exactly


def test_zero_block_and_saturation_and_e5m2() -> None:
    weight = torch.zeros(200, 200)
    weight[150:, 150:] = torch.randn(50, 50)
    quantized, scale_inv = quantize_blockwise(weight)
    assert torch.equal(dequantize_blockwise(quantized, scale_inv, torch.float32)[:128, :128],
                       torch.zeros(128, 128))
    q5, s5 = quantize_blockwise(weight, fmt="e5m2")
    assert q5.dtype == torch.float8_e5m2
    restored5 = dequantize_blockwise(q5, s5, torch.float32)
    # two mantissa bits: E5M2 is coarser than E4M3 on the same data
    e4 = relative_error(weight, dequantize_blockwise(quantized, scale_inv, torch.float32))
    assert e4 < relative_error(weight, restored5) < 0.1


def test_state_dict_policy_follows_deepseek() -> None:
    tensors = {
        "model.embed_tokens.weight": torch.randn(300, 128),
        "model.layers.0.input_layernorm.weight": torch.ones(128),
        "model.layers.0.self_attn.kv_a_layernorm.weight": torch.ones(128),
        "model.layers.0.self_attn.q_a_proj.weight": torch.randn(192, 128),
        "model.layers.1.mlp.gate.weight": torch.randn(8, 128),
        "model.layers.1.mlp.gate.e_score_correction_bias": torch.zeros(8),
        "model.layers.1.mlp.experts.0.down_proj.weight": torch.randn(128, 64),
        "lm_head.weight": torch.randn(300, 128),
    }
    quantized = quantize_state_dict(tensors)
    fp8 = {n for n, t in quantized.items() if t.dtype == torch.float8_e4m3fn}
    assert fp8 == {"model.layers.0.self_attn.q_a_proj.weight",
                   "model.layers.1.mlp.experts.0.down_proj.weight"}
    assert set(quantized) - set(tensors) == {n + "_scale_inv" for n in fp8}
    restored = dequantize_state_dict(quantized, torch.float32)
    assert set(restored) == set(tensors)
    assert torch.equal(restored["lm_head.weight"], tensors["lm_head.weight"])


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "bf16")


def test_checkpoint_layout_matches_vllm_block_fp8_conventions(tiny_dir: Path,
                                                              tmp_path: Path) -> None:
    report = quantize_checkpoint(tiny_dir, tmp_path / "fp8", show_progress=False)
    config = json.loads((tmp_path / "fp8" / "config.json").read_text())
    assert config["quantization_config"] == {
        "quant_method": "fp8", "fmt": "e4m3", "activation_scheme": "dynamic",
        "weight_block_size": [128, 128],
    }
    assert (tmp_path / "fp8" / "tokenizer.json").is_file()
    with safe_open(str(tmp_path / "fp8" / "model.safetensors"), framework="pt") as f:
        names = set(f.keys())
        for name in names:
            tensor = f.get_tensor(name)
            if name.endswith("_scale_inv"):
                weight = f.get_tensor(name.removesuffix("_scale_inv"))
                assert name.removesuffix("_scale_inv").endswith(".weight")
                assert weight.dtype == torch.float8_e4m3fn
                assert tensor.dtype == torch.float32
                assert tensor.shape == (-(-weight.shape[0] // 128), -(-weight.shape[1] // 128))
            elif tensor.dtype == torch.float8_e4m3fn:
                assert name + "_scale_inv" in names
        for kept in ("model.embed_tokens.weight", "lm_head.weight", "model.norm.weight",
                     "model.layers.1.mlp.gate.weight"):
            assert f.get_tensor(kept).dtype == torch.bfloat16
        assert f.get_tensor("model.layers.1.mlp.gate.e_score_correction_bias").dtype == \
            torch.float32
    assert report.bytes_after < 0.7 * report.bytes_before
    assert 0 < report.relative_error < 0.04


def test_dequantize_restores_a_loadable_bf16_checkpoint(tiny_dir: Path, tmp_path: Path) -> None:
    quantize_checkpoint(tiny_dir, tmp_path / "fp8", show_progress=False)
    report = dequantize_checkpoint(tmp_path / "fp8", tmp_path / "bf16", show_progress=False)
    config = json.loads((tmp_path / "bf16" / "config.json").read_text())
    assert "quantization_config" not in config
    original = load_file(str(tiny_dir / "model.safetensors"))
    restored = load_file(str(tmp_path / "bf16" / "model.safetensors"))
    assert set(restored) == set(original)
    name = "model.layers.2.mlp.experts.5.up_proj.weight"
    assert restored[name].dtype == torch.bfloat16
    assert 0 < relative_error(original[name], restored[name]) < 0.04
    assert torch.equal(restored["lm_head.weight"], original["lm_head.weight"])
    assert report.bytes_after == sum(t.numel() * t.element_size() for t in restored.values())


def test_refuses_bad_sources_and_targets(tiny_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput):
        dequantize_checkpoint(tiny_dir, tmp_path / "x", show_progress=False)
    quantize_checkpoint(tiny_dir, tmp_path / "fp8", show_progress=False)
    with pytest.raises(InvalidInput):
        quantize_checkpoint(tmp_path / "fp8", tmp_path / "again", show_progress=False)
    with pytest.raises(Conflict):
        quantize_checkpoint(tiny_dir, tmp_path / "fp8", show_progress=False)


def _synthetic_checkpoint(root: Path, shards: int) -> Path:
    """A sharded BF16 checkpoint: each shard holds four 1024x1024 projections (8 MB)."""
    root.mkdir()
    weight_map = {}
    for s in range(shards):
        shard = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
        tensors = {f"model.layers.{s}.mlp.experts.{e}.up_proj.weight":
                   torch.randn(1024, 1024, dtype=torch.bfloat16) for e in range(4)}
        save_file(tensors, str(root / shard))
        weight_map.update(dict.fromkeys(tensors, shard))
    (root / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    (root / "config.json").write_text(json.dumps({"model_type": "deepseek_v3"}))
    return root


def _peak_rss_of_quantizing(src: Path, dst: Path) -> int:
    code = ("import sys; from inference.fp8.checkpoint import quantize_checkpoint; "
            "r = quantize_checkpoint(sys.argv[1], sys.argv[2], show_progress=False); "
            "print(r.peak_rss_bytes)")
    done = subprocess.run([sys.executable, "-c", code, str(src), str(dst)], check=True,
                          capture_output=True, text=True, cwd=Path(__file__).parents[2])
    return int(done.stdout.strip().splitlines()[-1])


def test_peak_memory_follows_shard_size_not_model_size(tmp_path: Path) -> None:
    small = _peak_rss_of_quantizing(_synthetic_checkpoint(tmp_path / "s", 2), tmp_path / "s8")
    large = _peak_rss_of_quantizing(_synthetic_checkpoint(tmp_path / "l", 12), tmp_path / "l8")
    # the large model is 80 MB bigger; an unbounded converter would grow by at least that much
    assert large - small < 32 * 1024 * 1024
    index = json.loads((tmp_path / "l8" / "model.safetensors.index.json").read_text())
    assert len(set(index["weight_map"].values())) == 12
    assert len(index["weight_map"]) == 96  # 48 weights + 48 scales


def test_error_sums_leave_an_fp32_weight_untouched() -> None:
    weight = torch.randn(300, 200)
    original = weight.clone()
    quantized, scale_inv = quantize_blockwise(weight)
    err_sq, ref_sq = quantization_error_sums(weight, quantized, scale_inv)
    assert torch.equal(weight, original)
    assert ref_sq == pytest.approx(original.pow(2).sum().item(), rel=1e-5)
    restored = dequantize_blockwise(quantized, scale_inv, torch.float32)
    assert err_sq == pytest.approx((original - restored).pow(2).sum().item(), rel=1e-4)
