"""Operators see what holds credits (issue 18): reservations in the admin, read-only."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.models import User
from accounts.tenancy.context import account_context
from billing.models import Reservation, Wallet
from billing.services.ledger import Reference
from billing.services.reservations import reservation_hold, reservation_release
from tests.billing.factories import fund

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/billing/reservation/"


@pytest.fixture
def operator(client):
    client.force_login(User.objects.create_superuser(email="ops@example.com", password="pw-123456789"))
    return client


@pytest.fixture
def held(tenants):
    fund(tenants.a, "100")
    return reservation_hold(account=tenants.a, amount="12.5", reference=Reference("chat_message", "m-4711"))


def _state(account) -> tuple[list[tuple[str, Decimal, str]], Decimal]:
    with account_context(account.id):
        rows = list(Reservation.objects.values_list("reference_id", "amount", "status"))
        return rows, Wallet.objects.get(account=account).reserved


def test_an_operator_sees_a_held_reservation_with_its_account_amount_and_reference(operator, tenants, held):
    # when the operator opens the reservations list
    response = operator.get(CHANGELIST)

    # then the hold is listed with its account, amount, status and reference
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [held]
    html = response.content.decode()
    assert tenants.a.name in html
    assert "12.5000" in html
    assert "Held" in html
    assert "chat_message:m-4711" in html


def test_the_operator_filters_by_status_and_searches_by_reference(operator, tenants, held):
    # given a second reservation that was released
    other = reservation_hold(account=tenants.a, amount="3", reference=Reference("canvas", "c-1"))
    reservation_release(account=tenants.a, reservation_id=other.id)

    # when the operator filters on held, and searches for the released one's reference
    only_held = operator.get(CHANGELIST, {"status__exact": "held"})
    found = operator.get(CHANGELIST, {"q": "c-1"})

    # then each shows exactly the matching reservation
    assert [r.id for r in only_held.context["cl"].result_list] == [held.id]
    assert [(r.id, r.status) for r in found.context["cl"].result_list] == [(other.id, "released")]


def test_the_operator_can_view_but_not_add_change_or_delete_a_reservation(operator, tenants, held):
    # given the reservation and the wallet's hold as they are
    before = _state(tenants.a)
    assert before == ([("m-4711", Decimal("12.5000"), "held")], Decimal("12.5000"))
    change_url = f"{CHANGELIST}{held.pk}/change/"

    # when the operator opens it, then tries to add, change and delete one
    viewed = operator.get(change_url)
    added = operator.post(f"{CHANGELIST}add/", {"amount": "1", "status": "held"})
    changed = operator.post(change_url, {"amount": "1", "status": "released"})
    deleted = operator.post(f"{CHANGELIST}{held.pk}/delete/", {"post": "yes"})
    bulk = operator.post(CHANGELIST, {"action": "delete_selected", "_selected_action": [held.pk], "post": "yes"})

    # then it is shown read-only, every write is refused and nothing changed
    assert viewed.status_code == 200
    assert viewed.context["has_change_permission"] is False
    assert (added.status_code, changed.status_code, deleted.status_code) == (403, 403, 403)
    assert bulk.status_code == 200  # the action does not exist; the list is shown again
    assert _state(tenants.a) == before
