"""Chunks per second of the whole ingestion pipeline against the embedding
model's own encode throughput on the same texts.

`python -m tests.bench ingestion [--chunks 150] [--rounds 5] [--keep]`

* candidate: `knowledge.services.documents.document_upload` of a text document
  (pages of the Python 3.11 documentation, as in the retrieval benchmark) and
  the ingestion it enqueues (the Celery task, run eagerly in this process):
  store the file, hash it, parse, split, embed in batches through the AI gateway
  (a usage record and a ledger debit per batch), stage, and index (HNSW + GIN);
* reference: `aiplatform.ai.minilm.encode` of the very same chunk texts, in batches
  of the same size (KNOWLEDGE_EMBED_BATCH): the model alone.

Rounds run A B / B A, each candidate round into a fresh decision unit. The last
line is one JSON object (see /work/shared/BENCHMARKS.md); `ratio` is the median
of the per-round ratios, goal >= 0.8.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import time
from pathlib import Path

from tests.bench.retrieval import cleanup, corpus, setup_django


def document_text(chunks: int) -> tuple[str, list[str]]:
    """A text of real documentation that splits into about `chunks` chunks, and those chunks."""
    from django.conf import settings

    from knowledge.services.chunking import chunk_segments
    from knowledge.services.extraction import extract

    pages = corpus(chunks * 5).pages
    paragraphs: list[str] = []
    drafts: list = []
    for page in pages:
        paragraphs.extend(page)
        text = "\n\n".join(paragraphs)
        drafts = chunk_segments(extract(text.encode(), "txt"), size=settings.KNOWLEDGE_CHUNK_TOKENS,
                                overlap=settings.KNOWLEDGE_CHUNK_OVERLAP)  # fmt: skip
        if len(drafts) >= chunks:
            break
    return text, [d.text for d in drafts]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench ingestion", description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, default=150, help="chunks in the document (default 150)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the data and the embedded servers afterwards")
    args = parser.parse_args(argv)

    setup_django("bench-ingestion")
    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile

    from accounts.models import Membership, User
    from accounts.services.accounts import account_create
    from accounts.tenancy.context import account_context
    from aiplatform import celery_app
    from aiplatform.ai import minilm
    from billing.services.ledger import wallet_credit
    from knowledge.models import Chunk, Document
    from knowledge.services.documents import document_upload
    from knowledge.services.units import unit_create

    celery_app.conf.task_always_eager = True  # the task runs here, on commit, as a worker would run it
    media = Path(settings.MEDIA_ROOT) / "knowledge"
    try:
        text, texts = document_text(args.chunks)
        batch = settings.KNOWLEDGE_EMBED_BATCH
        print(f"# document: {len(text.encode()):,} bytes of the Python 3.11 docs -> {len(texts)} chunks of up to "
              f"{settings.KNOWLEDGE_CHUNK_TOKENS} tokens (overlap {settings.KNOWLEDGE_CHUNK_OVERLAP}), "
              f"batches of {batch}", flush=True)  # fmt: skip
        owner = User.objects.create_user("bench-ingestion@example.com")
        account = account_create(name="bench ingestion", owner=owner)
        with account_context(account.id):
            wallet_credit(account=account, amount="1000000", type="bonus", description="bench funds")
            membership = Membership.objects.get(account=account, user=owner)
        minilm.model()  # load before timing either side

        def candidate(round_: int) -> tuple[float, Document]:
            with account_context(account.id):
                unit = unit_create(account=account, actor=membership, name=f"round {round_}",
                                   embedding_model="local-minilm")  # fmt: skip
            started = time.perf_counter()
            with account_context(account.id):
                document = document_upload(account=account, actor=membership, unit=unit,
                                           upload=SimpleUploadedFile("docs.txt", text.encode()))  # fmt: skip
            elapsed = time.perf_counter() - started
            with account_context(account.id):
                document = Document.objects.get(pk=document.pk)
                indexed = Chunk.objects.filter(document=document).count()
            if document.status != "done" or indexed != len(texts):
                raise SystemExit(f"ingestion ended {document.status} ({document.error}) with {indexed} chunks")
            return len(texts) / elapsed, document

        def reference() -> float:
            started = time.perf_counter()
            for at in range(0, len(texts), batch):
                minilm.encode(texts[at : at + batch])
            return len(texts) / (time.perf_counter() - started)

        candidate(0)
        reference()
        print("# warmed up (one round of each)", flush=True)
        rates: dict[str, list[float]] = {"pipeline": [], "encode": []}
        ratios, stages = [], {"parse+split": [], "embedding": [], "indexing": [], "upload": []}
        for round_ in range(1, args.rounds + 1):
            sides = ["pipeline", "encode"] if round_ % 2 else ["encode", "pipeline"]
            for side in sides:
                if side == "pipeline":
                    rate, document = candidate(round_)
                    rates["pipeline"].append(rate)
                    stages["upload"].append((document.parsing_started_at - document.queued_at).total_seconds())
                    stages["parse+split"].append(
                        (document.embedding_started_at - document.parsing_started_at).total_seconds())  # fmt: skip
                    stages["embedding"].append(
                        (document.indexing_started_at - document.embedding_started_at).total_seconds())  # fmt: skip
                    stages["indexing"].append((document.finished_at - document.indexing_started_at).total_seconds())
                else:
                    rates["encode"].append(reference())
            ratios.append(rates["pipeline"][-1] / rates["encode"][-1])
            print(f"# round {round_}/{args.rounds}: pipeline {rates['pipeline'][-1]:.1f} chunks/s, model encode "
                  f"{rates['encode'][-1]:.1f} chunks/s, ratio {ratios[-1]:.3f}", flush=True)  # fmt: skip
        print(f"pipeline      median {statistics.median(rates['pipeline']):7.1f} chunks/s", flush=True)
        print(f"model encode  median {statistics.median(rates['encode']):7.1f} chunks/s", flush=True)
        print("pipeline stages, median seconds: " + ", ".join(
            f"{name} {statistics.median(values):.2f}" for name, values in stages.items()), flush=True)  # fmt: skip
    finally:
        if not args.keep:
            cleanup(stop=False)
            shutil.rmtree(media, ignore_errors=True)
            from aiplatform import embedded

            if getattr(settings, "EMBEDDED_SERVICES", False):
                embedded.stop(settings.DATA_DIR)
    result = {
        "bench": "ingestion",
        "metric": "pipeline_chunks_per_second",
        "value": round(statistics.median(rates["pipeline"]), 2),
        "reference": round(statistics.median(rates["encode"]), 2),
        "ratio": round(statistics.median(ratios), 3),
        "goal": ">= 0.8",
        "chunks": len(texts),
        "batch": batch,
        "rounds": args.rounds,
    }
    print(json.dumps(result))
    return 0
