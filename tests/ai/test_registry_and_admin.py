"""The model registry: seeded entries, the in-process cache, the operators' admin."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages

from accounts.models import User
from aiplatform.ai import gateway
from aiplatform.ai.models import AiModel
from aiplatform.ai.registry import default_model, model_entry
from aiplatform.ai.types import ChatMessage
from billing.services.reservations import reservation_hold
from tests.accounts.factories import UserFactory
from tests.ai.conftest import balance, usage_rows, use_rows

pytestmark = pytest.mark.django_db


def test_the_registry_is_seeded_with_the_offline_model_on_and_hosted_models_off():
    rows = {m.name: m for m in AiModel.objects.all()}
    local = rows["local-assistant"]
    assert (local.provider, local.kind, local.enabled) == ("local", "chat", True)
    assert (local.credits_in_per_1k, local.credits_out_per_1k, local.price_in_per_mtok) == (1, 1, 0)
    mini = rows["gpt-4o-mini"]
    assert (mini.provider, mini.enabled, mini.price_in_per_mtok, mini.price_out_per_mtok) == (
        "openai", False, Decimal("0.15"), Decimal("0.6"))  # fmt: skip
    embedding = rows["text-embedding-3-small"]
    assert (embedding.kind, embedding.dimensions, embedding.enabled) == ("embedding", 1536, False)
    assert rows["claude-sonnet-4"].provider == "anthropic" and not rows["claude-sonnet-4"].enabled
    assert model_entry("local-assistant").provider == "local"
    assert model_entry(default_model()).name == "local-assistant"  # the default works offline


def test_entries_are_cached_and_a_save_is_seen_at_once(chat_model, django_assert_num_queries):
    assert model_entry("test-model").credits_out_per_1k == Decimal("2")
    with django_assert_num_queries(0):
        model_entry("test-model")
    chat_model.credits_out_per_1k = Decimal("3")
    chat_model.save()
    assert model_entry("test-model").credits_out_per_1k == Decimal("3")


def test_opening_a_stream_costs_only_the_shut_off_guard(tenants, chat_model, model_server, django_assert_num_queries):
    # given a warm registry cache
    model_entry("test-model")
    messages = [ChatMessage("user", "hi")]
    # then before the first token only the shut-off guard: its tenant context (set and, nested
    # in the test's transaction, restored inside a savepoint) and one indexed select
    with django_assert_num_queries(5):
        stream = gateway.stream(account=tenants.a, model="test-model", feature="chat", messages=messages)
        assert next(stream) == "Echo: "
    stream.close()
    # and while the account's pass is fresh, none at all
    with django_assert_num_queries(0):
        stream = gateway.stream(account=tenants.a, model="test-model", feature="chat", messages=messages)
        assert next(stream) == "Echo: "
    stream.close()


def test_a_reservation_is_settled_with_the_price(payer, chat_model, model_server):
    # given 5 credits held for the answer
    hold = reservation_hold(account=payer.account, amount="5")
    model_server.reply("Done.", usage={"prompt_tokens": 1000, "completion_tokens": 500})
    # when
    done = gateway.complete(account=payer.account, model="test-model", feature="chat", reservation=hold,
                            messages=[ChatMessage("user", "go")])  # fmt: skip
    # then the actual price is charged and the hold is lifted
    assert done.credits == done.price == Decimal("2.0000")
    from billing.services.ledger import wallet_for

    wallet = wallet_for(payer.account)
    assert (wallet.balance, wallet.reserved) == (Decimal("98.0000"), Decimal("0.0000"))
    assert [t.amount for t in use_rows(payer.account)] == [Decimal("-2.0000")]
    assert usage_rows(payer.account)[0].credits == Decimal("2.0000")


def test_a_failed_call_releases_its_reservation_without_charge(payer, chat_model, model_server):
    hold = reservation_hold(account=payer.account, amount="5")
    model_server.fail(500, times=3)
    with pytest.raises(Exception):  # noqa: B017 - the provider error itself is tested elsewhere
        gateway.complete(account=payer.account, model="test-model", feature="chat", reservation=hold.id,
                         messages=[ChatMessage("user", "go")])  # fmt: skip
    from billing.services.ledger import wallet_for

    assert wallet_for(payer.account).reserved == Decimal("0.0000")
    assert balance(payer.account) == Decimal("100.0000") and use_rows(payer.account) == []


# --- admin -------------------------------------------------------------------------------


@pytest.fixture
def operator_client(client):
    client.force_login(UserFactory(role=User.PlatformRole.SUPER_ADMIN, is_superuser=True))
    return client


def test_the_admin_lists_models_with_prices_and_an_enabled_toggle(operator_client):
    response = operator_client.get("/admin/ai/aimodel/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "gpt-4o-mini" in html and "0.150000" in html and "local-assistant" in html
    assert 'name="form-0-enabled"' in html  # list_editable
    response = operator_client.get("/admin/ai/aimodel/?q=claude")
    assert "claude-sonnet-4" in response.content.decode() and "gpt-4o-mini" not in response.content.decode()


def test_the_admin_toggles_enabled_from_the_list(operator_client):
    models = list(AiModel.objects.order_by("name"))
    data = {"form-TOTAL_FORMS": len(models), "form-INITIAL_FORMS": len(models), "_save": "Save"}
    for i, model in enumerate(models):
        data[f"form-{i}-id"] = model.pk
        if model.enabled or model.name == "gpt-4o":
            data[f"form-{i}-enabled"] = "on"
    response = operator_client.post("/admin/ai/aimodel/", data)
    assert response.status_code == 302
    assert AiModel.objects.get(name="gpt-4o").enabled is True
    assert model_entry("gpt-4o").provider_model == "gpt-4o"


def test_the_test_action_reports_answers_and_errors(operator_client, chat_model, model_server, settings):
    # given a working loopback model and a hosted one without a key
    settings.AI_OPENAI_BASE_URL = model_server.base_url
    mini = AiModel.objects.get(name="gpt-4o-mini")
    # when
    response = operator_client.post(
        "/admin/ai/aimodel/", {"action": "test_models", "_selected_action": [chat_model.pk, mini.pk]}, follow=True
    )
    # then
    texts = sorted(str(m) for m in get_messages(response.wsgi_request))
    assert texts[0].startswith("gpt-4o-mini answered in")  # the loopback server answers any model
    assert texts[1].startswith("test-model answered in") and "“Echo: Reply with the single word: pong”" in texts[1]
    settings.AI_OPENAI_BASE_URL = "https://api.openai.com/v1"
    settings.AI_OPENAI_API_KEY = ""
    response = operator_client.post(
        "/admin/ai/aimodel/", {"action": "test_models", "_selected_action": [mini.pk]}, follow=True
    )
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    assert message.startswith("gpt-4o-mini failed after") and "set AI_OPENAI_API_KEY" in message
