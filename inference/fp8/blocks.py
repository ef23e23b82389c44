"""Block-wise FP8 quantization of single tensors and whole state dicts: one float32 scale per
128x128 block (partial blocks at the edges get their own), values divided by the scale, saturated
to the format's range and cast. ``scale_inv`` is the multiplier that dequantizes (DeepSeek-V3's
convention), so ``weight ~= fp8_weight * scale_inv`` block by block."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from inference.fp8.formats import (
    BLOCK_SIZE,
    FP8_DTYPES,
    SCALE_SUFFIX,
    Fp8Format,
    fp8_max,
    is_quantized_weight,
    scale_name,
    scale_shape,
)


def quantize_blockwise(
    weight: torch.Tensor, fmt: Fp8Format = "e4m3", block: tuple[int, int] = BLOCK_SIZE
) -> tuple[torch.Tensor, torch.Tensor]:
    """Quantize a 2-D tensor to FP8 with one scale per block; returns (fp8 tensor, scale_inv)."""
    if weight.ndim != 2:
        raise ValueError(f"block quantization needs a 2-D tensor, got shape {tuple(weight.shape)}")
    rows, cols = weight.shape
    n_rows, n_cols = scale_shape((rows, cols), block)
    padded = F.pad(weight.float(), (0, n_cols * block[1] - cols, 0, n_rows * block[0] - rows))
    tiles = padded.view(n_rows, block[0], n_cols, block[1])
    amax = tiles.abs().amax(dim=(1, 3))
    limit = fp8_max(fmt)
    # an all-zero block keeps scale 1 so it stays exactly zero instead of dividing by zero
    scale_inv = torch.where(amax > 0, amax / limit, torch.ones_like(amax))
    scaled = (tiles / scale_inv[:, None, :, None]).clamp(-limit, limit)
    quantized = scaled.to(FP8_DTYPES[fmt]).view(n_rows * block[0], n_cols * block[1])
    return quantized[:rows, :cols].contiguous(), scale_inv.contiguous()


def dequantize_blockwise(
    quantized: torch.Tensor,
    scale_inv: torch.Tensor,
    dtype: torch.dtype = torch.bfloat16,
    block: tuple[int, int] = BLOCK_SIZE,
) -> torch.Tensor:
    """Multiply each block of an FP8 tensor by its ``scale_inv``; returns ``dtype``."""
    rows, cols = quantized.shape
    if tuple(scale_inv.shape) != scale_shape((rows, cols), block):
        raise ValueError(f"scale shape {tuple(scale_inv.shape)} does not fit weight "
                         f"{(rows, cols)} with block {block}")
    expanded = scale_inv.repeat_interleave(block[0], 0).repeat_interleave(block[1], 1)
    return (quantized.float() * expanded[:rows, :cols]).to(dtype)


def relative_error(reference: torch.Tensor, approximation: torch.Tensor) -> float:
    """``||reference - approximation|| / ||reference||`` (Frobenius), computed in FP32."""
    ref = reference.float()
    norm = ref.norm().item()
    diff = (ref - approximation.float()).norm().item()
    return diff / norm if norm > 0 else diff


def quantize_state_dict(
    tensors: dict[str, torch.Tensor], fmt: Fp8Format = "e4m3", block: tuple[int, int] = BLOCK_SIZE
) -> dict[str, torch.Tensor]:
    """Quantize the FP8-eligible weights of a state dict, adding their ``_scale_inv`` tensors."""
    out: dict[str, torch.Tensor] = {}
    for name, tensor in tensors.items():
        if is_quantized_weight(name, tensor):
            out[name], out[scale_name(name)] = quantize_blockwise(tensor, fmt, block)
        else:
            out[name] = tensor
    return out


def dequantize_state_dict(
    tensors: dict[str, torch.Tensor],
    dtype: torch.dtype = torch.bfloat16,
    block: tuple[int, int] = BLOCK_SIZE,
) -> dict[str, torch.Tensor]:
    """Inverse of ``quantize_state_dict``: FP8 weights back to ``dtype``, scales dropped."""
    out: dict[str, torch.Tensor] = {}
    for name, tensor in tensors.items():
        if name.endswith(SCALE_SUFFIX):
            continue
        scale = tensors.get(scale_name(name))
        out[name] = tensor if scale is None else dequantize_blockwise(tensor, scale, dtype, block)
    return out
