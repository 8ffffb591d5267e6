"""Hybrid retrieval over an account's decision units.

Two candidate lists, fused by reciprocal rank (score = sum of weight / (k + rank)):

* vector: cosine distance to the query's embedding, per embedding model. The
  plan depends on how many chunks the searched units hold (docs/adr/0003):
  up to KNOWLEDGE_EXACT_SEARCH_MAX_CHUNKS an exact scan of just those rows (exact,
  and fast on the B-tree over account and unit); above, the HNSW index with
  pgvector 0.8's iterative scan, so the account filter cannot starve the result;
* full text: PostgreSQL `tsvector` match of any query word (OR, so a question never
  collapses to zero matches), chunks holding *all* of its words first (AND), each
  group by ts_rank_cd normalised to [0, 1).

The fused list keeps at most KNOWLEDGE_PASSAGES_PER_DOCUMENT passages of one
document while others are left (per-document diversity), so the first k name
more sources. Weights and RRF k are tuned on `python -m tests.bench retrieval_quality`
(docs/adr/0003). Every query is filtered by account *and* unit ids, on top of
row-level security. Optional reranking sends the fused passages to a hosted chat
model (rerank.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import connection, transaction
from django.utils.translation import gettext

from accounts.models import Account
from aiplatform.errors import InvalidInput, NotFound
from knowledge.models import Chunk, DecisionUnit
from knowledge.models.chunks import TEXT_SEARCH_CONFIG, citation_for

from .embedding import SEARCH_FEATURE, embed_texts

MAX_QUERY_CHARS = 2000
MAX_K = 50
EXACT, HNSW = "exact", "hnsw"
HNSW_MIN_FETCH = 40  # candidates the relaxed-order scan returns before the re-sort
_WORD = re.compile(r"\w+")

# Exact: the scoped rows (B-tree on account, unit, model), every distance, a top-N sort.
# OFFSET 0 keeps the planner from ordering through the HNSW index instead.
EXACT_SQL = """
SELECT id, distance
FROM (
    SELECT id, embedding <=> %(vector)s::vector AS distance FROM knowledge_chunk
    WHERE account_id = %(account)s AND unit_id = ANY(%(units)s) AND model = %(model)s
    OFFSET 0
) scope
ORDER BY distance, id
LIMIT %(limit)s
"""
# HNSW with relaxed-order iterative scan: results may come slightly out of order,
# so more are fetched than asked for and re-sorted (pgvector's recommended form).
# "+ 0": without it the planner trusts the inner ORDER BY, sorts incrementally and
# reads only the first rows of the CTE, and the re-sort never happens.
HNSW_SQL = """
WITH nearest AS MATERIALIZED (
    SELECT id, embedding <=> %(vector)s::vector AS distance FROM knowledge_chunk
    WHERE account_id = %(account)s AND unit_id = ANY(%(units)s) AND model = %(model)s
    ORDER BY embedding <=> %(vector)s::vector
    LIMIT %(fetch)s
)
SELECT id, distance FROM nearest ORDER BY distance + 0, id LIMIT %(limit)s
"""
# Any word (OR) matches, so a long question still finds chunks; those with all of its
# words (AND) come first: rank = 1 for an AND match + ts_rank_cd normalised into [0, 1)
# (flag 32: rank / (rank + 1)), plus the flags of TEXT_RANK_NORMALIZATION.
TEXT_RANK_NORMALIZATION = 0  # none beyond 32: chunks are of bounded length, and 1 (log length) measured worse
TEXT_SQL = f"""
SELECT c.id, (c.search_vector @@ a.q)::int + ts_rank_cd(c.search_vector, o.q, %(norm)s | 32) AS rank
FROM knowledge_chunk c,
    to_tsquery('{TEXT_SEARCH_CONFIG}', %(any)s) o(q), to_tsquery('{TEXT_SEARCH_CONFIG}', %(all)s) a(q)
WHERE c.account_id = %(account)s AND c.unit_id = ANY(%(units)s) AND c.search_vector @@ o.q
ORDER BY rank DESC, c.id
LIMIT %(limit)s
"""


@dataclass(frozen=True)
class Passage:
    chunk_id: UUID
    unit_id: UUID
    document_id: UUID
    document_name: str
    text: str
    page: int | None
    row: int | None
    row_end: int | None
    section: str
    score: float  # fused reciprocal-rank score (higher is better)
    vector_rank: int | None  # 1-based rank in the vector list, None when not in it
    text_rank: int | None
    distance: float | None  # cosine distance to the query
    rerank_score: float | None = None

    @property
    def citation(self) -> str:
        where = citation_for(self.page, self.row, self.row_end, self.section)
        return f"{self.document_name}, {where}" if where else self.document_name


@dataclass(frozen=True)
class Retrieval:
    query: str
    passages: list[Passage]
    plans: dict[str, str] = field(default_factory=dict)  # embedding model -> exact | hnsw
    reranked: bool = False


def units_for(account: Account, unit_ids: Iterable[Any]) -> list[DecisionUnit]:
    """The account's units with these ids; NotFound (404) when any is not the account's."""
    try:
        wanted = {UUID(str(u)) for u in unit_ids}
    except ValueError:
        raise NotFound(gettext("There is no such decision unit."))
    if not wanted:
        raise InvalidInput(gettext("Choose at least one decision unit."), fields={"unit_ids": ["This list is empty."]})
    units = list(DecisionUnit.objects.filter(account=account, pk__in=wanted))
    if len(units) != len(wanted):
        raise NotFound(gettext("There is no such decision unit."))
    return units


def plan_for(chunks: int) -> str:
    return EXACT if chunks <= settings.KNOWLEDGE_EXACT_SEARCH_MAX_CHUNKS else HNSW


def vector_literal(vector: Iterable[float]) -> str:
    return "[" + ",".join(f"{float(x):.7g}" for x in vector) + "]"


def vector_search(
    *, account_id: Any, unit_ids: list[Any], model: str, vector: Iterable[float], limit: int, plan: str
) -> list[tuple[UUID, float]]:
    """(chunk id, cosine distance) of the nearest chunks of these units, nearest first."""
    params = {
        "account": str(account_id), "units": [str(u) for u in unit_ids], "model": model,
        "vector": vector_literal(vector), "limit": limit, "fetch": max(2 * limit, HNSW_MIN_FETCH),
    }  # fmt: skip
    with transaction.atomic(savepoint=False), connection.cursor() as cur:
        if plan == HNSW:
            # Transaction-local: the next request on this connection starts from the defaults.
            cur.execute(
                "SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true), "
                "set_config('hnsw.ef_search', %s, true)",
                [str(max(settings.KNOWLEDGE_HNSW_EF_SEARCH, params["fetch"]))],
            )
            cur.execute(HNSW_SQL, params)
        else:
            cur.execute(EXACT_SQL, params)
        return [(row[0], float(row[1])) for row in cur.fetchall()]


def nearest_chunks(
    *, account_id: Any, units: list[DecisionUnit], model: str, vector: Iterable[float], limit: int
) -> tuple[str, list[tuple[UUID, float]]]:
    """The plan the units' size calls for, and the nearest chunks it finds."""
    plan = plan_for(sum(u.chunk_count for u in units))
    hits = vector_search(account_id=account_id, unit_ids=[u.pk for u in units], model=model, vector=vector,
                         limit=limit, plan=plan)  # fmt: skip
    return plan, hits


def text_query(query: str, operator: str = "|") -> str:
    """The query's words joined by `operator` (| any, & all), as to_tsquery input;
    stemming and stop words are left to the text search configuration."""
    words = list(dict.fromkeys(w.lower() for w in _WORD.findall(query)))[:32]
    return f" {operator} ".join(f"'{w}'" for w in words)


def text_search(*, account_id: Any, unit_ids: list[Any], query: str, limit: int) -> list[tuple[UUID, float]]:
    """(chunk id, rank) of chunks matching any word of `query`: those matching all
    of them first (rank >= 1), then the rest (rank < 1), each by ts_rank_cd."""
    tsquery = text_query(query)
    if not tsquery:
        return []
    params = {
        "account": str(account_id), "units": [str(u) for u in unit_ids], "any": tsquery,
        "all": text_query(query, "&"), "norm": TEXT_RANK_NORMALIZATION, "limit": limit,
    }  # fmt: skip
    with connection.cursor() as cur:
        cur.execute(TEXT_SQL, params)
        return [(row[0], float(row[1])) for row in cur.fetchall()]


def _clean(query: str, k: int) -> str:
    query = (query or "").strip()
    errors = {}
    if not query:
        errors["query"] = ["Enter a question or some words to search for."]
    elif len(query) > MAX_QUERY_CHARS:
        errors["query"] = [f"At most {MAX_QUERY_CHARS} characters."]
    if not 1 <= k <= MAX_K:
        errors["k"] = [f"Between 1 and {MAX_K}."]
    if errors:
        raise InvalidInput(gettext("The search is invalid."), fields=errors)
    return query


def retrieve(
    *, account: Account, unit_ids: Iterable[Any], query: str, k: int = 5, user: Any = None, rerank: bool = False
) -> Retrieval:
    """The `k` best passages for `query` in the account's units `unit_ids`.

    Embedding the query is a metered gateway call; `rerank` adds a call to
    KNOWLEDGE_RERANK_MODEL (InvalidInput when none is configured)."""
    query = _clean(query, k)
    units = units_for(account, unit_ids)
    if rerank:
        from .rerank import rerank_model_check

        rerank_model_check(settings.KNOWLEDGE_RERANK_MODEL)
    wanted = max(k * 3, 10) if rerank else k

    def vector_for(model: str) -> list[float]:
        return embed_texts(account=account, model=model, texts=[query], feature=SEARCH_FEATURE, user=user)[0]

    passages, plans = rank_passages(account_id=account.pk, units=units, query=query, k=wanted, vector_for=vector_for)
    if rerank and passages:
        from .rerank import rerank_passages

        passages = rerank_passages(account=account, user=user, query=query, passages=passages)[:k]
        return Retrieval(query=query, passages=passages, plans=plans, reranked=True)
    return Retrieval(query=query, passages=passages[:k], plans=plans)


def candidate_pool(k: int) -> int:
    """Candidates each list contributes to the fusion of a top `k` (room for diversity)."""
    return max(k * 4, 40)


def rank_passages(
    *, account_id: Any, units: list[DecisionUnit], query: str, k: int, vector_for: Callable[[str], Iterable[float]]
) -> tuple[list[Passage], dict[str, str]]:
    """The fused top `k` passages of `units` for `query`, and the vector plan per model.

    `vector_for(model)` gives the query's embedding by that model (a metered gateway
    call in `retrieve`; a benchmark passes vectors it has). No validation here:
    callers pass a cleaned query and the account's own units."""
    pool = candidate_pool(k)
    by_unit = {u.pk: u for u in units}
    rankings: list[tuple[str, list[tuple[UUID, float]]]] = []
    plans: dict[str, str] = {}
    models: dict[str, list[DecisionUnit]] = {}
    for unit in units:
        if unit.vector_weight > 0:
            models.setdefault(unit.embedding_model, []).append(unit)
    for model, group in models.items():
        vector = vector_for(model)
        plans[model], hits = nearest_chunks(account_id=account_id, units=group, model=model, vector=vector, limit=pool)
        rankings.append(("vector", hits))
    text_units = [u.pk for u in units if u.text_weight > 0]
    if text_units:
        rankings.append(("text", text_search(account_id=account_id, unit_ids=text_units, query=query, limit=pool)))
    return _fuse(rankings, by_unit, k), plans


def diversified(passages: list[Passage], limit: int, per_document: int) -> list[Passage]:
    """The first `limit` passages with at most `per_document` of any one document,
    topped up in order from the ones held back when too few documents match."""
    if per_document <= 0:
        return passages[:limit]
    chosen, held, count = [], [], {}
    for passage in passages:
        if count.get(passage.document_id, 0) < per_document:
            chosen.append(passage)
            count[passage.document_id] = count.get(passage.document_id, 0) + 1
        else:
            held.append(passage)
        if len(chosen) == limit:
            return chosen
    return chosen + held[: limit - len(chosen)]


def _fuse(
    rankings: list[tuple[str, list[tuple[UUID, float]]]], units: dict[UUID, DecisionUnit], limit: int
) -> list[Passage]:
    rrf_k = settings.KNOWLEDGE_RRF_K
    source_weights = {"vector": settings.KNOWLEDGE_VECTOR_WEIGHT, "text": settings.KNOWLEDGE_TEXT_WEIGHT}
    ranks: dict[UUID, dict[str, int]] = {}
    distances: dict[UUID, float] = {}
    for source, hits in rankings:
        for rank, (chunk_id, value) in enumerate(hits, start=1):
            seen = ranks.setdefault(chunk_id, {})
            if rank < seen.get(source, rank + 1):
                seen[source] = rank
            if source == "vector":
                distances[chunk_id] = min(value, distances.get(chunk_id, value))
    if not ranks:
        return []
    chunks = {
        c.pk: c
        for c in Chunk.objects.filter(pk__in=ranks)
        .select_related("document")
        .only("id", "unit_id", "document_id", "document__name", "text", "page", "row", "row_end", "section")
    }
    scored = []
    for chunk_id, seen in ranks.items():
        chunk = chunks.get(chunk_id)
        if chunk is None:
            continue  # re-indexed between the two queries
        unit = units[chunk.unit_id]
        weights = {"vector": unit.vector_weight, "text": unit.text_weight}
        score = sum(weights[source] * source_weights[source] / (rrf_k + rank) for source, rank in seen.items())
        scored.append(
            Passage(
                chunk_id=chunk.pk,
                unit_id=chunk.unit_id,
                document_id=chunk.document_id,
                document_name=chunk.document.name,
                text=chunk.text,
                page=chunk.page,
                row=chunk.row,
                row_end=chunk.row_end,
                section=chunk.section,
                score=score,
                vector_rank=seen.get("vector"),
                text_rank=seen.get("text"),
                distance=distances.get(chunk_id),
            )  # fmt: skip
        )
    evidence = settings.KNOWLEDGE_DOCUMENT_EVIDENCE
    if evidence > 0:
        # A document several of whose passages matched is likelier the answer: each passage
        # gains `evidence` x the scores of its document's other candidates.
        totals: dict[UUID, float] = {}
        for p in scored:
            totals[p.document_id] = totals.get(p.document_id, 0.0) + p.score
        scored = [replace(p, score=p.score + evidence * (totals[p.document_id] - p.score)) for p in scored]
    scored.sort(key=lambda p: (-p.score, p.distance if p.distance is not None else 2.0, str(p.chunk_id)))
    return diversified(scored, limit, settings.KNOWLEDGE_PASSAGES_PER_DOCUMENT)


def with_rerank_scores(passages: list[Passage], scores: list[float]) -> list[Passage]:
    """Passages re-ordered by the reranker's scores (ties keep the fused order)."""
    ranked = [replace(p, rerank_score=float(s)) for p, s in zip(passages, scores, strict=True)]
    return sorted(ranked, key=lambda p: -(p.rerank_score or 0.0))
