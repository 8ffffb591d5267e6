"""Campaigns: create within the plan's monthly campaigns, the status machine
(in the service and in the database), ranked full-text search, and the API's
tenancy (a foreign id is a 404)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from accounts.tenancy.context import account_context
from aiplatform.errors import Conflict, Forbidden, LimitReached
from billing.models import Plan
from canvas.models import Campaign, CampaignPage, CampaignStatus
from canvas.services.builder.campaigns import campaign_create, campaign_transition, campaigns_search
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.canvas.builder.factories import CampaignFactory, ComponentFactory

pytestmark = pytest.mark.django_db


def test_a_member_creates_a_campaign_with_a_unique_public_slug(tenants):
    campaign = campaign_create(account=tenants.a, actor=tenants.bob_membership, name="Spring Shoes!",
                               goals="collect leads\nsell shoes")  # fmt: skip
    assert campaign.status == CampaignStatus.DRAFT
    assert campaign.slug.startswith("spring-shoes-") and len(campaign.slug) == len("spring-shoes-") + 6
    assert campaign.goals == ["collect leads", "sell shoes"]


def test_a_viewer_cannot_create_a_campaign(tenants):
    viewer = MembershipFactory(account=tenants.a, user=UserFactory(), role="viewer")
    with pytest.raises(Forbidden):
        campaign_create(account=tenants.a, actor=viewer, name="Nope")
    with account_context(tenants.a.id):
        assert not Campaign.objects.exists()


def test_the_plans_monthly_campaigns_stop_a_new_one_with_the_figures(tenants):
    Plan.objects.filter(code="free").update(monthly_campaigns=2)
    for name in ("One", "Two"):
        campaign_create(account=tenants.a, actor=tenants.bob_membership, name=name)
    with pytest.raises(LimitReached) as caught:
        campaign_create(account=tenants.a, actor=tenants.bob_membership, name="Three")
    assert caught.value.extra == {"limit": 2, "used": 2, "name": "monthly_campaigns"}
    assert "allows 2 new campaigns a month" in caught.value.message
    with account_context(tenants.a.id):
        assert Campaign.objects.filter(account=tenants.a).count() == 2


def test_only_allowed_transitions_happen(tenants):
    campaign = CampaignFactory(account=tenants.a)
    with pytest.raises(Conflict) as caught:
        campaign_transition(campaign=campaign, actor=tenants.bob_membership, status=CampaignStatus.LAUNCHED)
    assert caught.value.code == "invalid_transition"
    assert caught.value.extra["allowed"] == ["generating", "ready", "archived"]
    with account_context(tenants.a.id):
        campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


def test_the_database_refuses_a_transition_off_the_machine(tenants):
    campaign = CampaignFactory(account=tenants.a)
    with account_context(tenants.a.id):
        with pytest.raises(IntegrityError), transaction.atomic():
            Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.LAUNCHED)
        Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.ARCHIVED)
        with pytest.raises(IntegrityError), transaction.atomic():
            Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.DRAFT)
        assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.ARCHIVED


def test_launching_publishes_the_page_and_an_empty_page_cannot_launch(tenants):
    empty = CampaignFactory(account=tenants.a, status=CampaignStatus.READY)
    with pytest.raises(Conflict) as caught:
        campaign_transition(campaign=empty, actor=tenants.bob_membership, status=CampaignStatus.LAUNCHED)
    assert caught.value.code == "page_empty"
    campaign = CampaignFactory(account=tenants.a, status=CampaignStatus.READY)
    component = ComponentFactory(campaign=campaign)
    launched = campaign_transition(campaign=campaign, actor=tenants.bob_membership, status=CampaignStatus.LAUNCHED)
    assert launched.status == CampaignStatus.LAUNCHED and launched.launched_at is not None
    with account_context(tenants.a.id):
        page = CampaignPage.objects.get(campaign=campaign)
        assert not CampaignPage.objects.filter(campaign=empty).exists()
    assert page.is_published and page.version == 1
    assert f'data-component-id="{component.pk}"' in page.html and "Run further" in page.html


def test_search_ranks_name_matches_above_description_matches(tenants):
    with_name = CampaignFactory(account=tenants.a, name="Marathon shoes", description="spring sale")
    with_goal = CampaignFactory(account=tenants.a, name="Spring", description="", goals=["sell marathon gear"])
    in_text = CampaignFactory(account=tenants.a, name="Sale", description="gear for a marathon runner")
    CampaignFactory(account=tenants.a, name="Yoga mats", description="stretch", target_audience="yogis", goals=[])
    CampaignFactory(account=tenants.b, name="Marathon of B")  # another account's: never found
    with account_context(tenants.a.id):
        found = list(campaigns_search(tenants.a, q="marathons"))  # stemmed: marathons ~ marathon
    assert [c.pk for c in found] == [with_name.pk, with_goal.pk, in_text.pk]
    assert found[0].rank > found[1].rank > found[2].rank


def test_the_search_vector_follows_an_edit(tenants):
    campaign = CampaignFactory(account=tenants.a, name="Old name", description="", target_audience="", goals=[])
    with account_context(tenants.a.id):
        Campaign.objects.filter(pk=campaign.pk).update(target_audience="triathletes")
        assert [c.pk for c in campaigns_search(tenants.a, q="triathlete")] == [campaign.pk]
        with connection.cursor() as cur:
            cur.execute("SELECT search_vector::text FROM canvas_campaigns WHERE id = %s", [campaign.pk])
            assert "'triathlet':" in cur.fetchone()[0]


def test_api_lists_searches_and_hides_other_accounts(api_client, tenants):
    mine = CampaignFactory(account=tenants.a, name="Marathon shoes")
    CampaignFactory(account=tenants.a, name="Yoga", description="", target_audience="", goals=[])
    theirs = CampaignFactory(account=tenants.b, name="Marathon B")
    api_client.force_login(tenants.bob)
    body = api_client.get("/api/v1/campaigns/", {"q": "marathon"}).json()
    assert [r["id"] for r in body["results"]] == [str(mine.pk)]
    assert body["results"][0]["rank"] > 0
    assert api_client.get(f"/api/v1/campaigns/{theirs.pk}/").status_code == 404
    response = api_client.post(f"/api/v1/campaigns/{theirs.pk}/transition/", {"status": "archived"}, format="json")
    assert response.status_code == 404
    with account_context(tenants.b.id):
        assert Campaign.objects.get(pk=theirs.pk).status == CampaignStatus.DRAFT


def test_api_transition_off_the_machine_is_a_409_with_the_allowed_moves(api_client, tenants):
    campaign = CampaignFactory(account=tenants.a)
    api_client.force_login(tenants.bob)
    response = api_client.post(f"/api/v1/campaigns/{campaign.pk}/transition/", {"status": "paused"}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "invalid_transition"


def test_api_create_validates_input(api_client, tenants):
    api_client.force_login(tenants.bob)
    response = api_client.post("/api/v1/campaigns/", {"name": "", "campaign_type": "poster"}, format="json")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"name", "campaign_type"}
    response = api_client.post("/api/v1/campaigns/", {"name": "Shoes", "goals": ["leads"]}, format="json")
    assert response.status_code == 201 and response.json()["status"] == "draft"


def test_campaign_list_costs_a_fixed_number_of_queries(api_client, tenants, django_assert_max_num_queries):
    for i in range(5):
        CampaignFactory(account=tenants.a, name=f"Campaign {i}")
    api_client.force_login(tenants.bob)
    api_client.get("/api/v1/campaigns/")
    with django_assert_max_num_queries(12):
        body = api_client.get("/api/v1/campaigns/").json()
    assert body["count"] == 5
