"""Whole-checkpoint conversion between BF16/FP32 and DeepSeek-V3 block-FP8, one safetensors shard
at a time: a shard is read, converted tensor by tensor, written, and released before the next one
opens, so peak memory follows the largest shard rather than the model. Non-weight files (tokenizer,
generation config) are copied; config.json gains or loses ``quantization_config``; sharded
checkpoints get a new ``model.safetensors.index.json``. Each run returns a ``ConversionReport``."""

from __future__ import annotations

import json
import math
import resource
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from rich.progress import Progress
from safetensors import safe_open
from safetensors.torch import save_file

from app.core.errors import Conflict, InvalidInput
from inference.fp8.blocks import (
    dequantize_blockwise,
    quantization_error_sums,
    quantize_blockwise,
)
from inference.fp8.formats import (
    BLOCK_SIZE,
    SCALE_SUFFIX,
    Fp8Format,
    deepseek_quantization_config,
    is_quantized_weight,
    scale_name,
)

INDEX_FILE = "model.safetensors.index.json"


@dataclass
class TensorStats:
    """One converted tensor: its shape, storage before and after, and the error introduced."""

    name: str
    shape: list[int]
    dtype_before: str
    dtype_after: str
    bytes_before: int
    bytes_after: int
    relative_error: float


@dataclass
class ConversionReport:
    """What a conversion did: per-tensor stats, totals, and the process's peak memory."""

    direction: str
    tensors: list[TensorStats] = field(default_factory=list)
    bytes_before: int = 0
    bytes_after: int = 0
    shards: int = 0
    peak_rss_bytes: int = 0
    # sums of squares over converted tensors, for the overall (norm-weighted) relative error
    _err_sq: float = 0.0
    _ref_sq: float = 0.0

    @property
    def relative_error(self) -> float:
        """``||W - W'|| / ||W||`` over every converted weight taken together."""
        return math.sqrt(self._err_sq / self._ref_sq) if self._ref_sq else 0.0

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready summary with every tensor's stats."""
        payload = asdict(self)
        payload.pop("_err_sq")
        payload.pop("_ref_sq")
        payload["relative_error"] = self.relative_error
        payload["converted_tensors"] = sum(t.dtype_before != t.dtype_after for t in self.tensors)
        return payload


def _nbytes(tensor: torch.Tensor) -> int:
    return tensor.numel() * tensor.element_size()


def _peak_rss_bytes() -> int:
    # ru_maxrss is KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _shard_files(src: Path) -> tuple[list[str], dict[str, str] | None]:
    index = src / INDEX_FILE
    if index.is_file():
        weight_map: dict[str, str] = json.loads(index.read_text())["weight_map"]
        return sorted(set(weight_map.values())), weight_map
    if (src / "model.safetensors").is_file():
        return ["model.safetensors"], None
    raise InvalidInput(f"{src} holds neither model.safetensors nor {INDEX_FILE}")


def _prepare(src: Path, dst: Path) -> dict[str, Any]:
    if not (src / "config.json").is_file():
        raise InvalidInput(f"{src} is not a model directory (no config.json)")
    if dst.resolve() == src.resolve():
        raise InvalidInput("source and destination must differ")
    if dst.exists() and any(dst.iterdir()):
        raise Conflict(f"{dst} exists and is not empty")
    dst.mkdir(parents=True, exist_ok=True)
    for item in src.iterdir():
        # a builder manifest describes the source's weights, not the converted ones
        if item.is_file() and not item.name.endswith(".safetensors") and item.name not in (
            INDEX_FILE, "config.json", "lexledger_build.json"
        ):
            shutil.copy2(item, dst / item.name)
    config: dict[str, Any] = json.loads((src / "config.json").read_text())
    return config


def _convert(
    src: Path,
    dst: Path,
    direction: str,
    convert_shard: Callable[[Any, str, ConversionReport, dict[str, torch.Tensor]], None],
    show_progress: bool,
) -> ConversionReport:
    shards, _ = _shard_files(src)
    report = ConversionReport(direction=direction, shards=len(shards))
    weight_map: dict[str, str] = {}
    with Progress(disable=not show_progress, transient=True) as progress:
        task = progress.add_task(direction, total=len(shards))
        for shard in shards:
            out: dict[str, torch.Tensor] = {}
            with safe_open(str(src / shard), framework="pt") as handle:
                convert_shard(handle, shard, report, out)
            save_file(out, str(dst / shard), metadata={"format": "pt"})
            weight_map.update(dict.fromkeys(out, shard))
            report.bytes_after += sum(_nbytes(t) for t in out.values())
            del out
            progress.advance(task)
    if len(shards) > 1 or (src / INDEX_FILE).is_file():
        index = {"metadata": {"total_size": report.bytes_after}, "weight_map": weight_map}
        (dst / INDEX_FILE).write_text(json.dumps(index, indent=2) + "\n")
    report.peak_rss_bytes = _peak_rss_bytes()
    return report


def quantize_checkpoint(
    src: Path,
    dst: Path,
    *,
    fmt: Fp8Format = "e4m3",
    block: tuple[int, int] = BLOCK_SIZE,
    show_progress: bool = True,
) -> ConversionReport:
    """Write a block-FP8 copy of the BF16/FP32 checkpoint in ``src`` to ``dst``.

    Linear weights become FP8 with a float32 ``<name>_scale_inv`` per 128x128 block; the tensors
    DeepSeek-V3 keeps in high precision are copied unchanged; config.json gains
    ``quantization_config``. Raises ``InvalidInput`` for an already-quantized source.
    """
    src, dst = Path(src), Path(dst)
    config = _prepare(src, dst)
    if "quantization_config" in config:
        raise InvalidInput(f"{src} is already quantized ({config['quantization_config']})")

    def convert_shard(handle: Any, shard: str, report: ConversionReport,
                      out: dict[str, torch.Tensor]) -> None:
        for name in handle.keys():
            tensor = handle.get_tensor(name)
            before = _nbytes(tensor)
            if not is_quantized_weight(name, tensor):
                out[name] = tensor
                report.tensors.append(TensorStats(name, list(tensor.shape), str(tensor.dtype),
                                                  str(tensor.dtype), before, before, 0.0))
                report.bytes_before += before
                continue
            quantized, scale_inv = quantize_blockwise(tensor, fmt, block)
            err_sq, ref_sq = quantization_error_sums(tensor, quantized, scale_inv, block)
            report._err_sq += err_sq
            report._ref_sq += ref_sq
            out[name], out[scale_name(name)] = quantized, scale_inv
            report.tensors.append(TensorStats(
                name, list(tensor.shape), str(tensor.dtype), str(quantized.dtype), before,
                _nbytes(quantized) + _nbytes(scale_inv),
                math.sqrt(err_sq / ref_sq) if ref_sq else 0.0,
            ))
            report.bytes_before += before
            del tensor

    report = _convert(src, dst, f"quantize -> fp8 {fmt}", convert_shard, show_progress)
    config["quantization_config"] = deepseek_quantization_config(fmt, block)
    (dst / "config.json").write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n")
    return report


def dequantize_checkpoint(
    src: Path,
    dst: Path,
    *,
    dtype: torch.dtype = torch.bfloat16,
    show_progress: bool = True,
) -> ConversionReport:
    """Write a ``dtype`` copy of the block-FP8 checkpoint in ``src`` to ``dst``.

    For hardware without FP8 GEMMs (the CPU dev profile): every ``<name>`` with a
    ``<name>_scale_inv`` is multiplied out block by block, the scales are dropped, and config.json
    loses ``quantization_config``. A scale stored in another shard than its weight is found
    through the index.
    """
    src, dst = Path(src), Path(dst)
    config = _prepare(src, dst)
    quant = config.get("quantization_config")
    if not quant or quant.get("quant_method") != "fp8":
        raise InvalidInput(f"{src} is not a block-FP8 checkpoint (no fp8 quantization_config)")
    block = tuple(quant.get("weight_block_size") or BLOCK_SIZE)
    if len(block) != 2:
        raise InvalidInput(f"unsupported weight_block_size {block}")
    _, weight_map = _shard_files(src)

    def find_scale(handle: Any, name: str) -> torch.Tensor | None:
        wanted = scale_name(name)
        if wanted in handle.keys():
            return handle.get_tensor(wanted)
        if weight_map and wanted in weight_map:
            with safe_open(str(src / weight_map[wanted]), framework="pt") as other:
                return other.get_tensor(wanted)
        return None

    def convert_shard(handle: Any, shard: str, report: ConversionReport,
                      out: dict[str, torch.Tensor]) -> None:
        for name in handle.keys():
            if name.endswith(SCALE_SUFFIX):
                report.bytes_before += _nbytes(handle.get_tensor(name))
                continue
            tensor = handle.get_tensor(name)
            scale = find_scale(handle, name)
            report.bytes_before += _nbytes(tensor)
            out[name] = tensor if scale is None else dequantize_blockwise(
                tensor, scale, dtype, (block[0], block[1]))
            report.tensors.append(TensorStats(
                name, list(tensor.shape), str(tensor.dtype), str(out[name].dtype),
                _nbytes(tensor) + (0 if scale is None else _nbytes(scale)), _nbytes(out[name]),
                0.0,
            ))

    report = _convert(src, dst, f"dequantize -> {dtype}", convert_shard, show_progress)
    config.pop("quantization_config")
    config["torch_dtype"] = str(dtype).removeprefix("torch.")
    (dst / "config.json").write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n")
    return report
