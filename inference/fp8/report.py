"""The precision report: on one model and one held-out text, what each storage precision costs
(FP32, BF16, block-scaled FP8-E4M3 and FP8-E5M2 weights: bytes, relative weight error, logit error
against FP32, perplexity and its change) and what FP8 training costs (a BF16 and an FP8 fine-tuning
run from the same seed: both loss curves and the final relative gap). Results go to a JSON file, a
PNG of the loss curves and a rich table. Weight variants are evaluated with FP32 arithmetic, so
the table isolates storage precision from compute precision."""

from __future__ import annotations

import json
import math
import platform
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import torchao
from torch import nn

from inference.fp8.blocks import (
    dequantize_blockwise,
    quantization_error_sums,
    quantize_blockwise,
)
from inference.fp8.data import TokenBlocks
from inference.fp8.formats import Fp8Format, is_quantized_weight
from inference.fp8.recipe import FinetuneConfig, FinetuneResult

VARIANTS = ("fp32", "bf16", "fp8-e4m3", "fp8-e5m2")
# transformers fuses DeepSeek-V3's per-expert weights into [experts, out, in] tensors
_FUSED_EXPERTS = ("mlp.experts.gate_up_proj", "mlp.experts.down_proj")


@dataclass
class PrecisionRow:
    """One storage precision of the same weights, measured on the same held-out blocks."""

    variant: str
    weight_bytes: int
    relative_weight_error: float
    relative_logit_error: float
    top1_agreement: float
    perplexity: float
    perplexity_change: float


def _store(name: str, tensor: torch.Tensor, variant: str) -> tuple[torch.Tensor, int, float, float]:
    """``tensor`` as stored in ``variant`` and read back in FP32: (values, bytes, err², ref²)."""
    ref_sq = tensor.float().pow(2).sum().item()
    if variant == "fp32":
        return tensor.float(), tensor.numel() * 4, 0.0, ref_sq
    formats: dict[str, Fp8Format] = {"fp8-e4m3": "e4m3", "fp8-e5m2": "e5m2"}
    fmt = formats.get(variant)
    fused = name.endswith(_FUSED_EXPERTS)
    if fmt is not None and (fused or is_quantized_weight(name, tensor)):
        # each expert is its own 2-D weight on disk, so each gets its own blocks
        matrices = list(tensor) if fused else [tensor]
        restored, size, err_sq = [], 0, 0.0
        for matrix in matrices:
            quantized, scale_inv = quantize_blockwise(matrix, fmt)
            err_sq += quantization_error_sums(matrix, quantized, scale_inv)[0]
            restored.append(dequantize_blockwise(quantized, scale_inv, torch.float32))
            size += quantized.numel() + scale_inv.numel() * 4
        values = torch.stack(restored) if fused else restored[0]
        return values, size, err_sq, ref_sq
    if "e_score_correction_bias" in name:  # DeepSeek-V3 keeps the routing bias in FP32
        return tensor.float(), tensor.numel() * 4, 0.0, ref_sq
    values = tensor.to(torch.bfloat16).float()
    return values, tensor.numel() * 2, (tensor.float() - values).pow(2).sum().item(), ref_sq


@torch.no_grad()
def _logits_and_loss(model: nn.Module, blocks: TokenBlocks) -> tuple[torch.Tensor, float]:
    model.eval()
    logits, total = [], 0.0
    for start in range(0, len(blocks), 16):
        batch = blocks.blocks[start:start + 16]
        out = model(input_ids=batch, labels=batch)
        logits.append(out.logits.float())
        total += out.loss.item() * batch.shape[0]
    return torch.cat(logits), total / len(blocks)


def precision_table(model: nn.Module, master: dict[str, torch.Tensor],
                    blocks: TokenBlocks) -> list[PrecisionRow]:
    """Load each storage variant of ``master`` into ``model`` and measure it against FP32."""
    rows: list[PrecisionRow] = []
    reference_logits: torch.Tensor | None = None
    reference_ppl = 0.0
    for variant in VARIANTS:
        stored: dict[str, torch.Tensor] = {}
        size, err_sq, ref_sq = 0, 0.0, 0.0
        for name, tensor in master.items():
            stored[name], t_size, t_err, t_ref = _store(name, tensor, variant)
            size, err_sq, ref_sq = size + t_size, err_sq + t_err, ref_sq + t_ref
        model.load_state_dict(stored)
        logits, loss = _logits_and_loss(model, blocks)
        ppl = math.exp(loss)
        if reference_logits is None:
            reference_logits, reference_ppl = logits, ppl
        diff = (logits - reference_logits).norm() / reference_logits.norm()
        agree = (logits.argmax(-1) == reference_logits.argmax(-1)).float().mean()
        rows.append(PrecisionRow(variant, size, math.sqrt(err_sq / ref_sq), diff.item(),
                                 agree.item(), ppl, (ppl - reference_ppl) / reference_ppl))
    model.load_state_dict(master)
    return rows


def _tail_mean(losses: list[tuple[int, float]], n: int = 10) -> float:
    tail = [loss for _, loss in losses[-n:]]
    return sum(tail) / len(tail)


def training_comparison(bf16: FinetuneResult, fp8: FinetuneResult) -> dict[str, Any]:
    """The FP8-vs-BF16 numbers: final losses, relative gaps, both curves, throughput."""
    gap_train = (_tail_mean(fp8.train_loss) - _tail_mean(bf16.train_loss)) / \
        _tail_mean(bf16.train_loss)
    eval_bf16, eval_fp8 = bf16.eval_loss[-1][1], fp8.eval_loss[-1][1]
    return {
        "steps": bf16.config.steps,
        "same_initial_weights": bf16.initial_weights_digest == fp8.initial_weights_digest,
        "fp8_linear_layers": fp8.fp8_linear_layers,
        "bf16": {"final_eval_loss": eval_bf16, "train_loss_last10": _tail_mean(bf16.train_loss),
                 "tokens_per_second": bf16.tokens_per_second, "curve": bf16.train_loss,
                 "eval_curve": bf16.eval_loss},
        "fp8": {"final_eval_loss": eval_fp8, "train_loss_last10": _tail_mean(fp8.train_loss),
                "tokens_per_second": fp8.tokens_per_second, "curve": fp8.train_loss,
                "eval_curve": fp8.eval_loss},
        "relative_eval_loss_gap": (eval_fp8 - eval_bf16) / eval_bf16,
        "relative_train_loss_gap_last10": gap_train,
    }


def plot_loss_curves(comparison: dict[str, Any], path: Path, title: str) -> Path:
    """Both training curves (and held-out points) in one PNG."""
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and CI
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=120)
    for run, colour in (("bf16", "tab:blue"), ("fp8", "tab:orange")):
        steps, losses = zip(*comparison[run]["curve"], strict=True)
        ax.plot(steps, losses, color=colour, linewidth=1.2, label=f"{run.upper()} train")
        if comparison[run]["eval_curve"]:
            e_steps, e_losses = zip(*comparison[run]["eval_curve"], strict=True)
            ax.plot(e_steps, e_losses, "o--", color=colour, markersize=4,
                    label=f"{run.upper()} held-out")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("cross-entropy loss")
    ax.set_title(title, fontsize=10)
    gap = comparison["relative_eval_loss_gap"] * 100
    ax.text(0.99, 0.97, f"final held-out gap FP8 vs BF16: {gap:+.2f} %",
            transform=ax.transAxes, ha="right", va="top", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def environment(config: FinetuneConfig) -> dict[str, Any]:
    """What the numbers were measured with."""
    return {
        "torch": torch.__version__, "torchao": torchao.__version__,
        "device": "cuda" if torch.cuda.is_available() else "cpu",
        "fp8_emulated": not torch.cuda.is_available(), "threads": torch.get_num_threads(),
        "machine": platform.machine(), "finetune": {k: str(v) if isinstance(v, Path) else v
                                                    for k, v in asdict(config).items()},
    }


def write_report(path: Path, payload: dict[str, Any]) -> Path:
    """Write the report JSON (rows as dicts)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=_jsonable) + "\n")
    return path


def _jsonable(value: Any) -> Any:
    if isinstance(value, PrecisionRow):
        return asdict(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def run_precision_report(
    out_dir: Path,
    model_dir: Path,
    *,
    steps: int = 100,
    seed: int = 0,
    seq_len: int = 64,
    micro_batch_size: int = 8,
    grad_accum_steps: int = 1,
    recipe: str = "tensorwise",
    learning_rate: float = 1e-3,
    show_progress: bool = True,
) -> dict[str, Any]:
    """Fine-tune BF16 and FP8 from the same seed, then measure the precision table on the
    BF16 run's FP32 master weights (and on the untrained model); write JSON and PNG."""
    from inference.fp8.data import held_out_blocks
    from inference.fp8.recipe import CHECKPOINT, finetune, load_master_model

    runs: dict[str, FinetuneResult] = {}
    for precision in ("bf16", "fp8"):
        config = FinetuneConfig(
            model_dir=model_dir, out_dir=out_dir / "runs" / precision, precision=precision,
            recipe=recipe, steps=steps, seed=seed, seq_len=seq_len,  # type: ignore[arg-type]
            micro_batch_size=micro_batch_size, grad_accum_steps=grad_accum_steps,
            learning_rate=learning_rate, warmup_steps=max(1, steps // 5),
            eval_every=max(1, steps // 4),
            checkpoint_every=max(1, steps // 4),
        )
        runs[precision] = finetune(config, show_progress=show_progress)
    comparison = training_comparison(runs["bf16"], runs["fp8"])

    model = load_master_model(model_dir, torch.device("cpu"))
    blocks = held_out_blocks(model_dir, seq_len)
    untrained = precision_table(model, {k: v.clone() for k, v in model.state_dict().items()},
                                blocks)
    trained_state = torch.load(out_dir / "runs" / "bf16" / CHECKPOINT, map_location="cpu",
                               weights_only=True)["model"]
    trained = precision_table(model, trained_state, blocks)

    payload = {
        "note": ("Tiny random-initialised DeepSeek-V3 (MLA + MoE, ~5 M parameters) fine-tuned "
                 f"{steps} steps on project-written text; FP8 is emulated on CPUs. The method "
                 "is the point; the absolute numbers are not those of a real DeepSeek-V3."),
        "held_out_tokens": blocks.blocks.numel(),
        "precision_after_finetune": trained,
        "precision_untrained": untrained,
        "training": comparison,
        "environment": environment(runs["fp8"].config),
    }
    write_report(out_dir / "precision_report.json", payload)
    plot_loss_curves(comparison, out_dir / "loss_curves.png",
                     f"Tiny DeepSeek-V3: FP8 ({recipe}, torchao) vs BF16 fine-tuning, seed {seed}")
    return payload
