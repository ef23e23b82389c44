"""Fine-tuning data: text tokenized once into fixed-length blocks, and batches drawn by a
generator seeded from (seed, step, micro-step). A batch depends only on those numbers, so a
resumed run sees exactly the batches an uninterrupted run would have, and two runs with the same
seed (BF16 and FP8) see identical data."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import torch
from transformers import AutoTokenizer

from app.core.errors import InvalidInput
from inference.tiny_model.corpus import held_out_text, training_text


class TokenBlocks:
    """A corpus as a ``[n_blocks, seq_len]`` tensor of token ids."""

    def __init__(self, blocks: torch.Tensor) -> None:
        if blocks.ndim != 2 or blocks.shape[0] == 0:
            raise InvalidInput("not enough text for one block of the requested length")
        self.blocks = blocks

    @classmethod
    def from_texts(cls, texts: Iterable[str], tokenizer_dir: Path, seq_len: int) -> TokenBlocks:
        """Tokenize ``texts`` (each ending in EOS), concatenate, cut into ``seq_len`` blocks."""
        tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
        ids: list[int] = []
        for encoded in tokenizer(list(texts)).input_ids:
            ids.extend(encoded)
            ids.append(tokenizer.eos_token_id)
        usable = len(ids) // seq_len * seq_len
        return cls(torch.tensor(ids[:usable], dtype=torch.long).view(-1, seq_len))

    def batch(self, size: int, *, seed: int, step: int, micro_step: int) -> torch.Tensor:
        """``size`` blocks chosen by a generator that depends only on the arguments."""
        generator = torch.Generator().manual_seed(seed * 1_000_003 + step * 1_009 + micro_step)
        rows = torch.randint(0, self.blocks.shape[0], (size,), generator=generator)
        return self.blocks[rows]

    def __len__(self) -> int:
        return self.blocks.shape[0]


def training_blocks(tokenizer_dir: Path, seq_len: int, data_file: Path | None) -> TokenBlocks:
    """Training data: one document per line of ``data_file``, or the project corpus."""
    if data_file is None:
        return TokenBlocks.from_texts(training_text(), tokenizer_dir, seq_len)
    lines = [line for line in Path(data_file).read_text(encoding="utf-8").splitlines() if line]
    return TokenBlocks.from_texts(lines, tokenizer_dir, seq_len)


def held_out_blocks(tokenizer_dir: Path, seq_len: int) -> TokenBlocks:
    """The held-out split of the project corpus (never seen in training)."""
    return TokenBlocks.from_texts(held_out_text(), tokenizer_dir, seq_len)
