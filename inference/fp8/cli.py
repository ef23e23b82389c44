"""The FP8 toolkit's commands: ``quantize`` and ``dequantize`` (checkpoint conversion),
``finetune`` (the FP8/BF16 training recipe) and ``precision-report``. Each prints a rich table;
conversions and training show progress bars."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import torch
import typer
from rich.console import Console
from rich.table import Table

from inference.fp8.checkpoint import ConversionReport, dequantize_checkpoint, quantize_checkpoint
from inference.fp8.recipe import FinetuneConfig, finetune

app = typer.Typer()
console = Console()

ThreadsOption = Annotated[int, typer.Option(
    help="CPU threads for torch (0 = torch's default; 1 is fastest on a busy shared machine).")]


def _set_threads(threads: int) -> None:
    if threads > 0:
        torch.set_num_threads(threads)


def _mb(n: float) -> str:
    return f"{n / 1e6:,.1f} MB"


def _print_conversion(report: ConversionReport, top: int) -> None:
    table = Table(title=report.direction)
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("shards", str(report.shards))
    table.add_row("tensors", str(len(report.tensors)))
    table.add_row("bytes before", _mb(report.bytes_before))
    table.add_row("bytes after", _mb(report.bytes_after))
    table.add_row("after / before", f"{report.bytes_after / max(1, report.bytes_before):.3f}")
    if report.relative_error:
        table.add_row("overall relative error", f"{report.relative_error:.4%}")
    table.add_row("peak RSS", _mb(report.peak_rss_bytes))
    console.print(table)
    worst = sorted(report.tensors, key=lambda t: t.relative_error, reverse=True)[:top]
    if top and worst and worst[0].relative_error:
        detail = Table(title=f"largest per-tensor errors (top {top})")
        detail.add_column("tensor", overflow="fold")
        for column in ("shape", "before", "after", "rel. error"):
            detail.add_column(column)
        for t in worst:
            detail.add_row(t.name, "x".join(map(str, t.shape)), _mb(t.bytes_before),
                           _mb(t.bytes_after), f"{t.relative_error:.4%}")
        console.print(detail)


def _write_json(path: Path | None, payload: dict[str, Any]) -> None:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(payload, indent=2) + "\n")
        console.print(f"report written to {path}")


@app.command("quantize")
def quantize_command(
    src: Annotated[Path, typer.Argument(help="BF16/FP32 HF checkpoint directory.")],
    dst: Annotated[Path, typer.Argument(help="New directory for the block-FP8 checkpoint.")],
    report: Annotated[Path | None, typer.Option(help="Write per-tensor stats as JSON.")] = None,
    top: Annotated[int, typer.Option(help="Show the N tensors with the largest error.")] = 10,
) -> None:
    """Convert a checkpoint to DeepSeek-V3 block-FP8 (E4M3, 128x128 scales), shard by shard."""
    result = quantize_checkpoint(src, dst)
    _print_conversion(result, top)
    _write_json(report, result.to_json())


@app.command("dequantize")
def dequantize_command(
    src: Annotated[Path, typer.Argument(help="Block-FP8 HF checkpoint directory.")],
    dst: Annotated[Path, typer.Argument(help="New directory for the BF16 checkpoint.")],
    report: Annotated[Path | None, typer.Option(help="Write per-tensor stats as JSON.")] = None,
) -> None:
    """Convert a block-FP8 checkpoint back to BF16 for hardware without FP8 (CPU dev profile)."""
    result = dequantize_checkpoint(src, dst)
    _print_conversion(result, 0)
    _write_json(report, result.to_json())


@app.command("finetune")
def finetune_command(
    model_dir: Annotated[Path, typer.Option(help="BF16/FP32 HF checkpoint to fine-tune.")] = Path(
        "var/models/tiny-deepseek-v3"),
    out: Annotated[Path, typer.Option(help="Run directory (checkpoint, loss log, model).")] = Path(
        "var/runs/fp8-finetune"),
    precision: Annotated[str, typer.Option(help="fp8, bf16 or fp32.")] = "fp8",
    recipe: Annotated[str, typer.Option(help="torchao scaling: tensorwise or rowwise.")] = (
        "tensorwise"),
    backend: Annotated[str, typer.Option(help="torchao or transformer-engine.")] = "torchao",
    steps: Annotated[int, typer.Option(help="Optimizer steps in total.")] = 100,
    micro_batch_size: Annotated[int, typer.Option(help="Sequences per micro-batch.")] = 8,
    grad_accum_steps: Annotated[int, typer.Option(help="Micro-batches per step.")] = 2,
    seq_len: Annotated[int, typer.Option(help="Tokens per sequence.")] = 128,
    learning_rate: Annotated[float, typer.Option("--lr", help="Peak AdamW learning rate.")] = 2e-3,
    seed: Annotated[int, typer.Option(help="Seed for data order.")] = 0,
    checkpoint_every: Annotated[int, typer.Option(help="Steps between checkpoints.")] = 25,
    eval_every: Annotated[int, typer.Option(help="Steps between held-out evaluations.")] = 25,
    data: Annotated[Path | None, typer.Option(help="Text file, one document per line.")] = None,
    resume: Annotated[bool, typer.Option(help="Continue from the run's checkpoint.")] = True,
    threads: ThreadsOption = 0,
) -> None:
    """Fine-tune a causal LM with FP8 linear layers (or BF16/FP32 for comparison)."""
    if precision not in ("fp8", "bf16", "fp32") or recipe not in ("tensorwise", "rowwise") or \
            backend not in ("torchao", "transformer-engine"):
        raise typer.BadParameter("precision: fp8|bf16|fp32, recipe: tensorwise|rowwise, "
                                 "backend: torchao|transformer-engine")
    _set_threads(threads)
    config = FinetuneConfig(
        model_dir=model_dir, out_dir=out, precision=precision,  # type: ignore[arg-type]
        recipe=recipe, backend=backend, steps=steps,  # type: ignore[arg-type]
        micro_batch_size=micro_batch_size, grad_accum_steps=grad_accum_steps, seq_len=seq_len,
        learning_rate=learning_rate, seed=seed, checkpoint_every=checkpoint_every,
        eval_every=eval_every, data_file=data,
    )
    result = finetune(config, resume=resume)
    table = Table(title=f"{precision} fine-tune ({recipe if precision == 'fp8' else 'no FP8'})")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("steps", f"{result.resumed_from_step} -> {steps}")
    if result.train_loss:
        table.add_row("first / last train loss",
                      f"{result.train_loss[0][1]:.4f} / {result.train_loss[-1][1]:.4f}")
    if result.eval_loss:
        table.add_row("last held-out loss", f"{result.eval_loss[-1][1]:.4f}")
    table.add_row("FP8 linear layers", str(result.fp8_linear_layers))
    table.add_row("tokens / s", f"{result.tokens_per_second:,.0f}")
    table.add_row("model", str(result.model_dir))
    console.print(table)


@app.command("precision-report")
def precision_report_command(
    out: Annotated[Path, typer.Option(help="Report directory.")] = Path(
        "var/reports/precision"),
    model_dir: Annotated[Path | None, typer.Option(
        help="Model to measure (default: the tiny DeepSeek-V3, built if missing).")] = None,
    steps: Annotated[int, typer.Option(help="Fine-tuning steps per run.")] = 100,
    seed: Annotated[int, typer.Option(help="Seed shared by both runs.")] = 0,
    recipe: Annotated[str, typer.Option(help="torchao scaling: tensorwise or rowwise.")] = (
        "tensorwise"),
    learning_rate: Annotated[float, typer.Option("--lr", help="Peak learning rate.")] = 1e-3,
    threads: ThreadsOption = 0,
) -> None:
    """FP32 vs BF16 vs FP8-E4M3 vs FP8-E5M2 on one model and held-out text, plus FP8-vs-BF16
    fine-tuning loss curves; prints a table, writes JSON and a PNG plot."""
    from inference.fp8.report import run_precision_report
    from inference.tiny_model import build_tiny_model

    _set_threads(threads)
    if model_dir is None:
        model_dir = build_tiny_model(Path("var/models/tiny-deepseek-v3"))
    payload = run_precision_report(out, model_dir, steps=steps, seed=seed, recipe=recipe,
                                   learning_rate=learning_rate)
    for key, title in (("precision_untrained", "untrained (random weights)"),
                       ("precision_after_finetune", f"after {steps} BF16 fine-tuning steps")):
        table = Table(title=f"Weight storage precision, {title}")
        for column in ("variant", "weight bytes", "rel. weight err", "rel. logit err",
                       "top-1 agree", "perplexity", "ppl change"):
            table.add_column(column, justify="right")
        for row in payload[key]:
            table.add_row(row.variant, _mb(row.weight_bytes), f"{row.relative_weight_error:.4%}",
                          f"{row.relative_logit_error:.4%}", f"{row.top1_agreement:.2%}",
                          f"{row.perplexity:.3f}", f"{row.perplexity_change:+.3%}")
        console.print(table)
    training = payload["training"]
    table = Table(title=f"FP8 vs BF16 fine-tuning, {steps} steps, same seed and initial weights")
    for column in ("run", "final held-out loss", "train loss (last 10)", "tokens/s"):
        table.add_column(column, justify="right")
    for run in ("bf16", "fp8"):
        table.add_row(run.upper(), f"{training[run]['final_eval_loss']:.4f}",
                      f"{training[run]['train_loss_last10']:.4f}",
                      f"{training[run]['tokens_per_second']:,.0f}")
    console.print(table)
    console.print(f"relative held-out loss gap FP8 vs BF16: "
                  f"{training['relative_eval_loss_gap']:+.3%}; last-10 train loss gap "
                  f"{training['relative_train_loss_gap_last10']:+.3%}")
    console.print(f"[dim]{payload['note']}[/dim]")
    console.print(f"written: {out / 'precision_report.json'}, {out / 'loss_curves.png'}")
