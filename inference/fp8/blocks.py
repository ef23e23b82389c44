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
    """Quantize a 2-D tensor to FP8 with one scale per block; returns (fp8 tensor, scale_inv).

    Works one strip of block rows at a time, so the FP32 temporaries stay a strip in size even
    for an 18432 x 7168 projection.
    """
    if weight.ndim != 2:
        raise ValueError(f"block quantization needs a 2-D tensor, got shape {tuple(weight.shape)}")
    rows, cols = weight.shape
    n_rows, n_cols = scale_shape((rows, cols), block)
    limit = fp8_max(fmt)
    quantized = torch.empty((rows, cols), dtype=FP8_DTYPES[fmt])
    scale_inv = torch.empty((n_rows, n_cols), dtype=torch.float32)
    for r in range(n_rows):
        strip = weight[r * block[0]:(r + 1) * block[0]].float()
        height = strip.shape[0]
        padded = F.pad(strip, (0, n_cols * block[1] - cols))
        tiles = padded.view(height, n_cols, block[1])
        amax = tiles.abs().amax(dim=(0, 2))
        # an all-zero block keeps scale 1 so it stays exactly zero instead of dividing by zero
        scale = torch.where(amax > 0, amax / limit, torch.ones_like(amax))
        scaled = (tiles / scale[None, :, None]).clamp_(-limit, limit)
        quantized[r * block[0]:r * block[0] + height] = scaled.view(height, -1)[:, :cols]
        scale_inv[r] = scale
    return quantized, scale_inv


def quantization_error_sums(
    weight: torch.Tensor,
    quantized: torch.Tensor,
    scale_inv: torch.Tensor,
    block: tuple[int, int] = BLOCK_SIZE,
) -> tuple[float, float]:
    """``(sum((W - W')**2), sum(W**2))`` for a quantized weight, one block-row strip at a time."""
    err_sq = 0.0
    ref_sq = 0.0
    for r in range(scale_inv.shape[0]):
        rows = slice(r * block[0], (r + 1) * block[0])
        reference = weight[rows].float()
        restored = dequantize_blockwise(quantized[rows], scale_inv[r:r + 1], torch.float32, block)
        # ``reference`` may alias ``weight`` (FP32 input): never modify it in place
        err_sq += (reference - restored).pow_(2).sum().item()
        ref_sq += reference.pow(2).sum().item()
    return err_sq, ref_sq


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
