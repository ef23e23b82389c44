"""Deterministic random weights for the tiny model, named and shaped exactly as DeepSeek-V3's
checkpoint stores them (one tensor per routed expert, ``e_score_correction_bias`` in FP32), so
vLLM's loader and ``transformers``' conversion both read them unchanged. Each tensor draws from
its own generator seeded by (seed, name): a tensor's values never depend on the order of others."""

from __future__ import annotations

import zlib
from collections.abc import Iterator

import torch

from inference.tiny_model.spec import TinyModelSpec


def tensor_shapes(spec: TinyModelSpec) -> Iterator[tuple[str, tuple[int, ...]]]:
    """Every checkpoint tensor's name and shape, in checkpoint order."""
    h = spec.hidden_size
    heads = spec.num_attention_heads
    yield "model.embed_tokens.weight", (spec.vocab_size, h)
    for i in range(spec.num_hidden_layers):
        p = f"model.layers.{i}"
        yield f"{p}.input_layernorm.weight", (h,)
        yield f"{p}.post_attention_layernorm.weight", (h,)
        yield f"{p}.self_attn.q_a_proj.weight", (spec.q_lora_rank, h)
        yield f"{p}.self_attn.q_a_layernorm.weight", (spec.q_lora_rank,)
        yield f"{p}.self_attn.q_b_proj.weight", (heads * spec.qk_head_dim, spec.q_lora_rank)
        yield (f"{p}.self_attn.kv_a_proj_with_mqa.weight",
               (spec.kv_lora_rank + spec.qk_rope_head_dim, h))
        yield f"{p}.self_attn.kv_a_layernorm.weight", (spec.kv_lora_rank,)
        yield (f"{p}.self_attn.kv_b_proj.weight",
               (heads * (spec.qk_nope_head_dim + spec.v_head_dim), spec.kv_lora_rank))
        yield f"{p}.self_attn.o_proj.weight", (h, heads * spec.v_head_dim)
        if i < spec.first_k_dense_replace:
            yield from _mlp(f"{p}.mlp", h, spec.intermediate_size)
            continue
        yield f"{p}.mlp.gate.weight", (spec.n_routed_experts, h)
        yield f"{p}.mlp.gate.e_score_correction_bias", (spec.n_routed_experts,)
        for e in range(spec.n_routed_experts):
            yield from _mlp(f"{p}.mlp.experts.{e}", h, spec.moe_intermediate_size)
        yield from _mlp(f"{p}.mlp.shared_experts", h,
                        spec.moe_intermediate_size * spec.n_shared_experts)
    yield "model.norm.weight", (h,)
    yield "lm_head.weight", (spec.vocab_size, h)


def _mlp(prefix: str, hidden: int, inner: int) -> Iterator[tuple[str, tuple[int, ...]]]:
    yield f"{prefix}.gate_proj.weight", (inner, hidden)
    yield f"{prefix}.up_proj.weight", (inner, hidden)
    yield f"{prefix}.down_proj.weight", (hidden, inner)


def random_state_dict(spec: TinyModelSpec, seed: int) -> dict[str, torch.Tensor]:
    """The full checkpoint: BF16 everywhere except the FP32 routing bias, as DeepSeek-V3 ships."""
    tensors: dict[str, torch.Tensor] = {}
    for name, shape in tensor_shapes(spec):
        if name.endswith("e_score_correction_bias"):
            tensors[name] = torch.zeros(shape, dtype=torch.float32)
        elif name.endswith("norm.weight"):
            tensors[name] = torch.ones(shape, dtype=torch.bfloat16)
        else:
            generator = torch.Generator().manual_seed(seed * 1_000_003 + zlib.crc32(name.encode()))
            values = torch.randn(shape, generator=generator) * spec.initializer_range
            tensors[name] = values.to(torch.bfloat16)
    return tensors
