"""``build_tiny_model``: writes the tiny DeepSeek-V3 as an HF-format directory (config.json,
model.safetensors, tokenizer files with the chat template, generation_config.json) that vLLM and
``transformers`` load. The build goes to a sibling folder first and replaces the target only
when complete, and it is skipped when the target was already built from the same sizes and seed."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from safetensors.torch import save_file

from app.core.errors import Conflict
from inference.tiny_model.spec import TinyModelSpec
from inference.tiny_model.tokenizer import train_tokenizer, write_tokenizer
from inference.tiny_model.weights import random_state_dict

MANIFEST = "lexledger_build.json"
# bump when the files written change for the same spec and seed
BUILDER_VERSION = 1


def _manifest(spec: TinyModelSpec, seed: int, fp8: bool) -> dict[str, Any]:
    return {"builder_version": BUILDER_VERSION, "digest": spec.digest(seed), "seed": seed,
            "fp8": fp8}


def _is_current(out_dir: Path, expected: dict[str, Any]) -> bool:
    manifest = out_dir / MANIFEST
    if not manifest.is_file():
        return False
    try:
        found = json.loads(manifest.read_text())
    except json.JSONDecodeError:
        return False
    files = ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"]
    return found == expected and all((out_dir / f).is_file() for f in files)


def _write_json(path: Path, payload: dict[str, Any]) -> None:
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def build_tiny_model(
    out_dir: Path,
    *,
    seed: int = 0,
    force: bool = False,
    fp8: bool = False,
    spec: TinyModelSpec | None = None,
) -> Path:
    """Build the tiny random-weight DeepSeek-V3 into ``out_dir`` and return it.

    Skips the work when ``out_dir`` already holds a build of the same sizes, seed and format
    (``force`` rebuilds anyway). ``fp8`` stores the linear weights in DeepSeek-V3's block-FP8
    layout. Refuses to overwrite a non-empty directory that this builder did not write.
    """
    spec = spec or TinyModelSpec()
    out_dir = Path(out_dir)
    expected = _manifest(spec, seed, fp8)
    if not force and _is_current(out_dir, expected):
        return out_dir
    if out_dir.exists() and any(out_dir.iterdir()) and not (out_dir / MANIFEST).is_file():
        raise Conflict(f"{out_dir} is not empty and was not built by lexledger; choose another "
                       "--out or remove it")

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = out_dir.parent / f".{out_dir.name}.building-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        _write_model_files(staging, spec, seed, fp8)
        _write_json(staging / MANIFEST, expected)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        staging.rename(out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out_dir


def _write_model_files(out_dir: Path, spec: TinyModelSpec, seed: int, fp8: bool) -> None:
    tokenizer = train_tokenizer(spec.vocab_size)
    if tokenizer.get_vocab_size() != spec.vocab_size:
        raise ValueError(f"tokenizer has {tokenizer.get_vocab_size()} entries, model "
                         f"vocab_size is {spec.vocab_size}; raise TinyModelSpec.vocab_size")
    write_tokenizer(tokenizer, out_dir, max_length=spec.max_position_embeddings)

    config = spec.hf_config()
    tensors = random_state_dict(spec, seed)
    if fp8:
        # imported here: the FP8 toolkit is only needed for this variant
        from inference.fp8.blocks import quantize_state_dict
        from inference.fp8.formats import deepseek_quantization_config

        tensors = quantize_state_dict(tensors)
        config["quantization_config"] = deepseek_quantization_config()
    save_file(tensors, str(out_dir / "model.safetensors"), metadata={"format": "pt"})
    # readable by the serving container, which may run as another user
    (out_dir / "model.safetensors").chmod(0o644)
    _write_json(out_dir / "config.json", config)
    _write_json(out_dir / "generation_config.json", {
        "bos_token_id": config["bos_token_id"],
        "eos_token_id": config["eos_token_id"],
        "pad_token_id": config["pad_token_id"],
    })
