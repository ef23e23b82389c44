"""The FP8 fine-tuning recipe on the tiny DeepSeek-V3, on a CPU (torchao's emulated FP8): loss
falls, FP8 linears are really in the graph, BF16 and FP8 runs start from the same weights and
data, an interrupted run resumes to exactly the losses of an uninterrupted one, and the exported
model loads back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM

from app.core.errors import Conflict, InvalidInput
from inference.fp8.checkpoint import quantize_checkpoint
from inference.fp8.recipe import FinetuneConfig, finetune
from inference.tiny_model import build_tiny_model


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    # on a shared 2-core machine, two intra-op threads spin against each other 10x slower
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "bf16")


def _config(tiny_dir: Path, out: Path, **overrides: object) -> FinetuneConfig:
    settings: dict[str, object] = dict(
        model_dir=tiny_dir, out_dir=out, steps=6, micro_batch_size=2, grad_accum_steps=2,
        seq_len=32, learning_rate=3e-3, warmup_steps=2, eval_every=0, checkpoint_every=3,
    )
    settings.update(overrides)
    return FinetuneConfig(**settings)  # type: ignore[arg-type]


def test_fp8_and_bf16_runs_train_from_the_same_start(tiny_dir: Path, tmp_path: Path) -> None:
    fp8 = finetune(_config(tiny_dir, tmp_path / "fp8", precision="fp8", eval_every=6),
                   show_progress=False)
    bf16 = finetune(_config(tiny_dir, tmp_path / "bf16", precision="bf16"), show_progress=False)

    assert fp8.fp8_linear_layers >= 20 and bf16.fp8_linear_layers == 0
    assert fp8.initial_weights_digest == bf16.initial_weights_digest
    # same weights and same first batch: first losses agree closely but FP8 changes the math
    first_fp8, first_bf16 = fp8.train_loss[0][1], bf16.train_loss[0][1]
    assert first_fp8 == pytest.approx(first_bf16, rel=0.01)
    assert first_fp8 != first_bf16
    for run in (fp8, bf16):
        losses = [loss for _, loss in run.train_loss]
        assert len(losses) == 6
        assert losses[-1] < losses[0] - 0.5  # it learns
    assert fp8.eval_loss and fp8.eval_loss[-1][1] < fp8.train_loss[0][1]

    log_lines = (tmp_path / "fp8" / "loss.jsonl").read_text().splitlines()
    log = [json.loads(line) for line in log_lines]
    assert [r["step"] for r in log] == [1, 2, 3, 4, 5, 6] and "eval_loss" in log[-1]


def test_exported_model_loads_and_quantizes(tiny_dir: Path, tmp_path: Path) -> None:
    result = finetune(_config(tiny_dir, tmp_path / "run", precision="fp8", steps=2),
                      show_progress=False)
    assert result.model_dir is not None
    trained = AutoModelForCausalLM.from_pretrained(result.model_dir, dtype=torch.float32)
    original = AutoModelForCausalLM.from_pretrained(tiny_dir, dtype=torch.float32)
    name = "model.layers.0.self_attn.q_a_proj.weight"
    assert not torch.equal(trained.state_dict()[name], original.state_dict()[name])
    report = quantize_checkpoint(result.model_dir, tmp_path / "fp8", show_progress=False)
    assert report.relative_error < 0.04
    with pytest.raises(InvalidInput):  # FP8 checkpoints are not fine-tuned directly
        finetune(_config(tmp_path / "fp8", tmp_path / "again"), show_progress=False)


def test_interrupted_run_resumes_to_the_same_losses(tiny_dir: Path, tmp_path: Path) -> None:
    straight = finetune(_config(tiny_dir, tmp_path / "straight", precision="fp8", steps=4),
                        show_progress=False)
    cut = _config(tiny_dir, tmp_path / "cut", precision="fp8", steps=4)
    first = finetune(cut, stop_after=2, show_progress=False)
    assert [s for s, _ in first.train_loss] == [1, 2]
    second = finetune(cut, show_progress=False)
    assert second.resumed_from_step == 2
    assert [s for s, _ in second.train_loss] == [1, 2, 3, 4]
    for (_, a), (_, b) in zip(straight.train_loss, second.train_loss, strict=True):
        assert a == pytest.approx(b, abs=1e-5)

    with pytest.raises(Conflict):  # resuming with other settings would mix two runs
        finetune(_config(tiny_dir, tmp_path / "cut", precision="bf16", steps=4),
                 show_progress=False)
