"""/api/v1/channels/ and /api/v1/customers/: what is shown (never a token),
who may change a channel, the persona it may be bound to, disconnecting."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Role
from accounts.tenancy.context import account_context
from channels_bot.models import ConnectedChannel
from tests.accounts.factories import MembershipFactory
from tests.channels_bot.factories import ChannelFactory, CustomerFactory, OrderFactory
from tests.personas.factories import PersonaFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/channels/"


@pytest.fixture
def page(tenants):
    return ChannelFactory(
        account=tenants.a, channel_name="Acme Page", platform_specific_id="1234567",
        access_token="EAAG-SECRET-PAGE-TOKEN", refresh_token="REFRESH-SECRET",
        token_expires_at=timezone.now() + timedelta(days=50),
    )  # fmt: skip


def _stored(tenants, channel) -> ConnectedChannel:
    with account_context(tenants.a.id):
        return ConnectedChannel.objects.get(pk=channel.pk)


def test_channels_show_their_state_and_never_a_token(api_client, tenants, page):
    # given a viewer of A
    viewer = MembershipFactory(account=tenants.a, role=Role.VIEWER).user
    api_client.force_login(viewer)

    # when they list and open the channels
    listed = api_client.get(URL)
    one = api_client.get(f"{URL}{page.pk}/")

    # then they see the page's state, and neither token appears anywhere
    assert listed.status_code == one.status_code == 200
    body = one.json()
    assert (body["platform"], body["channel_name"], body["auth_state"], body["needs_reconnect"]) == (
        "FACEBOOK_PAGE", "Acme Page", "ok", False,
    )  # fmt: skip
    assert body["is_active"] is True and body["persona"] is None and body["last_webhook_at"] is None
    assert body["token_expires_at"] is not None
    for raw in (listed.content, one.content):
        assert b"SECRET" not in raw
    assert "access_token" not in body and "refresh_token" not in body


def test_an_admin_renames_pauses_and_binds_a_persona(api_client, tenants, page):
    # given an account persona of A
    persona = PersonaFactory(account=tenants.a, created_by=tenants.alice, name="Ada")
    api_client.force_login(tenants.alice)

    # when alice (owner) changes the channel
    response = api_client.patch(
        f"{URL}{page.pk}/", {"channel_name": " Acme Shop ", "is_active": False, "persona": str(persona.pk)},
        format="json",
    )  # fmt: skip

    # then it is renamed, paused and bound
    assert response.status_code == 200
    assert response.json()["persona"] == {"id": str(persona.pk), "name": "Ada"}
    stored = _stored(tenants, page)
    assert (stored.channel_name, stored.is_active, stored.persona_id) == ("Acme Shop", False, persona.pk)

    # and null unbinds it
    assert api_client.patch(f"{URL}{page.pk}/", {"persona": None}, format="json").json()["persona"] is None
    assert _stored(tenants, page).persona_id is None


def test_a_persona_of_another_account_is_refused(api_client, tenants, page):
    foreign = PersonaFactory(account=tenants.b, created_by=tenants.carol)
    api_client.force_login(tenants.alice)
    response = api_client.patch(f"{URL}{page.pk}/", {"persona": str(foreign.pk)}, format="json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert _stored(tenants, page).persona_id is None


def test_a_blank_name_is_a_400(api_client, tenants, page):
    api_client.force_login(tenants.alice)
    response = api_client.patch(f"{URL}{page.pk}/", {"channel_name": "  "}, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["channel_name"]
    assert _stored(tenants, page).channel_name == "Acme Page"


def test_a_member_cannot_change_or_disconnect_a_channel(api_client, tenants, page):
    api_client.force_login(tenants.bob)
    assert api_client.patch(f"{URL}{page.pk}/", {"is_active": False}, format="json").status_code == 403
    assert api_client.delete(f"{URL}{page.pk}/").status_code == 403
    stored = _stored(tenants, page)
    assert (stored.is_active, stored.access_token, stored.auth_state) == (True, "EAAG-SECRET-PAGE-TOKEN", "ok")


def test_disconnect_erases_the_tokens_and_keeps_the_history(api_client, tenants, page, fake_platform):
    # given the page has a customer with an order
    OrderFactory(customer=CustomerFactory(channel=page))
    api_client.force_login(tenants.alice)

    # when alice disconnects it
    response = api_client.delete(f"{URL}{page.pk}/")

    # then the tokens are gone, the bot stopped, the channel asks for a reconnect, the order stays
    assert response.status_code == 204
    stored = _stored(tenants, page)
    assert (stored.access_token, stored.refresh_token, stored.token_expires_at) == ("", None, None)
    assert (stored.is_active, stored.auth_state) == (False, "needs_reconnect")
    assert stored.auth_error.startswith("Disconnected by ")
    with account_context(tenants.a.id):
        assert stored.orders.count() == 1
    assert api_client.get(f"{URL}{page.pk}/").json()["needs_reconnect"] is True


def test_another_accounts_channel_is_a_404(api_client, tenants, page):
    foreign = ChannelFactory(account=tenants.b, channel_name="B page")
    api_client.force_login(tenants.alice)
    assert api_client.get(f"{URL}{foreign.pk}/").status_code == 404
    assert api_client.patch(f"{URL}{foreign.pk}/", {"is_active": False}, format="json").status_code == 404
    assert api_client.delete(f"{URL}{foreign.pk}/").status_code == 404
    with account_context(tenants.b.id):
        assert ConnectedChannel.objects.get(pk=foreign.pk).is_active is True


def test_customers_list_with_search_and_order_count(api_client, tenants, page):
    # given two customers of A, one with two orders, and one of B
    kim = CustomerFactory(channel=page, full_name="Kim Minji", platform_customer_id="PSID-KIM")
    CustomerFactory(channel=page, full_name="Lee Jun", platform_customer_id="PSID-LEE")
    OrderFactory(customer=kim)
    OrderFactory(customer=kim)
    CustomerFactory(channel=ChannelFactory(account=tenants.b), full_name="Kim Foreign")
    api_client.force_login(tenants.bob)

    # when bob searches for "kim"
    body = api_client.get("/api/v1/customers/?search=kim").json()

    # then only A's Kim, with her order count and channel
    assert body["count"] == 1
    found = body["results"][0]
    assert (found["full_name"], found["order_count"], found["channel_name"]) == ("Kim Minji", 2, "Acme Page")
    assert api_client.get(f"/api/v1/customers/{kim.pk}/").json()["order_count"] == 2
    assert api_client.get("/api/v1/customers/").json()["count"] == 2
