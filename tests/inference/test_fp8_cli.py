"""The FP8 commands end to end through Typer: quantize and dequantize a real checkpoint and
report their numbers, and produce a precision report whose table, JSON and PNG hold the
expected ordering of precisions (FP32 exact, BF16 close, E4M3 coarser, E5M2 coarsest)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import matplotlib.image
import pytest
import torch
from typer.testing import CliRunner

from inference.fp8.cli import app
from inference.tiny_model import build_tiny_model


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "bf16")


def test_quantize_then_dequantize_commands(tiny_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    done = runner.invoke(app, ["quantize", str(tiny_dir), str(tmp_path / "fp8"),
                               "--report", str(tmp_path / "q.json")])
    assert done.exit_code == 0, done.output
    assert "overall relative error" in done.output and "peak RSS" in done.output
    stats = json.loads((tmp_path / "q.json").read_text())
    assert stats["bytes_after"] < stats["bytes_before"]
    assert stats["converted_tensors"] == sum(
        t["dtype_after"] == "torch.float8_e4m3fn" for t in stats["tensors"])
    done = runner.invoke(app, ["dequantize", str(tmp_path / "fp8"), str(tmp_path / "bf16")])
    assert done.exit_code == 0, done.output
    assert json.loads((tmp_path / "bf16" / "config.json").read_text()).get(
        "quantization_config") is None
    refused = runner.invoke(app, ["quantize", str(tiny_dir), str(tmp_path / "fp8")])
    assert refused.exit_code != 0  # never overwrites an existing checkpoint


def test_precision_report_writes_table_json_and_plot(tiny_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    done = CliRunner().invoke(app, ["precision-report", "--out", str(out), "--model-dir",
                                    str(tiny_dir), "--steps", "3"])
    assert done.exit_code == 0, done.output
    assert "fp8-e4m3" in done.output and "relative held-out loss gap" in done.output
    report = json.loads((out / "precision_report.json").read_text())
    rows = {r["variant"]: r for r in report["precision_after_finetune"]}
    assert list(rows) == ["fp32", "bf16", "fp8-e4m3", "fp8-e5m2"]
    assert rows["fp32"]["relative_weight_error"] == 0 and rows["fp32"]["perplexity_change"] == 0
    errors = [rows[v]["relative_weight_error"] for v in ("bf16", "fp8-e4m3", "fp8-e5m2")]
    assert 0 < errors[0] < errors[1] < errors[2]
    sizes = [rows[v]["weight_bytes"] for v in ("fp32", "bf16", "fp8-e4m3")]
    assert sizes[0] > sizes[1] > sizes[2] and rows["fp8-e4m3"]["weight_bytes"] == \
        rows["fp8-e5m2"]["weight_bytes"]
    training = report["training"]
    assert training["same_initial_weights"] and training["fp8_linear_layers"] > 0
    assert len(training["bf16"]["curve"]) == len(training["fp8"]["curve"]) == 3
    image = matplotlib.image.imread(out / "loss_curves.png")
    assert image.shape[0] > 200 and image.shape[1] > 300


def test_finetune_command_trains_and_reports(tiny_dir: Path, tmp_path: Path) -> None:
    args = ["finetune", "--model-dir", str(tiny_dir), "--out", str(tmp_path / "run"),
            "--steps", "2", "--micro-batch-size", "2", "--grad-accum-steps", "1",
            "--seq-len", "32", "--eval-every", "2", "--threads", "1"]
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0, done.output
    assert "FP8 linear layers" in done.output and "last held-out loss" in done.output
    assert len((tmp_path / "run" / "loss.jsonl").read_text().splitlines()) == 2
    assert (tmp_path / "run" / "model" / "model.safetensors").is_file()
    bad = CliRunner().invoke(app, [*args[:5], "--precision", "fp4"])
    assert bad.exit_code != 0
