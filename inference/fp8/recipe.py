"""The FP8 mixed-precision fine-tuning recipe for causal LMs (the tiny DeepSeek-V3 here, real
checkpoints on H100/H200). Master weights and AdamW state stay FP32; the linear-layer GEMMs run in
FP8 through torchao's float8 training (tensorwise or rowwise scaling; emulated on a CPU, native on
SM89+ GPUs) or Transformer Engine's delayed scaling; everything else (embeddings, norms, the MoE
router, attention, the output head) computes in BF16 under autocast, as DeepSeek-V3 does. A BF16
run is the same recipe without the FP8 conversion. Gradient accumulation, periodic checkpoints,
exact resume and a JSONL loss log are part of every run."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from torch import nn
from transformers import AutoModelForCausalLM, AutoTokenizer

from app.core.errors import Conflict, InvalidInput
from inference.fp8.data import TokenBlocks, held_out_blocks, training_blocks

Precision = Literal["fp32", "bf16", "fp8"]
Fp8Recipe = Literal["tensorwise", "rowwise"]
Backend = Literal["torchao", "transformer-engine"]

CHECKPOINT = "checkpoint.pt"
LOSS_LOG = "loss.jsonl"
# settings that must match for a run to resume from a checkpoint (steps may grow)
_RESUME_KEYS = ("precision", "recipe", "backend", "seed", "micro_batch_size",
                "grad_accum_steps", "seq_len", "learning_rate")


@dataclass(frozen=True)
class FinetuneConfig:
    """One fine-tuning run; ``out_dir`` holds its checkpoint, loss log and exported model."""

    model_dir: Path
    out_dir: Path
    precision: Precision = "fp8"
    recipe: Fp8Recipe = "tensorwise"
    backend: Backend = "torchao"
    steps: int = 100
    micro_batch_size: int = 8
    grad_accum_steps: int = 2
    seq_len: int = 128
    learning_rate: float = 2e-3
    weight_decay: float = 0.01
    warmup_steps: int = 10
    max_grad_norm: float = 1.0
    seed: int = 0
    checkpoint_every: int = 25
    eval_every: int = 25
    data_file: Path | None = None
    te_margin: int = 0
    te_amax_history_len: int = 16


@dataclass
class FinetuneResult:
    """What a run produced: losses per step, evaluation losses, where the model went."""

    config: FinetuneConfig
    train_loss: list[tuple[int, float]] = field(default_factory=list)
    eval_loss: list[tuple[int, float]] = field(default_factory=list)
    resumed_from_step: int = 0
    initial_weights_digest: str = ""
    fp8_linear_layers: int = 0
    seconds: float = 0.0
    tokens_per_second: float = 0.0
    model_dir: Path | None = None


def _device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _native_fp8(device: torch.device) -> bool:
    # FP8 tensor cores exist from Ada/Hopper (SM 8.9) on; elsewhere torchao emulates the casts
    return device.type == "cuda" and torch.cuda.get_device_capability(device) >= (8, 9)


def _fp8_eligible(fqn: str, module: nn.Module) -> bool:
    """DeepSeek-V3 keeps the output head in high precision; FP8 GEMMs need dims % 16 == 0."""
    if not isinstance(module, nn.Linear) or fqn.endswith("lm_head"):
        return False
    return module.in_features % 16 == 0 and module.out_features % 16 == 0


def _apply_fp8(model: nn.Module, config: FinetuneConfig, device: torch.device) -> int:
    if config.backend == "transformer-engine":
        from inference.fp8.te_backend import convert_to_te_linears

        return convert_to_te_linears(model, _fp8_eligible)
    from torchao.float8 import Float8LinearConfig, convert_to_float8_training

    fp8_config = dataclasses.replace(Float8LinearConfig.from_recipe_name(config.recipe),
                                     emulate=not _native_fp8(device))
    convert_to_float8_training(model, config=fp8_config,
                               module_filter_fn=lambda module, fqn: _fp8_eligible(fqn, module))
    return sum(type(m).__name__ == "Float8Linear" for m in model.modules())


def _compute_context(config: FinetuneConfig,
                     device: torch.device) -> contextlib.AbstractContextManager[Any]:
    if config.precision == "fp32":
        return contextlib.nullcontext()
    autocast = torch.autocast(device.type, dtype=torch.bfloat16)
    if config.precision == "fp8" and config.backend == "transformer-engine":
        from inference.fp8.te_backend import delayed_scaling_autocast

        stack = contextlib.ExitStack()
        stack.enter_context(autocast)
        stack.enter_context(delayed_scaling_autocast(config.te_margin,
                                                     config.te_amax_history_len))
        return stack
    return autocast


def load_master_model(model_dir: Path, device: torch.device | None = None) -> nn.Module:
    """The model with FP32 master weights. FP8 checkpoints must be dequantized first."""
    model_config = json.loads((Path(model_dir) / "config.json").read_text())
    if "quantization_config" in model_config:
        raise InvalidInput(f"{model_dir} is quantized; run `lexledger-inference dequantize` first "
                           "(fine-tuning keeps FP32 master weights)")
    model: nn.Module = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    return model.to(device or _device())


def weights_digest(model: nn.Module) -> str:
    """A hash of every parameter's bytes: equal digests mean identical weights."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().float().cpu().numpy().tobytes())
    return digest.hexdigest()[:16]


def _lr_factor(step: int, config: FinetuneConfig) -> float:
    if step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    progress = (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps)
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


@torch.no_grad()
def evaluate_loss(model: nn.Module, blocks: TokenBlocks, config: FinetuneConfig,
                  device: torch.device, batch_size: int = 16) -> float:
    """Mean next-token loss over every block, computed in the run's own precision."""
    model.eval()
    total, count = 0.0, 0
    for start in range(0, len(blocks), batch_size):
        batch = blocks.blocks[start:start + batch_size].to(device)
        with _compute_context(config, device):
            loss = model(input_ids=batch, labels=batch).loss
        total += loss.item() * batch.shape[0]
        count += batch.shape[0]
    model.train()
    return total / count


def _serialisable(config: FinetuneConfig) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(config).items()}


def _save_checkpoint(path: Path, model: nn.Module, optimizer: torch.optim.Optimizer,
                     scheduler: Any, step: int, config: FinetuneConfig) -> None:
    staging = path.with_suffix(".tmp")
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(), "step": step,
                "config": _serialisable(config)}, staging)
    os.replace(staging, path)  # a crash mid-write leaves the previous checkpoint intact


def _resume(path: Path, model: nn.Module, optimizer: torch.optim.Optimizer, scheduler: Any,
            config: FinetuneConfig) -> int:
    state = torch.load(path, map_location="cpu", weights_only=True)
    saved = state["config"]
    current = _serialisable(config)
    clashes = [k for k in _RESUME_KEYS if saved.get(k) != current[k]]
    if clashes:
        raise Conflict(f"{path} was written with different settings ({', '.join(clashes)}); "
                       "use another --out or --no-resume")
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    return int(state["step"])


def _read_log(path: Path, up_to_step: int) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    records = [json.loads(line) for line in path.read_text().splitlines() if line]
    return [r for r in records if r["step"] <= up_to_step]


def finetune(config: FinetuneConfig, *, resume: bool = True, stop_after: int | None = None,
             show_progress: bool = True) -> FinetuneResult:
    """Run (or resume) a fine-tuning run and export the result as a BF16 HF checkpoint.

    ``stop_after`` ends the run early after that many optimizer steps in this call (a time-boxed
    slice on a preemptible machine), checkpointing first; the next call resumes exactly.
    """
    if config.precision == "fp8" and config.backend == "transformer-engine" and \
            config.recipe != "tensorwise":
        raise InvalidInput("the transformer-engine backend uses its own delayed-scaling recipe")
    device = _device()
    torch.manual_seed(config.seed)
    out_dir = Path(config.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model = load_master_model(config.model_dir, device)
    model.train()
    result = FinetuneResult(config=config, initial_weights_digest=weights_digest(model))
    if config.precision == "fp8":
        result.fp8_linear_layers = _apply_fp8(model, config, device)

    train = training_blocks(config.model_dir, config.seq_len, config.data_file)
    held_out = held_out_blocks(config.model_dir, config.seq_len)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate,
                                  betas=(0.9, 0.95), weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: _lr_factor(s, config))

    checkpoint = out_dir / CHECKPOINT
    start = 0
    if resume and checkpoint.is_file():
        start = _resume(checkpoint, model, optimizer, scheduler, config)
    result.resumed_from_step = start
    log_records = _read_log(out_dir / LOSS_LOG, start) if start else []
    for earlier in log_records:
        if "loss" in earlier:
            result.train_loss.append((earlier["step"], earlier["loss"]))
        if "eval_loss" in earlier:
            result.eval_loss.append((earlier["step"], earlier["eval_loss"]))

    context = lambda: _compute_context(config, device)  # noqa: E731
    began = time.perf_counter()
    tokens = 0
    with (out_dir / LOSS_LOG).open("w") as log, Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
        TimeRemainingColumn(), disable=not show_progress, transient=True,
    ) as progress:
        for earlier in log_records:
            log.write(json.dumps(earlier) + "\n")
        task = progress.add_task(f"{config.precision} fine-tune", total=config.steps,
                                 completed=start)
        last = config.steps if stop_after is None else min(config.steps, start + stop_after)
        for step in range(start, last):
            optimizer.zero_grad(set_to_none=True)
            step_loss = 0.0
            for micro in range(config.grad_accum_steps):
                batch = train.batch(config.micro_batch_size, seed=config.seed, step=step,
                                    micro_step=micro).to(device)
                with context():
                    loss = model(input_ids=batch, labels=batch).loss
                (loss / config.grad_accum_steps).backward()
                step_loss += loss.item() / config.grad_accum_steps
                tokens += batch.numel()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
            optimizer.step()
            scheduler.step()
            done = step + 1
            record: dict[str, Any] = {"step": done, "loss": step_loss,
                                      "lr": scheduler.get_last_lr()[0]}
            result.train_loss.append((done, step_loss))
            if config.eval_every and (done % config.eval_every == 0 or done == config.steps):
                record["eval_loss"] = evaluate_loss(model, held_out, config, device)
                result.eval_loss.append((done, record["eval_loss"]))
            log.write(json.dumps(record) + "\n")
            log.flush()
            if done % config.checkpoint_every == 0 or done in (config.steps, last):
                _save_checkpoint(checkpoint, model, optimizer, scheduler, done, config)
            progress.update(task, advance=1,
                            description=f"{config.precision} fine-tune loss {step_loss:.3f}")
    result.seconds = time.perf_counter() - began
    result.tokens_per_second = tokens / result.seconds if result.seconds else 0.0
    result.model_dir = export_bf16(model, config.model_dir, out_dir / "model")
    return result


def export_bf16(model: Any, source_dir: Path, out_dir: Path) -> Path:
    """Save the trained master weights as a BF16 HF checkpoint (DeepSeek-V3 tensor layout; the
    routing bias stays FP32) with the source's tokenizer, ready for ``quantize`` or vLLM."""
    state = {name: tensor.detach().cpu() if "e_score_correction_bias" in name
             else tensor.detach().to(torch.bfloat16).cpu()
             for name, tensor in model.state_dict().items()}
    model.save_pretrained(out_dir, state_dict=state)
    config_path = out_dir / "config.json"
    saved = json.loads(config_path.read_text())
    saved["dtype"] = saved["torch_dtype"] = "bfloat16"
    config_path.write_text(json.dumps(saved, indent=2) + "\n")
    AutoTokenizer.from_pretrained(source_dir).save_pretrained(out_dir)
    return out_dir
