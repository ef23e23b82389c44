"""The tiny model's architecture: one frozen dataclass holding every size, and the
``config.json`` it turns into. The sizes keep DeepSeek-V3's structure (MLA with a compressed
KV latent, a dense first layer, MoE layers with routed experts plus one shared expert,
sigmoid ``noaux_tc`` routing) at a scale that builds in seconds on a CPU."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

# vLLM's CPU MLA kernel only handles a 576-wide latent: kv_lora_rank + qk_rope_head_dim == 576
CPU_MLA_LATENT_WIDTH = 576

BOS_TOKEN = "<｜begin▁of▁sentence｜>"
EOS_TOKEN = "<｜end▁of▁sentence｜>"
PAD_TOKEN = "<｜▁pad▁｜>"


@dataclass(frozen=True)
class TinyModelSpec:
    """Every size of the tiny model; the defaults are what CI serves."""

    # the trained BPE has ~2,270 entries; reserved tokens fill the rest
    vocab_size: int = 2304
    hidden_size: int = 256
    intermediate_size: int = 512
    moe_intermediate_size: int = 128
    num_hidden_layers: int = 3
    first_k_dense_replace: int = 1
    n_routed_experts: int = 8
    num_experts_per_tok: int = 2
    n_shared_experts: int = 1
    num_attention_heads: int = 4
    q_lora_rank: int = 192
    kv_lora_rank: int = 512
    qk_rope_head_dim: int = 64
    qk_nope_head_dim: int = 64
    v_head_dim: int = 64
    max_position_embeddings: int = 4096
    rms_norm_eps: float = 1e-6
    initializer_range: float = 0.02
    routed_scaling_factor: float = 2.5
    rope_theta: float = 10000.0

    def __post_init__(self) -> None:
        if self.kv_lora_rank + self.qk_rope_head_dim != CPU_MLA_LATENT_WIDTH:
            raise ValueError(
                "kv_lora_rank + qk_rope_head_dim must be 576 for vLLM's CPU MLA kernel, got "
                f"{self.kv_lora_rank} + {self.qk_rope_head_dim}"
            )
        if not 0 < self.first_k_dense_replace < self.num_hidden_layers:
            raise ValueError("first_k_dense_replace must leave both dense and MoE layers")

    @property
    def qk_head_dim(self) -> int:
        return self.qk_nope_head_dim + self.qk_rope_head_dim

    def hf_config(self) -> dict[str, Any]:
        """The ``config.json`` contents, in DeepSeek-V3's own vocabulary."""
        return {
            "architectures": ["DeepseekV3ForCausalLM"],
            "model_type": "deepseek_v3",
            "vocab_size": self.vocab_size,
            "hidden_size": self.hidden_size,
            "intermediate_size": self.intermediate_size,
            "moe_intermediate_size": self.moe_intermediate_size,
            "num_hidden_layers": self.num_hidden_layers,
            "first_k_dense_replace": self.first_k_dense_replace,
            "moe_layer_freq": 1,
            "n_routed_experts": self.n_routed_experts,
            "num_experts_per_tok": self.num_experts_per_tok,
            "n_shared_experts": self.n_shared_experts,
            "n_group": 1,
            "topk_group": 1,
            "topk_method": "noaux_tc",
            "scoring_func": "sigmoid",
            "norm_topk_prob": True,
            "routed_scaling_factor": self.routed_scaling_factor,
            "num_attention_heads": self.num_attention_heads,
            "num_key_value_heads": self.num_attention_heads,
            "q_lora_rank": self.q_lora_rank,
            "kv_lora_rank": self.kv_lora_rank,
            "qk_rope_head_dim": self.qk_rope_head_dim,
            "qk_nope_head_dim": self.qk_nope_head_dim,
            "v_head_dim": self.v_head_dim,
            "head_dim": self.qk_rope_head_dim,
            "num_nextn_predict_layers": 0,
            "max_position_embeddings": self.max_position_embeddings,
            "rms_norm_eps": self.rms_norm_eps,
            "hidden_act": "silu",
            "initializer_range": self.initializer_range,
            "attention_bias": False,
            "attention_dropout": 0.0,
            "rope_theta": self.rope_theta,
            "rope_scaling": None,
            "rope_parameters": {"rope_type": "default", "rope_theta": self.rope_theta},
            "rope_interleave": True,
            "tie_word_embeddings": False,
            "bos_token_id": 0,
            "eos_token_id": 1,
            "pad_token_id": 2,
            "torch_dtype": "bfloat16",
            "use_cache": True,
        }

    def digest(self, seed: int) -> str:
        """A short hash of the sizes and seed: equal digests mean byte-identical builds."""
        payload = json.dumps({"spec": asdict(self), "seed": seed}, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]
