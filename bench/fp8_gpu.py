"""FP8 vs BF16 on an H100/H200: GEMM throughput on DeepSeek-V3 projection shapes with
``torch._scaled_mm`` (tensor-wise and row-wise scales) and ``torch.nn.functional.scaled_mm``
(DeepSeek's 1x128 activation / 128x128 weight block scales, where this torch and GPU support it),
then the step time of a few torchao float8 training steps against BF16 on a small model.
Prints rich tables and writes JSON. Without a CUDA device of compute capability 8.9 or higher it
says so and exits 0. Designed to finish in well under 5 minutes.

    python bench/fp8_gpu.py [--out var/reports/fp8_gpu.json] [--quick]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from rich.table import Table

console = Console()
E4M3 = torch.float8_e4m3fn

# (name, out_features N, in_features K) from DeepSeek-V3 (hidden 7168)
SHAPES = [
    ("expert gate/up 7168->2048", 2048, 7168),
    ("expert down 2048->7168", 7168, 2048),
    ("dense MLP up 7168->18432", 18432, 7168),
    ("q_b_proj 1536->24576", 24576, 1536),
]
TOKENS = [1024, 4096, 16384]


def _time_cuda(fn: Callable[[], Any], warmup: int = 5, iters: int = 20) -> float:
    """Median seconds per call, timed with CUDA events."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(iters):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end) / 1e3)
    return sorted(times)[len(times) // 2]


def _blockwise_call(a8: torch.Tensor, b8: torch.Tensor, m: int, n: int,
                    k: int) -> Callable[[], Any] | str:
    """A DeepSeek-style (1x128 activations, 128x128 weights) scaled GEMM, or why it can't run."""
    scaled_mm = getattr(torch.nn.functional, "scaled_mm", None)
    if scaled_mm is None:
        return "torch.nn.functional.scaled_mm absent"
    from torch.nn.functional import ScalingType

    kb, nb = -(-k // 128), -(-n // 128)
    errors = []
    # the kernels want the activation scales outer-dim-major; try that layout first
    for scale_a in (torch.ones(kb, m, device="cuda").t(), torch.ones(m, kb, device="cuda")):
        for scale_b in (torch.ones(nb, kb, device="cuda").t(), torch.ones(kb, nb, device="cuda")):
            def call(sa: torch.Tensor = scale_a, sb: torch.Tensor = scale_b) -> Any:
                return scaled_mm(a8, b8, sa, ScalingType.BlockWise1x128, sb,
                                 ScalingType.BlockWise128x128, output_dtype=torch.bfloat16)
            try:
                call()
                return call
            except (RuntimeError, ValueError, TypeError) as exc:
                errors.append(str(exc).splitlines()[0][:80])
    return "unsupported: " + errors[-1]


def _gemm_row(name: str, weight: torch.Tensor, m: int) -> dict[str, Any]:
    """TFLOP/s of one (shape, token count) in BF16 and each FP8 scaling."""
    n, k = weight.shape
    act = torch.randn(m, k, device="cuda", dtype=torch.bfloat16)
    a8 = act.to(E4M3)
    b8 = weight.to(E4M3).t()  # column-major [K, N], as the FP8 kernels require
    flops = 2.0 * m * n * k
    one = torch.ones((), device="cuda")
    results: dict[str, Any] = {"shape": name, "tokens": m}
    results["bf16"] = flops / _time_cuda(lambda: act @ weight.t()) / 1e12
    results["fp8 tensorwise"] = flops / _time_cuda(lambda: torch._scaled_mm(
        a8, b8, scale_a=one, scale_b=one, out_dtype=torch.bfloat16)) / 1e12
    row_a = torch.ones(m, 1, device="cuda")
    row_b = torch.ones(1, n, device="cuda")
    try:
        results["fp8 rowwise"] = flops / _time_cuda(lambda: torch._scaled_mm(
            a8, b8, scale_a=row_a, scale_b=row_b, out_dtype=torch.bfloat16)) / 1e12
    except RuntimeError as exc:
        results["fp8 rowwise"] = "unsupported: " + str(exc).splitlines()[0][:80]
    blockwise = _blockwise_call(a8, b8, m, n, k)
    results["fp8 blockwise"] = blockwise if isinstance(blockwise, str) else \
        flops / _time_cuda(blockwise) / 1e12
    return results


def bench_gemms(tokens: list[int]) -> list[dict[str, Any]]:
    """TFLOP/s of BF16 and FP8 GEMMs for every (shape, token count)."""
    rows: list[dict[str, Any]] = []
    for name, n, k in SHAPES:
        weight = torch.randn(n, k, device="cuda", dtype=torch.bfloat16) * 0.02
        rows.extend(_gemm_row(name, weight, m) for m in tokens)
    return rows


def _training_model(width: int, depth: int) -> torch.nn.Module:
    layers: list[torch.nn.Module] = []
    for _ in range(depth):
        layers += [torch.nn.Linear(width, 4 * width, bias=False), torch.nn.SiLU(),
                   torch.nn.Linear(4 * width, width, bias=False)]
    return torch.nn.Sequential(*layers).cuda()


def _time_training(variant: str, steps: int, width: int, depth: int,
                   tokens: int) -> tuple[float, float]:
    """(seconds per step, compile seconds) for one variant."""
    from torchao.float8 import Float8LinearConfig, convert_to_float8_training

    torch.manual_seed(0)
    model = _training_model(width, depth)
    if variant != "bf16":
        config = Float8LinearConfig.from_recipe_name(variant.split()[1])
        convert_to_float8_training(model, config=config)
    compiled = torch.compile(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=True)
    data = torch.randn(tokens, width, device="cuda")

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = compiled(data).float().pow(2).mean()
        loss.backward()
        optimizer.step()

    started = time.perf_counter()
    step()
    torch.cuda.synchronize()
    compile_s = time.perf_counter() - started
    return _time_cuda(step, warmup=2, iters=steps), compile_s


def bench_training(steps: int, width: int, depth: int, tokens: int) -> list[dict[str, Any]]:
    """Seconds per training step: BF16 autocast vs torchao float8 (tensorwise, rowwise)."""
    rows: list[dict[str, Any]] = []
    baseline = 0.0
    for variant in ("bf16", "fp8 tensorwise", "fp8 rowwise"):
        seconds, compile_s = _time_training(variant, steps, width, depth, tokens)
        baseline = baseline or seconds
        rows.append({"variant": variant, "step_ms": seconds * 1e3, "vs_bf16": baseline / seconds,
                     "compile_s": compile_s})
        torch.cuda.empty_cache()
    return rows


def _fmt(value: float | str) -> str:
    return f"{value:,.0f}" if isinstance(value, float) else value


def main() -> int:
    """Run both benchmarks and print/write their tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("var/reports/fp8_gpu.json"))
    parser.add_argument("--quick", action="store_true", help="fewer shapes and steps")
    args = parser.parse_args()

    if not torch.cuda.is_available():
        console.print("[yellow]No CUDA device: the FP8 GPU benchmark needs an H100/H200 "
                      "(compute capability 8.9+). Nothing was measured.[/yellow]")
        return 0
    capability = torch.cuda.get_device_capability()
    if capability < (8, 9):
        console.print(f"[yellow]{torch.cuda.get_device_name()} (sm_{capability[0]}"
                      f"{capability[1]}) has no FP8 tensor cores; nothing was measured.[/yellow]")
        return 0

    device = torch.cuda.get_device_name()
    gemms = bench_gemms(TOKENS[:2] if args.quick else TOKENS)
    table = Table(title=f"GEMM TFLOP/s on {device} (DeepSeek-V3 shapes)")
    for column in ("shape", "tokens", "bf16", "fp8 tensorwise", "fp8 rowwise", "fp8 blockwise",
                   "tensorwise / bf16"):
        table.add_column(column, justify="right")
    for row in gemms:
        ratio = row["fp8 tensorwise"] / row["bf16"]
        table.add_row(row["shape"], str(row["tokens"]), _fmt(row["bf16"]),
                      _fmt(row["fp8 tensorwise"]), _fmt(row["fp8 rowwise"]),
                      _fmt(row["fp8 blockwise"]), f"{ratio:.2f}x")
    console.print(table)

    training = bench_training(steps=5 if args.quick else 10, width=4096, depth=4, tokens=8192)
    table = Table(title="torchao float8 training step vs BF16 (4 x [4096 -> 16384 -> 4096] MLP, "
                        "8192 tokens, torch.compile)")
    for column in ("variant", "ms / step", "speed-up vs BF16", "compile s"):
        table.add_column(column, justify="right")
    for row in training:
        table.add_row(row["variant"], f"{row['step_ms']:.2f}", f"{row['vs_bf16']:.2f}x",
                      f"{row['compile_s']:.0f}")
    console.print(table)

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"device": device, "torch": torch.__version__,
                                    "gemm": gemms, "training": training}, indent=2) + "\n")
    console.print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
