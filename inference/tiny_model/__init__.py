"""The tiny DeepSeek-V3 model: a few-million-parameter, random-weight ``DeepseekV3ForCausalLM``
(MLA attention, dense and MoE layers) with a byte-level BPE tokenizer trained on text the project
writes itself. The CPU vLLM engine serves it in development and CI; its text is meaningless, its
shapes and file layout are DeepSeek-V3's."""

from inference.tiny_model.builder import build_tiny_model
from inference.tiny_model.spec import TinyModelSpec

__all__ = ["TinyModelSpec", "build_tiny_model"]
