"""Retrieval quality: recall@5, MRR and nDCG@10 of each search mode on a real corpus
with known answers, in the same run.

`python -m tests.bench retrieval_quality [--pages 0] [--k 10] [--pool 30] [--keep]`

Corpus (offline, real): the Python 3.11 documentation (Debian's python3.11-doc
HTML, installed by apt when missing; without it, and without root, the bench says
so and exits 0 with a skip line). Every page that answers one of the questions of
tests/bench/data/retrieval_questions.tsv (65 questions, 83 pages, ~5,000 chunks),
plus `--pages` more pages drawn at random from the rest of the documentation as
distractors. Each page goes through the app's own ingestion path, minus the
queue: `extract(html)` -> `chunk_segments` with the configured chunk size and
overlap -> all-MiniLM-L6-v2 (vectors cached under .data/bench-cache/, keyed by
text, so a second run embeds nothing) -> knowledge_chunk rows of one decision unit,
one Document per page.

Modes, each asked every question (ranked *documents* = distinct pages in the
order their passages come back):

* vector: `nearest_chunks` alone, `--pool` passages (exact cosine, no fusion);
* text: `text_search` alone, `--pool` passages (PostgreSQL full text);
* hybrid (the default search): `rank_passages`, exactly what
  POST /api/v1/knowledge/search/ returns for `k` = `--k` passages;
* hybrid + rerank (`--local-rerank`): the hybrid top k re-ordered by a local
  reranker (`local_rerank`: MiniLM max-sim over each passage's sentences; its
  sentence vectors are cached like the chunks', so its cost per query shows on
  the first run only). The app's own reranker is a hosted chat model, which does
  not run offline, and no cross-encoder with offline weights installs from PyPI
  here, so without the flag the mode is reported as not run, and why.

A question is found at 5 when any of its answering pages is among the first
five documents; MRR is over the first ten documents; nDCG@10 uses binary gains
over all of its answering pages. The last line is one JSON object: `value` the
default mode's MRR, `reference` the best single ingredient's (vector or text).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import pickle
import random
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tests.bench.retrieval import CACHE, DOCS, REPO, _docs_installed, cleanup, owner_connection, setup_django

QUESTIONS = Path(__file__).parent / "data" / "retrieval_questions.tsv"
MODEL = "local-minilm"
SEED = 20261203
CACHE_PREFIX = "retrieval-quality-"


# --- data ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    text: str
    answers: frozenset[str]  # page paths relative to DOCS


def questions() -> list[Question]:
    out = []
    for line in QUESTIONS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            text, pages = line.split("\t")
            out.append(Question(text=text.strip(), answers=frozenset(pages.split())))
    return out


def page_html(path: Path) -> bytes:
    """The page as a user would upload it, less Sphinx's navigation and sidebars
    (which repeat on every page): its <title> and the article."""
    html = path.read_text(encoding="utf-8", errors="replace")
    title_start, title_end = html.find("<title>"), html.find("</title>")
    title = html[title_start : title_end + len("</title>")] if 0 <= title_start < title_end else ""
    start, end = html.find('<div class="body" role="main">'), html.find('<div class="sphinxsidebar"')
    body = html[start : end if end > start else len(html)] if start >= 0 else html
    return f"<html><head>{title}</head><body>{body}</body></html>".encode()


def corpus_pages(qs: list[Question], extra: int) -> list[str]:
    wanted = sorted({p for q in qs for p in q.answers})
    others = sorted(
        str(p.relative_to(DOCS))
        for p in DOCS.rglob("*.html")
        if "_static" not in p.parts and "genindex" not in p.name and p.name not in {"search.html", "py-modindex.html"}
    )
    others = [p for p in others if p not in set(wanted)]
    random.Random(SEED).shuffle(others)
    return wanted + others[:extra]


@dataclass
class Page:
    path: str
    chunks: list  # ChunkDraft


def chunked(pages: list[str], cap: int, headings: bool = True) -> list[Page]:
    """Each page's chunks as ingestion makes them, the first `cap` of each (the 2-core
    budget: MiniLM embeds a few chunks a second here); `headings` False drops the
    heading paths (the chunking before title prefixes, for comparison)."""
    from dataclasses import replace

    from django.conf import settings

    from knowledge.services.chunking import chunk_segments
    from knowledge.services.extraction import extract

    out = []
    for path in pages:
        segments = extract(page_html(DOCS / path), "html")
        if not headings:
            segments = [replace(s, headings=()) for s in segments]
        size, overlap = settings.KNOWLEDGE_CHUNK_TOKENS, settings.KNOWLEDGE_CHUNK_OVERLAP
        drafts = chunk_segments(segments, size=size, overlap=overlap)
        if drafts:
            out.append(Page(path=path, chunks=drafts[:cap]))
    return out


def _key(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


_MEMO: dict[str, object] = {}


def embed(texts: list[str], what: str, quiet: bool = False):
    """MiniLM vectors of `texts` (float32 array), through a cache keyed by text: every
    .data/bench-cache/retrieval-quality-*.pkl is read, new vectors go to this list's own
    file (so two runs never overwrite each other's)."""
    import numpy as np

    cache = _MEMO
    if not cache:
        for path in sorted(CACHE.glob(f"{CACHE_PREFIX}*.pkl")):
            try:
                with path.open("rb") as fh:
                    cache.update(pickle.load(fh))
            except (OSError, EOFError, pickle.UnpicklingError):
                continue
    todo = list(dict.fromkeys(t for t in texts if _key(t) not in cache))
    if not todo:
        if not quiet:
            print(f"# {len(texts):,} {what} vectors from the cache {CACHE.relative_to(REPO)}", flush=True)
        return np.stack([cache[_key(t)] for t in texts])
    from aiplatform.ai import minilm

    own = CACHE / f"{CACHE_PREFIX}{hashlib.sha1(''.join(map(_key, todo)).encode()).hexdigest()[:16]}.pkl"
    if not quiet:
        print(f"# embedding {len(todo):,} of {len(texts):,} {what} with all-MiniLM-L6-v2 (cached afterwards)",
              flush=True)  # fmt: skip
    started, new = time.perf_counter(), {}
    for at in range(0, len(todo), 256):
        batch = todo[at : at + 256]
        for text, vector in zip(batch, minilm.encode(batch, batch_size=32).vectors, strict=True):
            new[_key(text)] = np.asarray(vector, dtype=np.float32)
        CACHE.mkdir(parents=True, exist_ok=True)
        partial = own.with_suffix(".tmp")
        with partial.open("wb") as fh:
            pickle.dump(new, fh)
        partial.replace(own)
        done = at + len(batch)
        if not quiet:
            print(f"#   {done:,}/{len(todo):,} ({done / (time.perf_counter() - started):.1f}/s)", flush=True)
    cache.update(new)
    return np.stack([cache[_key(t)] for t in texts])


# --- database ---------------------------------------------------------------------------------


@dataclass
class Loaded:
    account: object
    unit: object
    page_of_chunk: dict = field(default_factory=dict)  # chunk id -> page path


def load(pages: list[Page], vectors) -> Loaded:
    from django.core.management import call_command
    from django.db import connection

    from accounts.models import User
    from accounts.services.accounts import account_create
    from accounts.tenancy.context import account_context
    from accounts.tenancy.roles import as_owner
    from knowledge.models import DecisionUnit, Document

    with as_owner(connection):
        call_command("flush", interactive=False, verbosity=0)
    owner = User.objects.create_user("bench-retrieval-quality@example.com")
    account = account_create(name="bench retrieval quality", owner=owner)
    total = sum(len(p.chunks) for p in pages)
    with account_context(account.id):
        unit = DecisionUnit.objects.create(account=account, name="python docs", embedding_model=MODEL)
        documents = [
            Document.objects.create(account=account, unit=unit, name=p.path, size=0, kind="html", status="done",
                                    sha256=hashlib.sha256(p.path.encode()).hexdigest(), chunk_count=len(p.chunks))
            for p in pages
        ]  # fmt: skip
    loaded = Loaded(account=account, unit=unit)
    columns = (
        "id, account_id, unit_id, document_id, position, char_offset, token_count, section, text, model, embedding"
    )
    types = ["uuid", "uuid", "uuid", "uuid", "int4", "int4", "int4", "text", "text", "text", "vector"]
    started, row = time.perf_counter(), 0
    with owner_connection() as conn:
        with conn.cursor().copy(f"COPY knowledge_chunk ({columns}) FROM STDIN WITH (FORMAT BINARY)") as copy:
            copy.set_types(types)
            for page, document in zip(pages, documents, strict=True):
                for draft in page.chunks:
                    chunk_id = uuid.uuid4()
                    loaded.page_of_chunk[chunk_id] = page.path
                    copy.write_row([chunk_id, account.id, unit.pk, document.pk, draft.position, draft.char_offset,
                                    draft.token_count, draft.section, draft.text, MODEL, vectors[row]])  # fmt: skip
                    row += 1
        conn.execute("ANALYZE knowledge_chunk")
    with account_context(account.id):
        DecisionUnit.objects.filter(pk=unit.pk).update(chunk_count=total)
        unit.refresh_from_db()
    print(f"# loaded {total:,} chunks of {len(pages)} pages in {time.perf_counter() - started:.0f}s", flush=True)
    return loaded


# --- modes -------------------------------------------------------------------------------------


def local_rerank(query_vector, passages, vector_of):
    """Re-order fused passages by MiniLM similarity of the query to the passage's best
    sentence (max-sim over sentences), mixed with the fused order: a bi-encoder
    reranker that runs offline with the weights the platform already ships (no
    cross-encoder with offline weights installs from PyPI here)."""
    import numpy as np

    from knowledge.services.chunking import split_text

    pieces, owners = [], []
    for i, p in enumerate(passages):
        for span in split_text(p.text, size=40, overlap=0):
            pieces.append(p.text[span.start : span.end])
            owners.append(i)
    sims = vector_of(pieces) @ np.asarray(query_vector, dtype=np.float32)
    best = [-1.0] * len(passages)
    for owner, sim in zip(owners, sims, strict=True):
        best[owner] = max(best[owner], float(sim))
    order = sorted(range(len(passages)), key=lambda i: -(best[i] + 1.0 / (10 + i)))
    return [passages[i] for i in order]


@dataclass
class Mode:
    name: str
    found5: list[float] = field(default_factory=list)
    rr: list[float] = field(default_factory=list)
    ndcg: list[float] = field(default_factory=list)
    docs: list[int] = field(default_factory=list)
    ms: list[float] = field(default_factory=list)

    def add(self, pages: list[str], answers: frozenset[str], ms: float) -> None:
        ranked = list(dict.fromkeys(pages))
        self.docs.append(len(ranked))
        self.ms.append(ms)
        self.found5.append(float(any(p in answers for p in ranked[:5])))
        first = next((i for i, p in enumerate(ranked[:10]) if p in answers), None)
        self.rr.append(0.0 if first is None else 1.0 / (first + 1))
        dcg = sum(1.0 / math.log2(i + 2) for i, p in enumerate(ranked[:10]) if p in answers)
        ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(answers), 10)))
        self.ndcg.append(dcg / ideal)

    def figures(self) -> dict:
        return {
            "recall_at_5": round(statistics.mean(self.found5), 4),
            "mrr": round(statistics.mean(self.rr), 4),
            "ndcg_at_10": round(statistics.mean(self.ndcg), 4),
            "p50_ms": round(statistics.median(self.ms), 1),
        }

    def line(self) -> str:
        f = self.figures()
        return (f"{self.name:<34} recall@5 {f['recall_at_5']:.3f}  MRR {f['mrr']:.3f}  nDCG@10 {f['ndcg_at_10']:.3f}  "
                f"documents/query {statistics.mean(self.docs):4.1f}  p50 {f['p50_ms']:6.1f} ms")  # fmt: skip


def measure(args, qs: list[Question], loaded: Loaded, qvectors) -> dict[str, Mode]:
    from accounts.tenancy.context import account_context
    from knowledge.services.retrieval import nearest_chunks, rank_passages, text_search

    account, unit, page_of = loaded.account, loaded.unit, loaded.page_of_chunk
    modes = {name: Mode(title) for name, title in [
        ("vector", f"vector only ({args.pool} passages)"), ("text", f"full text only ({args.pool} passages)"),
        ("hybrid", f"hybrid, default (k={args.k})"), ("rerank", f"hybrid + local rerank of the top {args.k}"),
    ]}  # fmt: skip
    misses = []
    with account_context(account.id):
        for warm in qvectors[:3]:
            nearest_chunks(account_id=account.id, units=[unit], model=MODEL, vector=warm, limit=args.pool)
        for q, vector in zip(qs, qvectors, strict=True):
            started = time.perf_counter()
            _, hits = nearest_chunks(account_id=account.id, units=[unit], model=MODEL, vector=vector, limit=args.pool)
            modes["vector"].add([page_of[h[0]] for h in hits], q.answers, (time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            hits = text_search(account_id=account.id, unit_ids=[unit.pk], query=q.text, limit=args.pool)
            modes["text"].add([page_of[h[0]] for h in hits], q.answers, (time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            passages, _ = rank_passages(account_id=account.id, units=[unit], query=q.text, k=args.k,
                                        vector_for=lambda model, v=vector: v)  # fmt: skip
            hybrid_ms = (time.perf_counter() - started) * 1000
            ranked = [page_of[p.chunk_id] for p in passages]
            modes["hybrid"].add(ranked, q.answers, hybrid_ms)
            if not any(p in q.answers for p in list(dict.fromkeys(ranked))[:5]):
                misses.append((q, list(dict.fromkeys(ranked))[:5]))
            if args.local_rerank:
                started = time.perf_counter()
                reranked = local_rerank(vector, passages, lambda texts: embed(texts, "sentences", quiet=True))
                modes["rerank"].add([page_of[p.chunk_id] for p in reranked], q.answers,
                                    hybrid_ms + (time.perf_counter() - started) * 1000)  # fmt: skip
    for q, got in misses:
        print(f"# default mode misses at 5: {q.text!r} wants {' '.join(sorted(q.answers))}; got {' '.join(got)}")
    if not args.local_rerank:
        del modes["rerank"]
    return modes


def sweep(args, qs: list[Question], loaded: Loaded, qvectors) -> None:
    """The default mode under other fusion settings (for tuning; the defaults are
    what the settings say): RRF k x text weight x passages per document x the
    full-text length normalisation x document evidence."""
    import itertools

    from django.test import override_settings

    from accounts.tenancy.context import account_context
    from knowledge.services import retrieval
    from knowledge.services.retrieval import rank_passages

    keep = retrieval.TEXT_RANK_NORMALIZATION
    grid = itertools.product([20, 60], [0.5, 1.0, 1.5], [1, 2], [0, 1], [0.0, 0.1, 0.3])
    results = []
    try:
        for rrf_k, text_weight, per_document, norm, evidence in grid:
            retrieval.TEXT_RANK_NORMALIZATION = norm
            mode = Mode(f"rrf {rrf_k} text {text_weight} per-doc {per_document} norm {norm} evid {evidence}")
            with override_settings(KNOWLEDGE_RRF_K=rrf_k, KNOWLEDGE_TEXT_WEIGHT=text_weight,
                                   KNOWLEDGE_PASSAGES_PER_DOCUMENT=per_document,
                                   KNOWLEDGE_DOCUMENT_EVIDENCE=evidence), \
                    account_context(loaded.account.id):  # fmt: skip
                for q, vector in zip(qs, qvectors, strict=True):
                    passages, _ = rank_passages(account_id=loaded.account.id, units=[loaded.unit], query=q.text,
                                                k=args.k, vector_for=lambda model, v=vector: v)  # fmt: skip
                    mode.add([loaded.page_of_chunk[p.chunk_id] for p in passages], q.answers, 0.0)
            results.append(mode)
    finally:
        retrieval.TEXT_RANK_NORMALIZATION = keep
    results.sort(key=lambda m: (-statistics.mean(m.rr), -statistics.mean(m.found5)))
    print("# sweep of the default mode, best MRR first:", flush=True)
    for mode in results[:15]:
        print(f"#   {mode.line()}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench retrieval_quality", description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=0, help="distractor pages beyond the answering ones (default 0)")
    parser.add_argument("--max-chunks-per-page", type=int, default=30, help="first chunks of each page (default 30)")
    parser.add_argument("--no-headings", action="store_true", help="chunk without heading paths (for comparison)")
    parser.add_argument("--k", type=int, default=10, help="passages the default search returns (default 10)")
    parser.add_argument("--pool", type=int, default=30, help="passages each single ingredient returns (default 30)")
    parser.add_argument(
        "--local-rerank",
        action="store_true",
        help="run the local reranking mode (it embeds the top k's sentences at query time)",
    )
    parser.add_argument("--only", help="only the questions containing these words (a quick check)")
    parser.add_argument("--sweep", action="store_true", help="also try a grid of fusion settings (tuning)")
    parser.add_argument("--embed-only", action="store_true", help="fill the vector cache and stop")
    parser.add_argument("--keep", action="store_true", help="keep the data and the embedded servers afterwards")
    args = parser.parse_args(argv)

    if not _docs_installed():
        print("# python3.11-doc is not installed and cannot be (needs root and Debian's apt); skipped")
        print(json.dumps({"bench": "retrieval_quality", "metric": "mrr_default_mode", "value": None,
                          "reference": None, "ratio": None, "goal": ">= 0.85 MRR, >= 0.95 recall@5",
                          "skipped": "python3.11-doc unavailable"}))  # fmt: skip
        return 0
    setup_django("bench-retrieval-quality")
    from django.conf import settings

    qs = [q for q in questions() if not args.only or args.only.lower() in q.text.lower()]
    pages = chunked(corpus_pages(qs, args.pages), args.max_chunks_per_page, headings=not args.no_headings)
    texts = [d.text for p in pages for d in p.chunks]
    print(f"# corpus: {len(pages)} pages of the Python 3.11 documentation (Debian python3.11-doc), {len(texts):,} "
          f"chunks of <= {settings.KNOWLEDGE_CHUNK_TOKENS} tokens (overlap {settings.KNOWLEDGE_CHUNK_OVERLAP}, "
          f"first {args.max_chunks_per_page} of each page, heading paths {'off' if args.no_headings else 'on'}); "
          f"{len(qs)} questions", flush=True)  # fmt: skip
    vectors = embed(texts, "chunks")
    qvectors = embed([q.text for q in qs], "questions")
    if args.embed_only:
        return 0
    try:
        loaded = load(pages, vectors)
        if args.sweep:
            sweep(args, qs, loaded, qvectors)
        modes = measure(args, qs, loaded, qvectors)
    finally:
        if not args.keep:
            cleanup(stop=True)
    print(f"# settings: RRF k {settings.KNOWLEDGE_RRF_K}, weights vector {settings.KNOWLEDGE_VECTOR_WEIGHT} / text "
          f"{settings.KNOWLEDGE_TEXT_WEIGHT}, at most {settings.KNOWLEDGE_PASSAGES_PER_DOCUMENT} passages per "
          f"document, document evidence {settings.KNOWLEDGE_DOCUMENT_EVIDENCE}",
          flush=True)  # fmt: skip
    for mode in modes.values():
        print(mode.line(), flush=True)
    if "rerank" not in modes:
        print(f"{modes['hybrid'].name.replace('default', 'rerank'):<34} not run: the app's reranker is a hosted chat "
              "model (KNOWLEDGE_RERANK_MODEL), offline here; no cross-encoder with offline weights installs from "
              "PyPI; --local-rerank runs the MiniLM sentence reranker (it embeds ~50 sentences per query)",
              flush=True)  # fmt: skip
    figures = {name: mode.figures() for name, mode in modes.items()}
    value = figures["hybrid"]["mrr"]
    reference = max(figures["vector"]["mrr"], figures["text"]["mrr"])
    result = {
        "bench": "retrieval_quality",
        "metric": "mrr_default_mode",
        "value": value,
        "reference": reference,
        "ratio": round(value / reference, 4) if reference else None,
        "goal": ">= 0.85 MRR and >= 0.95 recall@5 for the default (hybrid) mode",
        "recall_at_5": figures["hybrid"]["recall_at_5"],
        "modes": figures,
        "questions": len(qs),
        "pages": len(pages),
        "chunks": len(texts),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
