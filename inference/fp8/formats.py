"""FP8 formats and DeepSeek-V3's block-FP8 conventions: which dtypes, the 128x128 weight block,
the ``quantization_config`` that vLLM reads, the ``<name>_scale_inv`` naming, and which tensors
stay in high precision (embeddings, norms, the MoE router and its bias, the output head)."""

from __future__ import annotations

from typing import Any, Literal

import torch

Fp8Format = Literal["e4m3", "e5m2"]

FP8_DTYPES: dict[str, torch.dtype] = {
    "e4m3": torch.float8_e4m3fn,
    "e5m2": torch.float8_e5m2,
}
BLOCK_SIZE: tuple[int, int] = (128, 128)
SCALE_SUFFIX = "_scale_inv"

# DeepSeek-V3 keeps these in BF16/FP32: lookups, normalisation, routing decisions and the head
_HIGH_PRECISION_PARTS = ("embed_tokens", "lm_head", "norm", "mlp.gate.")


def fp8_max(fmt: Fp8Format) -> float:
    """The largest finite value of an FP8 format (448 for E4M3, 57344 for E5M2)."""
    return float(torch.finfo(FP8_DTYPES[fmt]).max)


def is_quantized_weight(name: str, tensor: torch.Tensor) -> bool:
    """True for the tensors DeepSeek-V3 stores in FP8: 2-D weights of linear layers."""
    if tensor.ndim != 2 or not name.endswith(".weight"):
        return False
    return not any(part in name for part in _HIGH_PRECISION_PARTS)


def scale_name(weight_name: str) -> str:
    """``x.weight`` -> ``x.weight_scale_inv``, the name vLLM's block-FP8 loader expects."""
    return weight_name + SCALE_SUFFIX


def scale_shape(
    weight_shape: tuple[int, ...], block: tuple[int, int] = BLOCK_SIZE
) -> tuple[int, int]:
    """One scale per block, partial blocks at the edges included."""
    rows, cols = weight_shape
    return (-(-rows // block[0]), -(-cols // block[1]))


def deepseek_quantization_config(
    fmt: Fp8Format = "e4m3", block: tuple[int, int] = BLOCK_SIZE
) -> dict[str, Any]:
    """The ``quantization_config`` of config.json for a block-FP8 checkpoint."""
    return {
        "quant_method": "fp8",
        "fmt": fmt,
        "activation_scheme": "dynamic",
        "weight_block_size": list(block),
    }
