"""gateway.embed through an OpenAI-compatible /embeddings endpoint on loopback."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from aiplatform.ai import gateway
from aiplatform.ai.errors import ModelUnavailable, ProviderMisconfigured
from aiplatform.ai.models import AiModel
from tests.ai.conftest import balance, usage_rows, use_rows
from tests.ai.factories import AiModelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def embedder(chat_model):
    return AiModelFactory(name="embed-test", kind=AiModel.Kind.EMBEDDING, provider_model="loopback-embed",
                          dimensions=8, credits_in_per_1k=Decimal("10"), credits_out_per_1k=0,
                          price_in_per_mtok=Decimal("0.02"))  # fmt: skip


def test_embed_returns_one_unit_vector_per_text_in_order(payer, embedder, model_server):
    # when
    result = gateway.embed(account=payer.account, user=payer.user, model="embed-test",
                           texts=["first text here", "second", "first text here"], charge=True)  # fmt: skip
    # then
    assert result.dimensions == 8 and len(result.vectors) == 3
    assert result.vectors[0] == result.vectors[2] != result.vectors[1]
    assert all(math.isclose(sum(x * x for x in v), 1.0) for v in result.vectors)
    assert model_server.requests == [{"model": "loopback-embed", "input": ["first text here", "second",
                                                                            "first text here"]}]  # fmt: skip
    assert (result.usage.tokens_in, result.usage.estimated) == (7, False)  # the server counts words
    [record] = usage_rows(payer.account)
    assert (record.feature, record.model, record.tokens_in, record.tokens_out) == ("embedding", "embed-test", 7, 0)
    assert record.credits == Decimal("0.0700") and balance(payer.account) == Decimal("99.9300")
    assert len(use_rows(payer.account)) == 1


def test_large_inputs_go_in_batches(payer, embedder, model_server):
    texts = [f"text number {i}" for i in range(300)]
    result = gateway.embed(account=payer.account, model="embed-test", texts=texts)
    assert len(result.vectors) == 300
    assert [len(r["input"]) for r in model_server.requests] == [128, 128, 44]
    assert len(usage_rows(payer.account)) == 1


def test_a_dimension_mismatch_with_the_registry_is_misconfigured(payer, embedder, model_server):
    embedder.dimensions = 1536
    embedder.save()
    with pytest.raises(ProviderMisconfigured) as err:
        gateway.embed(account=payer.account, model="embed-test", texts=["x"])
    assert "registry says embed-test has 1536 dimensions, the provider sent 8" in err.value.message
    assert [r.status for r in usage_rows(payer.account)] == ["error"]


def test_a_chat_model_cannot_embed(payer, chat_model, model_server):
    with pytest.raises(ModelUnavailable):
        gateway.embed(account=payer.account, model="test-model", texts=["x"])
    assert model_server.requests == []


def test_nothing_to_embed_calls_nothing(payer, embedder, model_server):
    assert gateway.embed(account=payer.account, model="embed-test", texts=[]).vectors == []
    assert model_server.requests == [] and usage_rows(payer.account) == []


def test_inside_a_request_transaction_the_charge_and_its_record_roll_back_with_it(payer, embedder, model_server):
    from django.db import transaction

    # when a metered call runs inside a caller's transaction (a request) that then fails
    with transaction.atomic():
        gateway.embed(account=payer.account, user=payer.user, model="embed-test", texts=["first text"], charge=True)
        transaction.set_rollback(True)
    # then neither the debit nor the usage record stayed
    assert (usage_rows(payer.account), use_rows(payer.account), balance(payer.account)) == ([], [], Decimal("100"))


def test_a_refused_charge_inside_a_request_transaction_leaves_it_usable_and_recorded(tenants, embedder, model_server):
    from django.db import connection, transaction

    from aiplatform.errors import InsufficientCredits

    # given an empty wallet, inside the request's transaction
    with transaction.atomic():
        with pytest.raises(InsufficientCredits):
            gateway.embed(account=tenants.a, model="embed-test", texts=["first text"], charge=True)
        # then the transaction is not marked for rollback: the request can still answer and commit
        assert connection.needs_rollback is False
    [record] = usage_rows(tenants.a)
    assert record.credits == Decimal("0") and record.error.startswith("not charged: Not enough credits")
