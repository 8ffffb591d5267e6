"""Hybrid retrieval: vector and full-text lists fused by reciprocal rank, both
search plans, weights per unit, citations, reranking, and the walls between
accounts and between units."""

from __future__ import annotations

import pytest
from django.conf import settings as conf

from accounts.tenancy.context import account_context
from aiplatform.errors import InvalidInput, NotFound
from billing.models import UsageRecord
from knowledge.models import DecisionUnit
from knowledge.services.retrieval import EXACT, HNSW, retrieve, text_query
from knowledge.services.units import unit_create
from tests.billing.factories import fund
from tests.knowledge import files

pytestmark = pytest.mark.django_db

QUESTION = "How do we cut freight cost per pallet on long routes?"


@pytest.fixture
def library(kb, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    for name, content in [
        ("handbook.pdf", files.pdf()),
        ("returns.docx", files.docx_file()),
        ("margins.csv", files.CSV),
        ("safety.html", files.HTML),
        ("cold-chain.txt", files.TEXT),
    ]:
        assert kb.add(name, content, capture=capture).status == "done"
    return kb


def search(kb, query=QUESTION, *, units=None, account=None, **kwargs):
    account = account or kb.tenants.a
    with account_context(account.id):
        return retrieve(account=account, unit_ids=units or [kb.unit.pk], query=query, **kwargs)


def test_the_passage_that_answers_comes_first_with_its_citation(library):
    # when
    result = search(library, k=3)
    # then
    top = result.passages[0]
    assert (top.citation, top.vector_rank, top.text_rank) == ("handbook.pdf, page 2", 1, 1)
    assert top.text.startswith("Freight consolidation.")
    # ranked first in both lists: weight / (k + 1) of each list
    weights = conf.KNOWLEDGE_VECTOR_WEIGHT + conf.KNOWLEDGE_TEXT_WEIGHT
    assert top.score == pytest.approx(weights / (conf.KNOWLEDGE_RRF_K + 1))
    assert 0 < top.distance < 0.6
    assert result.plans == {"local-minilm": EXACT}
    assert len(result.passages) == 3
    assert [p.score for p in result.passages] == sorted((p.score for p in result.passages), reverse=True)


def test_rows_and_sheets_are_cited(library):
    result = search(library, "What is the SKU of the plastic crate?", k=1)
    assert result.passages[0].citation == "margins.csv, rows 1-3"


def test_words_alone_when_the_unit_weighs_meaning_zero(library):
    # given a unit that ranks by words only
    with account_context(library.tenants.a.id):
        DecisionUnit.objects.filter(pk=library.unit.pk).update(vector_weight=0)
    # when
    result = search(library, "truckloads", k=5)
    # then no embedding was made, and only the page with the word matches
    assert result.plans == {}
    assert [(p.citation, p.vector_rank, p.text_rank) for p in result.passages] == [("handbook.pdf, page 2", None, 1)]
    with account_context(library.tenants.a.id):
        assert UsageRecord.objects.filter(account=library.tenants.a, feature="knowledge_search").count() == 0


def test_meaning_alone_finds_a_passage_that_shares_no_word_with_the_question(library):
    with account_context(library.tenants.a.id):
        DecisionUnit.objects.filter(pk=library.unit.pk).update(text_weight=0)
    result = search(library, "keeping frozen food cold", k=1)
    assert [(p.citation, p.text_rank) for p in result.passages] == [("cold-chain.txt", None)]
    assert text_query("keeping frozen food cold") == "'keeping' | 'frozen' | 'food' | 'cold'"


def test_the_hnsw_plan_returns_what_the_exact_plan_returns(library, settings):
    exact = search(library, k=5)
    settings.KNOWLEDGE_EXACT_SEARCH_MAX_CHUNKS = 0  # every unit counts as large
    indexed = search(library, k=5)
    assert (exact.plans, indexed.plans) == ({"local-minilm": EXACT}, {"local-minilm": HNSW})
    assert [p.chunk_id for p in indexed.passages] == [p.chunk_id for p in exact.passages]


def test_the_query_embedding_is_metered(library):
    search(library, k=1)
    with account_context(library.tenants.a.id):
        records = list(UsageRecord.objects.filter(account=library.tenants.a, feature="knowledge_search"))
    assert [(r.model, r.status, r.tokens_in) for r in records] == [("local-minilm", "ok", 15)]


def test_only_the_given_units_are_searched(library, django_capture_on_commit_callbacks):
    # given a second unit of the same account holding the answer word for word
    with account_context(library.tenants.a.id):
        other = unit_create(account=library.tenants.a, actor=library.tenants.alice_membership, name="Other")
    library.add("copy.txt", QUESTION, capture=django_capture_on_commit_callbacks, unit=other)
    # when searching the first unit only, then the other unit's chunk is absent; asked for, it comes first
    assert "copy.txt" not in {p.document_name for p in search(library, k=10).passages}
    both = search(library, k=1, units=[library.unit.pk, other.pk])
    assert [p.citation for p in both.passages] == ["copy.txt"]


def test_another_accounts_chunks_never_come_back_even_when_nearest(library, django_capture_on_commit_callbacks):
    # given account B with a document that is the question itself, word for word
    tenants = library.tenants
    with account_context(tenants.b.id):
        fund(tenants.b, "10")
        b_unit = unit_create(account=tenants.b, actor=tenants.carol_membership, name="B's unit")
    library.add("question.txt", QUESTION, capture=django_capture_on_commit_callbacks, unit=b_unit, account=tenants.b,
                actor=tenants.carol_membership)  # fmt: skip
    for max_exact in (20000, 0):  # both plans
        from django.test import override_settings

        with override_settings(KNOWLEDGE_EXACT_SEARCH_MAX_CHUNKS=max_exact):
            # when A searches its unit (k larger than its whole unit)
            a_result = search(library, k=50)
            # then B's chunk is not among A's passages, while B finds it first with distance ~0
            assert "question.txt" not in {p.document_name for p in a_result.passages}
            assert len(a_result.passages) == 6
            b_result = search(library, k=1, units=[b_unit.pk], account=tenants.b)
            assert [p.citation for p in b_result.passages] == ["question.txt"]
            assert b_result.passages[0].distance == pytest.approx(0, abs=1e-5)
    # and naming B's unit from A is a 404, not an empty answer
    with pytest.raises(NotFound):
        search(library, units=[library.unit.pk, b_unit.pk])


def test_the_sql_filters_by_account_even_where_row_security_would_not(library, django_capture_on_commit_callbacks):
    # given B's unit with the question word for word, searched under an operator's bypass (RLS lifted)
    from accounts.tenancy.context import rls_bypass
    from knowledge.services.retrieval import vector_search

    tenants = library.tenants
    with account_context(tenants.b.id):
        fund(tenants.b, "10")
        b_unit = unit_create(account=tenants.b, actor=tenants.carol_membership, name="B's unit")
    library.add("question.txt", QUESTION, capture=django_capture_on_commit_callbacks, unit=b_unit, account=tenants.b,
                actor=tenants.carol_membership)  # fmt: skip
    with rls_bypass("test"):
        hits = vector_search(account_id=tenants.a.pk, unit_ids=[b_unit.pk, library.unit.pk], model="local-minilm",
                             vector=[1.0] + [0.0] * 383, limit=50, plan=EXACT)  # fmt: skip
    assert len(hits) == 6  # A's own six chunks, none of B's


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"query": "  "}, {"query": ["Enter a question or some words to search for."]}),
        ({"k": 0}, {"k": ["Between 1 and 50."]}),
        ({"k": 51}, {"k": ["Between 1 and 50."]}),
        ({"query": "x" * 2001}, {"query": ["At most 2000 characters."]}),
    ],
)
def test_invalid_searches_are_refused(kb, kwargs, error):
    params = {"query": QUESTION, "k": 5} | kwargs
    with pytest.raises(InvalidInput) as err:
        search(kb, **params)
    assert err.value.fields == error


def test_an_unknown_unit_id_is_not_found(kb):
    with pytest.raises(NotFound):
        search(kb, units=["00000000-0000-0000-0000-000000000000"])
    with pytest.raises(NotFound):
        search(kb, units=["not-a-uuid"])


def test_rerank_reorders_by_the_models_scores(library, settings, chat_model, model_server):
    # given a hosted chat model (the loopback server) as the reranker, rating the fused third passage highest
    settings.KNOWLEDGE_RERANK_MODEL = "test-model"
    fused = search(library, k=6)
    model_server.reply('{"scores": [2, 1, 9, 0, 0, 0]}')
    # when
    result = search(library, k=3, rerank=True)
    # then all six fused passages were rated, and the best three come back in the model's order
    assert result.reranked is True
    assert [p.chunk_id for p in result.passages] == [fused.passages[2].chunk_id, fused.passages[0].chunk_id,
                                                     fused.passages[1].chunk_id]  # fmt: skip
    assert [p.rerank_score for p in result.passages] == [9.0, 2.0, 1.0]
    [request] = model_server.requests
    assert request["messages"][-1]["content"].startswith(
        "Question: How do we cut freight cost per pallet on long routes?\n\nPassages:\n\n[1] Freight consolidation."
    )
    with account_context(library.tenants.a.id):
        assert UsageRecord.objects.filter(account=library.tenants.a, feature="knowledge_rerank").count() == 1


def test_a_reranker_that_does_not_rate_every_passage_is_a_provider_error(library, settings, chat_model,
                                                                         model_server):  # fmt: skip
    from aiplatform.ai.errors import ProviderError

    settings.KNOWLEDGE_RERANK_MODEL = "test-model"
    model_server.reply('{"scores": [5]}')
    with pytest.raises(ProviderError) as err:
        search(library, k=3, rerank=True)
    assert err.value.message == "The reranking model 'test-model' did not rate the 6 passages; try again."


def test_rerank_with_the_offline_model_or_without_a_model_is_refused(kb, settings):
    with pytest.raises(InvalidInput) as err:
        search(kb, rerank=True)
    assert err.value.message == "Reranking is not configured: set KNOWLEDGE_RERANK_MODEL to a hosted chat model."
    settings.KNOWLEDGE_RERANK_MODEL = "local-assistant"
    with pytest.raises(InvalidInput) as err:
        search(kb, rerank=True)
    assert err.value.message == (
        "'local-assistant' is the offline model, which cannot judge relevance; rerank with a hosted model."
    )
