"""Search latency through the REST API against the bare SQL of the same search.

`python -m tests.bench search_api [--chunks 11000] [--queries 60] [--rounds 5] [--trace] [--keep]`

Data (real text, real model, as the retrieval bench; see /work/shared/BENCHMARKS.md):
windows of the Python 3.11 documentation (Debian python3.11-doc) embedded by
all-MiniLM-L6-v2 (vectors cached under .data/bench-cache/), `--chunks` rows in
one decision unit of one account, copied into `knowledge_chunk` with its
indexes built afterwards. Queries are the first 6-14 words of random passages
of the same corpus (text the model has to embed at request time).

* candidate: `POST /api/v1/knowledge/search/` with a Bearer API key through
  Django's WSGI handler in this process (every middleware, the tenant
  transaction, the serializer; no socket), k=5, the default mode. The query is
  embedded by the local model in the web process and the search is metered
  and charged, as in production;
* reference: the SQL statements that same request sent to `knowledge_chunk`
  (captured from the request itself, so the bench follows whatever the ranking
  code sends), replayed with their parameters on the same connection in one
  transaction with the same tenant context: the index work alone.

A B / B A per query, `--rounds` rounds over the queries, after a warm-up round.
`--two-threads` also times, after each pair, the API with the query embedded on
torch's default intra-op threads (as before issue 15). `--trace` prints where
one request's time goes (each SQL statement, the embedding, the rest). The last
line is one JSON object: `value` the API p95 in ms, `reference` the bare SQL
p95, `p50_ms`, `sql_p50_ms` and the goal.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import import_module

from tests.bench import retrieval as rb

SEED = 20261203
GOAL_P50, GOAL_P95 = 30.0, 60.0
SEARCH = "/api/v1/knowledge/search/"


@dataclass
class Setup:
    account: object
    unit: object
    key: str
    user_id: object
    queries: list[str]
    description: str


@dataclass
class Samples:
    ms: list[float] = field(default_factory=list)

    def pct(self, q: float) -> float:
        data = sorted(self.ms)
        return data[min(len(data) - 1, round(q * (len(data) - 1)))]


def _build(chunks: int, queries: int) -> Setup:
    import uuid

    from django.apps import apps as django_apps
    from django.core.management import call_command
    from django.db import connection

    from accounts.models import Membership, User
    from accounts.services.accounts import account_create
    from accounts.services.api_keys import api_key_create
    from accounts.tenancy.context import account_context
    from accounts.tenancy.roles import as_owner
    from aiplatform.ai.registry import cache_clear
    from billing.services.ledger import wallet_credit
    from knowledge.models import DecisionUnit, Document

    c = rb.corpus(max(2000, chunks // 3))
    flat = [p for page in c.pages for p in page]
    vectors = rb.embeddings(flat)
    rows = rb.windows(c, vectors, chunks)
    with as_owner(connection):
        call_command("flush", interactive=False, verbosity=0)
    # flush drops the rows data migrations wrote: the local embedding model's registry entry.
    import_module("aiplatform.ai.migrations.0003_local_embedding_model").seed(django_apps, None)
    cache_clear()
    owner = User.objects.create_user("bench-search@example.com")
    account = account_create(name="bench search", owner=owner)
    with account_context(account.id):
        wallet_credit(account=account, amount=10**9, type="bonus", description="bench funds")
        unit = DecisionUnit.objects.create(account=account, name="python docs", embedding_model=rb.MODEL)
        document = Document.objects.create(account=account, unit=unit, name="python-docs.html", size=0,
                                           sha256="0" * 64, kind="html", status="done")  # fmt: skip
        membership = Membership.objects.get(account=account, user=owner)
        _, raw_key = api_key_create(account=account, actor=membership, name="bench")
    with rb.owner_connection() as conn:
        indexes = dict(conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'knowledge_chunk' "
            "AND indexname IN ('knowledge_chunk_embedding_hnsw', 'knowledge_chunk_text_gin')"
        ).fetchall())  # fmt: skip
        for name in indexes:
            conn.execute(f"DROP INDEX {name}")
        columns = "id, account_id, unit_id, document_id, position, char_offset, token_count, section, text, model, " \
                  "embedding"  # fmt: skip
        types = ["uuid", "uuid", "uuid", "uuid", "int4", "int4", "int4", "text", "text", "text", "vector"]
        with conn.cursor().copy(f"COPY knowledge_chunk ({columns}) FROM STDIN WITH (FORMAT BINARY)") as copy:
            copy.set_types(types)
            for position in range(chunks):
                copy.write_row([uuid.uuid4(), account.id, unit.pk, document.pk, position, 0, 0, "",
                                rows.texts[position], rb.MODEL, rows.vectors[position]])  # fmt: skip
        conn.execute("SET maintenance_work_mem = '512MB'")
        for definition in indexes.values():
            conn.execute(definition)
        conn.execute("UPDATE knowledge_decisionunit SET chunk_count = %s WHERE id = %s",
                     [chunks, unit.pk])  # fmt: skip
        conn.execute("ANALYZE")
    rng = random.Random(SEED)
    picked = []
    for passage in rng.sample(flat, queries):
        words = passage.split()
        picked.append(" ".join(words[: rng.randint(6, 14)]))
    return Setup(
        account=account, unit=unit, key=raw_key, user_id=owner.pk, queries=picked, description=rows.description
    )


@contextmanager
def _statements(into: list):
    """Collect (sql, params, ms) of every statement the block sends."""
    from django.db import connection

    def wrapper(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            into.append((sql, params, (time.perf_counter() - started) * 1000))

    with connection.execute_wrapper(wrapper):
        yield


def _search_sql(statements: list) -> list[tuple[str, object]]:
    """The statements that are the search itself: those reading knowledge_chunk,
    with the hnsw settings they depend on."""
    out = []
    for sql, params, _ in statements:
        if "knowledge_chunk" in sql or "hnsw." in sql:
            out.append((sql, params))
    return out


def _api_call(client, setup: Setup, query: str, *, cold: bool = True) -> tuple[float, int]:
    """One search through the API; `cold`: the query's vector is not in the process's cache."""
    from aiplatform.ai import minilm

    if cold:
        minilm.cache_clear()
    body = {"query": query, "unit_ids": [str(setup.unit.pk)], "k": 5}
    started = time.perf_counter()
    response = client.post(SEARCH, data=json.dumps(body), content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {setup.key}")  # fmt: skip
    ms = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"search answered {response.status_code}: {response.content[:500]!r}")
    return ms, len(response.json()["passages"])


def _sql_call(setup: Setup, statements: list[tuple[str, object]]) -> float:
    from django.db import connection, transaction

    from accounts.tenancy.middleware import _set_request_context

    started = time.perf_counter()
    with transaction.atomic():
        _set_request_context(setup.user_id, setup.account.pk, False)
        with connection.cursor() as cur:
            raw = cur.cursor
            for sql, params in statements:
                raw.execute(sql, params)
                raw.fetchall()
    return (time.perf_counter() - started) * 1000


def trace(client, setup: Setup, query: str) -> None:
    """One request: each statement with its time, the embedding, and the rest."""
    from aiplatform.ai import minilm

    encode, spent = minilm.encode, []

    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return encode(*args, **kwargs)
        finally:
            spent.append((time.perf_counter() - started) * 1000)

    statements: list = []
    minilm.encode = timed
    try:
        with _statements(statements):
            total, _ = _api_call(client, setup, query)
    finally:
        minilm.encode = encode
    sql_ms = sum(s[2] for s in statements)
    print(f"# trace of one request ({total:.1f} ms): {len(statements)} statements {sql_ms:.1f} ms, "
          f"embedding {sum(spent):.1f} ms, the rest {total - sql_ms - sum(spent):.1f} ms", flush=True)  # fmt: skip
    for sql, _, ms in statements:
        print(f"#   {ms:6.2f} ms  {' '.join(sql.split())[:150]}", flush=True)


def measure(args, setup: Setup) -> tuple[Samples, Samples, dict]:
    from django.test import Client

    client = Client()
    captured: dict[str, list] = {}
    for query in setup.queries:  # warm-up, and the SQL each query sends
        statements: list = []
        with _statements(statements):
            _api_call(client, setup, query)
        captured[query] = _search_sql(statements)
    if args.trace:
        trace(client, setup, setup.queries[0])
        trace(client, setup, "a question nobody asked before about dictionaries")
    api, sql = Samples(), Samples()
    counts: dict = {"statements_per_search": len(captured[setup.queries[0]]), "passages": 0}
    old = Samples()
    for round_no in range(args.rounds):
        for i, query in enumerate(setup.queries):
            if (round_no + i) % 2 == 0:
                ms, n = _api_call(client, setup, query)
                api.ms.append(ms)
                sql.ms.append(_sql_call(setup, captured[query]))
            else:
                sql.ms.append(_sql_call(setup, captured[query]))
                ms, n = _api_call(client, setup, query)
                api.ms.append(ms)
            counts["passages"] += n
            if args.two_threads:
                old.ms.append(_two_threads_call(client, setup, query))
        print(f"# round {round_no + 1}: api p50 {statistics.median(api.ms[-len(setup.queries):]):.1f} ms, "
              f"sql p50 {statistics.median(sql.ms[-len(setup.queries):]):.1f} ms", flush=True)  # fmt: skip
    if old.ms:
        counts["api_two_threads"] = old
    return api, sql, counts


def _two_threads_call(client, setup: Setup, query: str) -> float:
    """The API as before issue 15: the query embedded on torch's default threads."""
    from aiplatform.ai import minilm

    small, minilm.SMALL_CALL = minilm.SMALL_CALL, 0
    try:
        return _api_call(client, setup, query)[0]
    finally:
        minilm.SMALL_CALL = small


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench search_api", description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, default=11000, help="chunks in the searched unit (default 11000)")
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--two-threads",
        action="store_true",
        help="also time the API with the query embedded on torch's default threads (the old way)",
    )
    parser.add_argument("--trace", action="store_true", help="print where one request's time goes")
    parser.add_argument("--keep", action="store_true", help="keep the data and the embedded servers afterwards")
    args = parser.parse_args(argv)

    rb.setup_django("bench-search-api")
    from django.conf import settings

    try:
        setup = _build(args.chunks, args.queries)
        plan = "exact" if args.chunks <= settings.KNOWLEDGE_EXACT_SEARCH_MAX_CHUNKS else "hnsw"
        print(f"# data: {setup.description}; one unit of {args.chunks:,} chunks (plan {plan})", flush=True)
        api, sql, counts = measure(args, setup)
    finally:
        if not args.keep:
            rb.cleanup(stop=True)
    p50, p95, s50, s95 = api.pct(0.5), api.pct(0.95), sql.pct(0.5), sql.pct(0.95)
    print(f"api  p50 {p50:6.1f} ms  p95 {p95:6.1f} ms   (goal p50 <= {GOAL_P50:.0f}, p95 <= {GOAL_P95:.0f})")
    print(f"sql  p50 {s50:6.1f} ms  p95 {s95:6.1f} ms   ({counts['statements_per_search']} statements per search)")
    old = counts.pop("api_two_threads", None)
    if old is not None:
        print(f"api, query on torch's default threads: p50 {old.pct(0.5):6.1f} ms  p95 {old.pct(0.95):6.1f} ms")
    result = {
        "bench": "search_api",
        "metric": "api_p95_ms",
        "value": round(p95, 2),
        "reference": round(s95, 2),
        "ratio": round(p95 / s95, 2) if s95 else None,
        "goal": f"p50 <= {GOAL_P50:.0f} ms and p95 <= {GOAL_P95:.0f} ms",
        "p50_ms": round(p50, 2),
        "sql_p50_ms": round(s50, 2),
        "searches": len(api.ms),
        "chunks": args.chunks,
        "plan": plan,
        "met": p50 <= GOAL_P50 and p95 <= GOAL_P95,
    }
    if old is not None:
        result |= {"two_threads_p50_ms": round(old.pct(0.5), 2), "two_threads_p95_ms": round(old.pct(0.95), 2)}
    print(json.dumps(result))
    return 0
