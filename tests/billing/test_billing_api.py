"""The billing REST API: wallet, ledger, plan, usage, cost controls."""

from decimal import Decimal

import pytest

from accounts.tenancy.context import account_context
from billing.models import CostControl, Payment
from billing.services.usage import usage_record
from tests.billing.factories import fund, spend

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_api(tenants, api_client):
    api_client.force_login(tenants.alice)
    return api_client


@pytest.fixture
def bob_api(tenants, api_client):
    api_client.force_login(tenants.bob)
    return api_client


def test_wallet_shows_balance_reserved_and_available(tenants, alice_api):
    fund(tenants.a, "40")
    spend(tenants.a, "2.5")
    body = alice_api.get("/api/v1/wallet/").json()
    assert (body["balance"], body["reserved"], body["available"]) == ("37.5000", "0.0000", "37.5000")


def test_transactions_are_newest_first_and_filter_by_type(tenants, alice_api):
    fund(tenants.a, "10")
    spend(tenants.a, "1")
    spend(tenants.a, "2")
    fund(tenants.b, "99")  # another account's ledger never shows
    rows = alice_api.get("/api/v1/transactions/").json()["results"]
    assert [(r["type"], r["amount"], r["balance_after"]) for r in rows] == [
        ("use", "-2.0000", "7.0000"),
        ("use", "-1.0000", "9.0000"),
        ("bonus", "10.0000", "10.0000"),
    ]
    bonus = alice_api.get("/api/v1/transactions/?type=bonus").json()["results"]
    assert [r["amount"] for r in bonus] == ["10.0000"]
    bad = alice_api.get("/api/v1/transactions/?type=bogus")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "validation_error"


def test_ledger_exports_as_csv(tenants, alice_api):
    fund(tenants.a, "10")
    spend(tenants.a, "1.25")
    response = alice_api.get("/api/v1/transactions/export/")
    lines = b"".join(response.streaming_content).decode().strip().splitlines()
    assert response["Content-Type"].startswith("text/csv")
    assert lines[0] == "created_at,type,amount,balance_after,description,reference_type,reference_id,id"
    assert [line.split(",")[1:4] for line in lines[1:]] == [
        ["use", "-1.2500", "8.7500"],
        ["bonus", "10.0000", "10.0000"],
    ]


def test_plan_shows_limits_and_owners_change_it(tenants, alice_api, settings):
    body = alice_api.get("/api/v1/plan/").json()
    assert body["plan"]["code"] == "free"
    assert {lim["name"]: lim["limit"] for lim in body["limits"]}["users"] == 3
    # a paid plan answers with the provider's checkout; the plan waits for the payment
    changed = alice_api.post("/api/v1/plan/", {"plan": "business"}, format="json")
    with account_context(tenants.a.id):
        payment = Payment.objects.get(account=tenants.a, kind="subscription")
    assert changed.status_code == 200
    assert {k: changed.json()[k] for k in ("outcome", "checkout_url", "payment_id")} == {
        "outcome": "checkout",
        "checkout_url": f"{settings.SITE_URL}/billing/dev-checkout/{payment.pk}/",
        "payment_id": str(payment.pk),
    }
    assert changed.json()["subscription"]["plan"]["code"] == "free"
    assert alice_api.get("/api/v1/plan/").json()["plan"]["code"] == "free"
    unknown = alice_api.post("/api/v1/plan/", {"plan": "gold"}, format="json")
    assert unknown.status_code == 400 and unknown.json()["error"]["fields"] == {"plan": ["Choose an available plan."]}


def test_a_member_cannot_change_plan_or_cost_controls(tenants, bob_api):
    assert bob_api.post("/api/v1/plan/", {"plan": "agency"}, format="json").status_code == 403
    assert bob_api.put("/api/v1/cost-controls/", {"daily_limit": "5"}, format="json").status_code == 403
    assert bob_api.post("/api/v1/cost-controls/shutoff/", {}, format="json").status_code == 403
    with account_context(tenants.a.id):
        assert not CostControl.objects.filter(account=tenants.a, shutoff_active=True).exists()


def test_cost_controls_and_shutoff_round_trip(tenants, alice_api):
    put = alice_api.put("/api/v1/cost-controls/", {"daily_limit": "5", "monthly_limit": "50"}, format="json")
    assert put.json()["daily_limit"] == "5.0000"
    on = alice_api.post("/api/v1/cost-controls/shutoff/", {"reason": "audit"}, format="json").json()
    assert (on["shutoff_active"], on["shutoff_reason"]) == (True, "audit")
    off = alice_api.delete("/api/v1/cost-controls/shutoff/").json()
    assert off["shutoff_active"] is False


def test_usage_reports_per_day_feature_and_model(tenants, alice_api):
    usage_record(account=tenants.a, user=tenants.alice, feature="chat", model="m1", provider="p", credits="3")
    body = alice_api.get("/api/v1/usage/?days=3").json()
    assert body["days"] == 3 and len(body["daily"]) == 3
    assert body["daily"][-1]["calls"] == 1
    assert body["by_model"] == [{"model": "m1", "credits": "3.0000", "calls": 1, "cost": "0.000000"}]
    assert alice_api.get("/api/v1/usage/?days=0").status_code == 400


def test_api_requests_are_logged_per_account(tenants, alice_api):
    from billing.models import ApiRequestLog

    alice_api.get("/api/v1/wallet/")
    with account_context(tenants.a.id):
        log = ApiRequestLog.objects.get()
    assert (log.endpoint, log.request_type, log.status_code, log.service_name) == (
        "/api/v1/wallet/",
        "GET",
        200,
        "wallet",
    )
    assert log.user_id == tenants.alice.id


def test_insufficient_credits_error_carries_balance_and_price(tenants):
    from aiplatform.api.errors import exception_handler
    from aiplatform.errors import InsufficientCredits

    fund(tenants.a, "1")
    with pytest.raises(InsufficientCredits) as err:
        spend(tenants.a, "5")
    response = exception_handler(err.value, {})
    assert response.status_code == 402
    assert response.data == {
        "error": {
            "code": "insufficient_credits",
            "message": "Not enough credits: this costs 5.0000 and 1.0000 are available. Top up to continue.",
            "balance": "1.0000",
            "price": "5.0000",
        }
    }
    assert Decimal(response.data["error"]["balance"]) == Decimal("1")


def test_top_up_with_an_idempotency_key_creates_one_payment(tenants, alice_api):
    from billing.models import Payment

    headers = {"HTTP_IDEMPOTENCY_KEY": "order-42"}
    first = alice_api.post("/api/v1/top-ups/", {"pack": "small"}, format="json", **headers)
    again = alice_api.post("/api/v1/top-ups/", {"pack": "small"}, format="json", **headers)
    other = alice_api.post("/api/v1/top-ups/", {"pack": "large"}, format="json", **headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert first.json()["checkout_url"].endswith(f"/billing/dev-checkout/{first.json()['id']}/")
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_key_reused"
    with account_context(tenants.a.id):
        assert Payment.objects.count() == 1


def test_a_member_cannot_buy_credits(tenants, bob_api):
    response = bob_api.post("/api/v1/top-ups/", {"pack": "small"}, format="json")
    assert response.status_code == 403
    assert bob_api.post("/api/v1/top-ups/", {"pack": "nope"}, format="json").status_code == 403


@pytest.mark.parametrize("rows", [3, 40])
def test_transaction_list_query_count_does_not_grow_with_rows(tenants, alice_api, rows):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    fund(tenants.a, "1000", actor=tenants.alice)
    for _ in range(rows - 1):
        spend(tenants.a, "1", actor=tenants.alice)
    with CaptureQueriesContext(connection) as queries:
        response = alice_api.get("/api/v1/transactions/")
    assert len(response.json()["results"]) == rows
    # user, savepoint, user context, membership, last_active_at, tenant context, count,
    # page (actors joined), the api_usage_logs row, release: the same for 3 or 40 rows
    assert len(queries) == 10
