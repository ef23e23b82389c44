"""The FP8 toolkit: DeepSeek-V3-layout block quantization of checkpoints (and its inverse for
hardware without FP8), the FP8 mixed-precision fine-tuning recipe (torchao float8 training,
optionally Transformer Engine), and the precision report that measures what FP8 costs."""
