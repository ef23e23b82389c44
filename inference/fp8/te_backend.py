"""The Transformer Engine backend of the FP8 recipe, for NVIDIA GPUs where ``transformer_engine``
is installed: linear layers become ``te.Linear`` and forward passes run under ``fp8_autocast``
with a delayed-scaling recipe (an amax history per tensor, a safety margin, HYBRID format = E4M3
forward, E5M2 gradients). Everything here sits behind an import guard; the CPU build never
imports it and it is not exercised by the CPU test suite."""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from app.core.errors import InvalidInput


def transformer_engine_available() -> bool:
    """True when ``transformer_engine.pytorch`` can be imported and a CUDA device exists."""
    return importlib.util.find_spec("transformer_engine") is not None and torch.cuda.is_available()


def _require() -> Any:
    if not transformer_engine_available():
        raise InvalidInput("the transformer-engine backend needs transformer_engine and a CUDA "
                           "GPU; use --backend torchao")
    import transformer_engine.pytorch as te

    return te


def convert_to_te_linears(model: nn.Module, keep: Callable[[str, nn.Linear], bool]) -> int:
    """Swap every ``nn.Linear`` that ``keep`` accepts for a ``te.Linear`` holding the same FP32
    weights; returns how many were swapped."""
    te = _require()
    swapped = 0
    for parent_name, parent in list(model.named_modules()):
        for child_name, child in list(parent.named_children()):
            fqn = f"{parent_name}.{child_name}" if parent_name else child_name
            if type(child) is not nn.Linear or not keep(fqn, child):
                continue
            replacement = te.Linear(child.in_features, child.out_features,
                                    bias=child.bias is not None, params_dtype=torch.float32,
                                    device=child.weight.device)
            with torch.no_grad():
                replacement.weight.copy_(child.weight)
                if child.bias is not None:
                    replacement.bias.copy_(child.bias)
            setattr(parent, child_name, replacement)
            swapped += 1
    return swapped


def delayed_scaling_autocast(
    margin: int, amax_history_len: int
) -> contextlib.AbstractContextManager[Any]:
    """``fp8_autocast`` with DelayedScaling: HYBRID (E4M3 fwd / E5M2 bwd), max over the history."""
    te = _require()
    from transformer_engine.common.recipe import DelayedScaling, Format

    recipe = DelayedScaling(margin=margin, amax_history_len=amax_history_len,
                            amax_compute_algo="max", fp8_format=Format.HYBRID)
    return te.fp8_autocast(enabled=True, fp8_recipe=recipe)
