"""Catalog search by meaning: product vectors from the real local all-MiniLM-L6-v2
model (filled by the `products_embed` task after commit) fused with the word search."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from accounts.tenancy.context import account_context
from billing.models import CreditTransaction, UsageRecord
from channels_bot.models import Product
from channels_bot.services.products import (
    INDEX_FEATURE,
    SEARCH_FEATURE,
    embedding_digest,
    product_create,
    product_search,
    product_update,
    products_embed,
    products_embedding_stale,
    products_import_csv,
)
from channels_bot.tasks.catalog import products_embed_sweep
from tests.billing.factories import fund, wallet
from tests.channels_bot.factories import ProductFactory
from tests.knowledge.factories import MODEL, minilm_model

pytestmark = pytest.mark.django_db

TEA = "something to drink tea from"


@pytest.fixture
def minilm(settings):
    settings.AI_DEFAULT_EMBEDDING_MODEL = MODEL
    settings.CHANNELS_PRODUCT_MAX_DISTANCE = 0.65
    return minilm_model()


def _create(tenants, capture, account=None, **fields) -> Product:
    """Through the service, running what it schedules on commit (the embedding task, eager here)."""
    account = account or tenants.a
    actor = tenants.alice_membership if account == tenants.a else tenants.carol_membership
    with capture(execute=True):
        product = product_create(account=account, actor=actor, currency="USD", **fields)
    return product


def _stored(account, pk):
    with account_context(account.id):
        return Product.objects.values_list("embedding_model", "embedding_digest").get(pk=pk), len(
            Product.objects.get(pk=pk).embedding
        )


def _names(products) -> list[str]:
    return [p.name for p in products]


def _usage(account) -> list[tuple[str, str, Decimal]]:
    with account_context(account.id):
        return list(UsageRecord.objects.filter(account=account).order_by("created_at").values_list(
            "feature", "model", "credits"))  # fmt: skip


def test_a_created_product_is_embedded_after_commit_and_found_by_meaning(
    tenants, minilm, django_capture_on_commit_callbacks
):
    # given
    with account_context(tenants.a.id):
        fund(tenants.a, "10")
    mug = _create(tenants, django_capture_on_commit_callbacks, name="Mug", description="A ceramic cup with a handle.",
                  price="9.50")  # fmt: skip
    _create(tenants, django_capture_on_commit_callbacks, name="Running shoes", description="Lightweight trainers.",
            price="80")  # fmt: skip
    _create(tenants, django_capture_on_commit_callbacks, name="Gift card", description="Any amount.", price="20")

    # when
    found = product_search(account=tenants.a, query=TEA)

    # then
    assert _stored(tenants.a, mug.pk) == ((MODEL, embedding_digest(MODEL, "Mug", "A ceramic cup with a handle.")), 384)
    assert _names(found) == ["Mug"]
    # metered, charged nothing: three products indexed, one query embedded
    assert _usage(tenants.a) == [
        (INDEX_FEATURE, MODEL, Decimal("0")), (INDEX_FEATURE, MODEL, Decimal("0")),
        (INDEX_FEATURE, MODEL, Decimal("0")), (SEARCH_FEATURE, MODEL, Decimal("0")),
    ]  # fmt: skip
    with account_context(tenants.a.id):
        assert wallet(tenants.a).balance == Decimal("10")
        assert CreditTransaction.objects.filter(account=tenants.a).count() == 1  # the funding only


def test_words_alone_do_not_find_the_mug(tenants, minilm):
    # given: the same catalog, never embedded (rows written directly)
    ProductFactory(account=tenants.a, name="Mug", description="A ceramic cup with a handle.")
    ProductFactory(account=tenants.a, name="Running shoes", description="Lightweight trainers.")

    # when
    found = product_search(account=tenants.a, query=TEA)

    # then: no vector, so no embedding call either
    assert found == []
    assert _usage(tenants.a) == []


def test_chit_chat_matches_nothing_and_word_matches_rank_first(tenants, minilm, django_capture_on_commit_callbacks):
    # given
    for name, description in [("Blue Mug", "Ceramic, 300 ml."), ("Mug", "A ceramic cup with a handle."),
                              ("Cotton T-shirt", "White, 100% cotton."), ("Gift card", "Any amount.")]:  # fmt: skip
        _create(tenants, django_capture_on_commit_callbacks, name=name, description=description, price="10")

    # when
    hello = product_search(account=tenants.a, query="hello, is anyone there?")
    blue = product_search(account=tenants.a, query="blue")
    tea = product_search(account=tenants.a, query="a cup for my tea")

    # then
    assert hello == []
    assert _names(blue) == ["Blue Mug"]
    assert _names(tea) == ["Mug", "Blue Mug"]  # "cup" is a word of the Mug; the Blue Mug only by meaning


def test_another_accounts_products_are_never_found(tenants, minilm, django_capture_on_commit_callbacks):
    # given
    _create(tenants, django_capture_on_commit_callbacks, account=tenants.b, name="Mug",
            description="A ceramic cup with a handle.", price="9")  # fmt: skip
    _create(tenants, django_capture_on_commit_callbacks, name="Running shoes", description="Lightweight trainers.",
            price="80")  # fmt: skip

    # when
    found = product_search(account=tenants.a, query=TEA)

    # then
    assert found == []


def test_an_unavailable_product_is_found_only_when_asked(tenants, minilm, django_capture_on_commit_callbacks):
    # given
    _create(tenants, django_capture_on_commit_callbacks, name="Mug", description="A ceramic cup with a handle.",
            price="9", is_available=False)  # fmt: skip

    # when
    default = product_search(account=tenants.a, query=TEA)
    every = product_search(account=tenants.a, query=TEA, include_unavailable=True)

    # then
    assert (default, _names(every)) == ([], ["Mug"])


def test_embedding_is_idempotent_and_an_edit_of_the_text_embeds_again(
    tenants, minilm, django_capture_on_commit_callbacks
):
    # given
    mug = _create(tenants, django_capture_on_commit_callbacks, name="Mug", description="Ceramic.", price="9")

    # when
    again = products_embed(account_id=tenants.a.id, product_ids=[mug.pk])
    with django_capture_on_commit_callbacks(execute=True) as price_only:
        product_update(product=mug, actor=tenants.alice_membership, price="11")
    with django_capture_on_commit_callbacks(execute=True) as renamed:
        product_update(product=mug, actor=tenants.alice_membership, description="A ceramic cup with a handle.")

    # then
    assert again == 0
    assert (len(price_only), len(renamed)) == (0, 1)
    assert _stored(tenants.a, mug.pk)[0] == (MODEL, embedding_digest(MODEL, "Mug", "A ceramic cup with a handle."))
    assert [f for f, _m, _c in _usage(tenants.a)] == [INDEX_FEATURE, INDEX_FEATURE]
    assert _names(product_search(account=tenants.a, query=TEA)) == ["Mug"]


def test_an_import_embeds_every_row(tenants, minilm, django_capture_on_commit_callbacks):
    # given
    data = (
        b"name,description,price,currency,sku\nMug,A ceramic cup with a handle.,9,USD,M1\nScarf,Warm wool.,20,USD,S1\n"
    )

    # when
    with django_capture_on_commit_callbacks(execute=True) as scheduled:
        products_import_csv(account=tenants.a, actor=tenants.alice_membership, file=io.BytesIO(data))

    # then
    with account_context(tenants.a.id):
        rows = sorted(Product.objects.filter(account=tenants.a).values_list("name", "embedding_model"))
    assert (len(scheduled), rows) == (1, [("Mug", MODEL), ("Scarf", MODEL)])
    assert _names(product_search(account=tenants.a, query=TEA)) == ["Mug"]


def test_the_sweep_embeds_what_was_written_around_the_services(tenants, minilm, django_capture_on_commit_callbacks):
    # given: one product never embedded, one edited in place after it was (as the admin saves)
    fresh = ProductFactory(account=tenants.a, name="Mug", description="A ceramic cup with a handle.")
    edited = _create(tenants, django_capture_on_commit_callbacks, name="Scarf", description="Warm.", price="20")
    with account_context(tenants.a.id):
        Product.objects.filter(pk=edited.pk).update(description="Warm wool, for winter.")

    # when
    stale = products_embedding_stale()
    queued = products_embed_sweep()

    # then
    assert [(account, sorted(ids)) for account, ids in stale] == [
        (str(tenants.a.id), sorted([str(fresh.pk), str(edited.pk)]))
    ]
    assert queued == 2
    assert products_embedding_stale() == []
    assert _stored(tenants.a, edited.pk)[0] == (MODEL, embedding_digest(MODEL, "Scarf", "Warm wool, for winter."))


def test_meaning_search_is_off_when_the_default_model_has_another_size(tenants, minilm, settings,
                                                                       django_capture_on_commit_callbacks):  # fmt: skip
    # given
    from aiplatform.ai.models import AiModel

    mug = _create(tenants, django_capture_on_commit_callbacks, name="Mug", description="A ceramic cup.", price="9")
    AiModel.objects.create(name="wide-embedder", provider="local", provider_model="all-MiniLM-L6-v2",
                           kind="embedding", dimensions=768)  # fmt: skip
    settings.AI_DEFAULT_EMBEDDING_MODEL = "wide-embedder"

    # when
    stored = products_embed(account_id=tenants.a.id, product_ids=[mug.pk])
    found = product_search(account=tenants.a, query=TEA)

    # then: nothing embedded with it, words only (which find nothing here)
    assert (stored, found) == (0, [])
    assert [f for f, _m, _c in _usage(tenants.a)] == [INDEX_FEATURE]
