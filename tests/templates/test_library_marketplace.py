"""Component library and marketplace: saving, sharing, search ranking, likes,
free use and the money path of buying (ledger, fee, idempotency, 402)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.flags import feature_set
from accounts.models import AppSetting
from accounts.tenancy.context import account_context, rls_bypass
from aiplatform.errors import Conflict, InvalidInput
from billing.models import CreditTransaction, Wallet
from templates.models.library import LibraryComponent, LibraryDownload, LibraryPurchase
from templates.services import library as svc
from tests.billing.factories import fund

pytestmark = pytest.mark.django_db

HOSTILE = (
    '<section class="hero" onclick="steal()"><h1>Hi</h1><script>alert(1)</script>'
    '<a href="javascript:alert(2)">x</a><img src="x" onerror="alert(3)"></section>'
)


def _save(account, membership, **data):
    base = {"name": "Hero", "description": "", "category": "hero", "tags": [], "component_type": "hero_section",
            "code": "<section><h1>Hello</h1></section>"}  # fmt: skip
    return svc.library_component_save(account=account, actor=membership, data={**base, **data})


def _balance(account) -> Decimal:
    with account_context(account.id):
        return Wallet.objects.get(account=account).balance


@pytest.fixture
def listing(tenants):
    """Carol (account B) sells "Pricing table" for 50 credits; A has 100 credits."""
    row = _save(tenants.b, tenants.carol_membership, name="Pricing table", component_type="pricing")
    svc.library_component_share(
        account=tenants.b, actor=tenants.carol_membership, component_id=row.pk, visibility="marketplace", price="50"
    )
    fund(tenants.a, "100")
    fund(tenants.b, "10")
    return row


def test_saved_code_is_sanitised_and_props_schema_checked(tenants):
    # when
    row = _save(tenants.a, tenants.alice_membership, code=HOSTILE, tags=["Hero", "hero", "Dark mode"])
    # then
    assert "<script" not in row.code and "onclick" not in row.code and "onerror" not in row.code
    assert "javascript:" not in row.code
    assert "<h1>Hi</h1>" in row.code
    assert row.tags == ["hero", "dark mode"]
    with pytest.raises(InvalidInput):
        _save(tenants.a, tenants.alice_membership, props_schema={"type": "nonsense"})


def test_search_ranks_name_matches_above_description_matches_and_filters(tenants):
    # given
    m = tenants.carol_membership
    desc = _save(tenants.b, m, name="Banner", description="A testimonial carousel with photos", category="social")
    name = _save(tenants.b, m, name="Testimonial grid", description="Three quotes", category="social",
                 tags=["quotes"])  # fmt: skip
    other = _save(tenants.b, m, name="Footer", description="Links", category="layout", tags=["quotes"])
    for row in (desc, name, other):
        svc.library_component_share(account=tenants.b, actor=m, component_id=row.pk, visibility="public")
    from templates.library_selectors import library_search

    # when
    with account_context(tenants.a.id):
        ranked = [r.name for r in library_search(tenants.a, q="testimonials")]
        by_tag = [r.name for r in library_search(tenants.a, tags=["quotes"], sort="newest")]
        by_category = [r.name for r in library_search(tenants.a, q="quotes", category="layout")]
        excluded = [r.name for r in library_search(tenants.a, q="testimonial -carousel")]
    # then
    assert ranked == ["Testimonial grid", "Banner"]
    assert by_tag == ["Footer", "Testimonial grid"]
    assert by_category == ["Footer"]
    assert excluded == ["Testimonial grid"]


def test_private_and_unlisted_components_are_invisible_to_other_accounts(tenants, api_client):
    # given
    private = _save(tenants.b, tenants.carol_membership, name="Secret hero")
    shared = _save(tenants.b, tenants.carol_membership, name="Shared hero")
    svc.library_component_share(account=tenants.b, actor=tenants.carol_membership, component_id=shared.pk,
                                visibility="public")  # fmt: skip
    svc.library_unlist(component_id=shared.pk, operator=None)
    api_client.force_login(tenants.alice)
    # then
    for row in (private, shared):
        assert api_client.get(f"/api/v1/marketplace/{row.pk}/").status_code == 404
        assert api_client.post(f"/api/v1/marketplace/{row.pk}/like/").status_code == 404
        assert api_client.post(f"/api/v1/marketplace/{row.pk}/buy/").status_code == 404
        assert api_client.get(f"/api/v1/library-components/{row.pk}/").status_code == 404
    assert api_client.get("/api/v1/marketplace/").json()["count"] == 0


def test_likes_count_once_per_account(tenants, listing, api_client):
    # given
    api_client.force_login(tenants.alice)
    # when
    api_client.post(f"/api/v1/marketplace/{listing.pk}/like/")
    second = api_client.post(f"/api/v1/marketplace/{listing.pk}/like/")
    # then
    assert second.status_code == 200
    assert second.json()["likes"] == 1 and second.json()["liked"] is True
    api_client.force_login(tenants.bob)  # same account
    assert api_client.post(f"/api/v1/marketplace/{listing.pk}/like/").json()["likes"] == 1
    assert api_client.delete(f"/api/v1/marketplace/{listing.pk}/like/").json()["likes"] == 0


def test_buying_moves_credits_buyer_to_seller_minus_fee_in_the_ledger(tenants, listing, api_client):
    # given
    api_client.force_login(tenants.alice)
    # when
    response = api_client.post(f"/api/v1/marketplace/{listing.pk}/buy/", HTTP_IDEMPOTENCY_KEY="buy-1")
    # then
    assert response.status_code == 201, response.json()
    body = response.json()
    assert Decimal(body["price"]) == Decimal("50") and Decimal(body["platform_fee"]) == Decimal("10")
    assert _balance(tenants.a) == Decimal("50")
    assert _balance(tenants.b) == Decimal("50")  # 10 + 50 - 20% fee
    with rls_bypass("test"):
        types = {(t.account_id, t.type, t.amount) for t in CreditTransaction.objects.filter(
            reference_type="library_purchase")}  # fmt: skip
        copy = LibraryComponent.objects.get(pk=body["copy_id"])
        listing.refresh_from_db()
    assert types == {(tenants.a.id, "purchase", Decimal("-50")), (tenants.b.id, "sale", Decimal("40"))}
    assert copy.account_id == tenants.a.id and copy.name == "Pricing table" and not copy.is_public
    assert listing.downloads == 1


def test_the_seller_lists_its_sales_with_the_earning_after_the_fee(tenants, listing, api_client):
    # given alice bought carol's 50-credit listing (20% fee)
    api_client.force_login(tenants.alice)
    assert api_client.post(f"/api/v1/marketplace/{listing.pk}/buy/").status_code == 201

    # when carol lists her sales
    api_client.force_login(tenants.carol)
    response = api_client.get("/api/v1/library-sales/")

    # then the one sale is there with price, fee and what reached her
    assert response.status_code == 200, response.content
    [sale] = response.json()["results"]
    assert (sale["component_name"], sale["status"]) == ("Pricing table", "completed")
    amounts = [Decimal(sale[k]) for k in ("price", "platform_fee", "earning")]
    assert amounts == [Decimal("50"), Decimal("10"), Decimal("40")]


def test_buying_twice_charges_once(tenants, listing, api_client):
    # given
    api_client.force_login(tenants.alice)
    first = api_client.post(f"/api/v1/marketplace/{listing.pk}/buy/", HTTP_IDEMPOTENCY_KEY="k1")
    # when
    replay = api_client.post(f"/api/v1/marketplace/{listing.pk}/buy/", HTTP_IDEMPOTENCY_KEY="k1")
    again = api_client.post(f"/api/v1/marketplace/{listing.pk}/buy/")
    # then
    assert first.status_code == 201 and replay.status_code == 200 and again.status_code == 200
    assert replay.json()["id"] == first.json()["id"] == again.json()["id"]
    assert _balance(tenants.a) == Decimal("50")
    with account_context(tenants.a.id):
        assert LibraryPurchase.objects.filter(account=tenants.a).count() == 1
        assert LibraryComponent.objects.filter(account=tenants.a).count() == 1
        assert LibraryDownload.objects.filter(account=tenants.a).count() == 1


def test_buying_with_too_few_credits_is_402_and_moves_nothing(tenants, listing, api_client):
    # given
    svc.library_component_share(account=tenants.b, actor=tenants.carol_membership, component_id=listing.pk,
                                visibility="marketplace", price="150")  # fmt: skip
    api_client.force_login(tenants.alice)
    # when
    response = api_client.post(f"/api/v1/marketplace/{listing.pk}/buy/")
    # then
    assert response.status_code == 402
    assert response.json()["error"]["code"] == "insufficient_credits"
    assert _balance(tenants.a) == Decimal("100") and _balance(tenants.b) == Decimal("10")
    with rls_bypass("test"):
        assert not LibraryPurchase.objects.exists()
        assert LibraryComponent.objects.filter(account=tenants.a).count() == 0
        assert not CreditTransaction.objects.filter(reference_type="library_purchase").exists()


def test_the_operators_fee_setting_decides_the_sellers_share(tenants, listing):
    # given
    AppSetting.objects.create(key="marketplace.fee_percent", value={"value": "35"})
    # when
    result = svc.library_buy(account=tenants.a, actor=tenants.alice_membership, component_id=listing.pk)
    # then
    assert result.purchase.platform_fee == Decimal("17.50")
    assert _balance(tenants.b) == Decimal("10") + Decimal("32.50")


def test_a_refund_gives_the_buyer_the_price_and_takes_back_the_sellers_earning(tenants, listing, admin_user):
    # given
    result = svc.library_buy(account=tenants.a, actor=tenants.alice_membership, component_id=listing.pk)
    # when
    purchase = svc.library_purchase_refund(purchase_id=result.purchase.pk, operator=admin_user, reason="broken")
    # then
    assert purchase.status == "refunded"
    assert _balance(tenants.a) == Decimal("100") and _balance(tenants.b) == Decimal("10")
    with pytest.raises(Conflict):
        svc.library_purchase_refund(purchase_id=result.purchase.pk, operator=admin_user, reason="again")


def test_free_public_component_is_used_not_bought(tenants, api_client):
    # given
    row = _save(tenants.b, tenants.carol_membership, name="Free footer", component_type="footer")
    svc.library_component_share(account=tenants.b, actor=tenants.carol_membership, component_id=row.pk,
                                visibility="public")  # fmt: skip
    api_client.force_login(tenants.alice)
    # when
    used = api_client.post(f"/api/v1/marketplace/{row.pk}/use/")
    api_client.post(f"/api/v1/marketplace/{row.pk}/use/")
    # then
    assert used.status_code == 201 and used.json()["is_own"] is True
    row.refresh_from_db()
    assert row.downloads == 1
    assert api_client.post(f"/api/v1/marketplace/{row.pk}/buy/").json()["error"]["code"] == "not_for_sale"


def test_priced_listing_hides_its_code_until_bought(tenants, listing, api_client):
    api_client.force_login(tenants.alice)
    assert api_client.get(f"/api/v1/marketplace/{listing.pk}/").json()["code"] is None
    api_client.post(f"/api/v1/marketplace/{listing.pk}/buy/")
    assert api_client.get(f"/api/v1/marketplace/{listing.pk}/").json()["code"].startswith("<section>")


def test_marketplace_switched_off_for_an_account_refuses_sharing_and_buying(tenants, listing, api_client):
    # given
    feature_set("marketplace", account_id=tenants.a.id, account_value=False)
    api_client.force_login(tenants.alice)
    own = _save(tenants.a, tenants.alice_membership, name="Mine")
    # when
    buy = api_client.post(f"/api/v1/marketplace/{listing.pk}/buy/")
    share = api_client.post(f"/api/v1/library-components/{own.pk}/share/", {"visibility": "public"}, format="json")
    # then
    assert buy.status_code == 403 and buy.json()["error"]["code"] == "feature_disabled"
    assert share.status_code == 403
    assert _balance(tenants.a) == Decimal("100")
    # the platform switch stays on: B may still list
    svc.library_component_share(account=tenants.b, actor=tenants.carol_membership, component_id=listing.pk,
                                visibility="public")  # fmt: skip


def test_marketplace_list_is_a_fixed_number_of_queries(tenants, api_client):
    # given
    for i in range(6):
        row = _save(tenants.b, tenants.carol_membership, name=f"Hero {i}")
        svc.library_component_share(account=tenants.b, actor=tenants.carol_membership, component_id=row.pk,
                                    visibility="public")  # fmt: skip
    api_client.force_login(tenants.alice)
    api_client.get("/api/v1/marketplace/")
    # when
    with CaptureQueriesContext(connection) as few:
        api_client.get("/api/v1/marketplace/?q=hero")
    for i in range(6, 12):
        row = _save(tenants.b, tenants.carol_membership, name=f"Hero {i}")
        svc.library_component_share(account=tenants.b, actor=tenants.carol_membership, component_id=row.pk,
                                    visibility="public")  # fmt: skip
    with CaptureQueriesContext(connection) as many:
        response = api_client.get("/api/v1/marketplace/?q=hero")
    # then
    assert response.json()["count"] == 12
    assert len(many.captured_queries) == len(few.captured_queries)
