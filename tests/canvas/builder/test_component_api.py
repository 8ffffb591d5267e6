"""/api/v1/campaign-components/ edits components by hand: create at the end of the
page, PATCH makes a new current version (the old one stays, as its parent), DELETE
removes every version, `reorder/` moves them; HTML is sanitised; viewers read only;
an archived campaign and a foreign id change nothing."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tenancy.context import account_context
from canvas.models import CampaignComponent, CampaignStatus
from tests.canvas.builder.factories import CampaignFactory, ComponentFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/campaign-components/"


@pytest.fixture
def campaign(tenants):
    c = CampaignFactory(account=tenants.a, created_by=tenants.alice, name="Spring", slug="spring")
    ComponentFactory(campaign=c, name="Hero", sort_order=0)
    ComponentFactory(campaign=c, name="Pricing", component_type="pricing", sort_order=1)
    return c


def _current(campaign) -> list[tuple[str, int]]:
    with account_context(campaign.account_id):
        rows = CampaignComponent.objects.filter(campaign=campaign, is_current=True).order_by("sort_order")
        return [(c.name, c.version) for c in rows]


def test_a_member_adds_a_sanitised_component_at_the_end(api_client, tenants, campaign):
    api_client.force_login(tenants.bob)
    response = api_client.post(URL, {"campaign": str(campaign.pk), "name": "Sign-up", "component_type": "form",
                                     "code": '<form><input name="email"><script>steal()</script></form>',
                                     "props": {"cta": "Join"}, "export_formats": ["html", "mjml"]},
                               format="json")  # fmt: skip
    assert response.status_code == 201, response.json()
    body = response.json()
    assert "<script" not in body["code"] and 'name="email"' in body["code"]
    assert (body["sort_order"], body["version"], body["is_current"]) == (2, 1, True)
    assert _current(campaign) == [("Hero", 1), ("Pricing", 1), ("Sign-up", 1)]


def test_an_edit_is_a_new_current_version_with_the_old_one_as_parent(api_client, tenants, campaign):
    api_client.force_login(tenants.bob)
    hero = api_client.get(URL, {"campaign": str(campaign.pk), "current": "true"}).json()["results"][0]
    response = api_client.patch(f"{URL}{hero['id']}/", {"name": "Hero, shorter"}, format="json")
    assert response.status_code == 200
    new = response.json()
    assert (new["version"], new["parent_component"], new["code"]) == (2, hero["id"], hero["code"])
    assert _current(campaign) == [("Hero, shorter", 2), ("Pricing", 1)]
    # the old version is history now: editing it is refused
    stale = api_client.patch(f"{URL}{hero['id']}/", {"name": "Again"}, format="json")
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "component_not_current"


def test_reorder_moves_every_version_with_its_current_one(api_client, tenants, campaign):
    api_client.force_login(tenants.bob)
    hero, pricing = api_client.get(URL, {"campaign": str(campaign.pk), "current": "true"}).json()["results"]
    api_client.patch(f"{URL}{hero['id']}/", {"name": "Hero v2"}, format="json")
    with account_context(tenants.a.id):
        hero_v2 = CampaignComponent.objects.get(campaign=campaign, is_current=True, name="Hero v2")
    order = {"campaign": str(campaign.pk), "order": [pricing["id"], str(hero_v2.pk)]}
    response = api_client.post(f"{URL}reorder/", order, format="json")
    assert response.status_code == 200
    assert [c["name"] for c in response.json()] == ["Pricing", "Hero v2"]
    with account_context(tenants.a.id):
        assert CampaignComponent.objects.get(pk=hero["id"]).sort_order == 1  # the old version moved too
    partial = api_client.post(f"{URL}reorder/", {"campaign": str(campaign.pk), "order": [pricing["id"]]},
                              format="json")  # fmt: skip
    assert partial.status_code == 400 and "order" in partial.json()["error"]["fields"]


def test_delete_removes_every_version_of_the_component(api_client, tenants, campaign):
    api_client.force_login(tenants.bob)
    hero = api_client.get(URL, {"campaign": str(campaign.pk), "current": "true"}).json()["results"][0]
    new = api_client.patch(f"{URL}{hero['id']}/", {"name": "Hero v2"}, format="json").json()
    assert api_client.delete(f"{URL}{new['id']}/").status_code == 204
    with account_context(tenants.a.id):
        assert list(CampaignComponent.objects.filter(campaign=campaign).values_list("name", flat=True)) == ["Pricing"]


@pytest.mark.parametrize(
    "data, field",
    [
        ({"name": ""}, "name"),
        ({"component_type": "carousel"}, "component_type"),
        ({"export_formats": ["pdf"]}, "export_formats"),
        ({"props": ["not", "an", "object"]}, "props"),
        ({"views": 1000}, None),  # counters are the tracker's: not settable, and not a 500
    ],
)
def test_bad_fields_are_a_400_and_change_nothing(api_client, tenants, campaign, data, field):
    api_client.force_login(tenants.bob)
    hero = api_client.get(URL, {"campaign": str(campaign.pk), "current": "true"}).json()["results"][0]
    response = api_client.patch(f"{URL}{hero['id']}/", data, format="json")
    if field is None:  # nothing to change: no new version either
        assert response.status_code == 200 and (response.json()["views"], response.json()["version"]) == (0, 1)
    else:
        fields = response.json()["error"]["fields"]
        assert response.status_code == 400 and any(key.split(".")[0] == field for key in fields), fields
        assert _current(campaign) == [("Hero", 1), ("Pricing", 1)]


def test_viewers_read_and_an_archived_campaign_is_not_changed(api_client, tenants, vera, campaign):
    api_client.force_login(vera)
    hero = api_client.get(URL, {"campaign": str(campaign.pk), "current": "true"}).json()["results"][0]
    assert api_client.patch(f"{URL}{hero['id']}/", {"name": "x"}, format="json").status_code == 403
    assert api_client.delete(f"{URL}{hero['id']}/").status_code == 403
    with account_context(tenants.a.id):
        type(campaign).objects.filter(pk=campaign.pk).update(status=CampaignStatus.ARCHIVED)
    api_client.force_login(tenants.bob)
    archived = api_client.patch(f"{URL}{hero['id']}/", {"name": "x"}, format="json")
    assert archived.status_code == 409 and archived.json()["error"]["code"] == "campaign_archived"
    assert _current(campaign) == [("Hero", 1), ("Pricing", 1)]


def test_another_accounts_campaign_and_component_are_404(api_client, tenants, campaign):
    foreign = CampaignFactory(account=tenants.b, created_by=tenants.carol)
    theirs = ComponentFactory(campaign=foreign)
    api_client.force_login(tenants.alice)
    assert api_client.post(URL, {"campaign": str(foreign.pk), "name": "x"}, format="json").status_code == 404
    assert api_client.patch(f"{URL}{theirs.pk}/", {"name": "x"}, format="json").status_code == 404
    assert api_client.delete(f"{URL}{theirs.pk}/").status_code == 404
    moved = api_client.post(f"{URL}reorder/", {"campaign": str(foreign.pk), "order": [str(theirs.pk)]}, format="json")
    assert moved.status_code == 404
    with account_context(tenants.b.id):
        assert CampaignComponent.objects.get(pk=theirs.pk).name == theirs.name


def test_reorder_is_a_fixed_number_of_queries_per_component(api_client, tenants, campaign):
    api_client.force_login(tenants.bob)
    ids = [c["id"] for c in api_client.get(URL, {"campaign": str(campaign.pk), "current": "true"}).json()["results"]]
    with CaptureQueriesContext(connection) as two:
        api_client.post(f"{URL}reorder/", {"campaign": str(campaign.pk), "order": ids[::-1]}, format="json")
    for n in range(3):
        ComponentFactory(campaign=campaign, name=f"Extra {n}", sort_order=10 + n)
    ids = [c["id"] for c in api_client.get(URL, {"campaign": str(campaign.pk), "current": "true"}).json()["results"]]
    with CaptureQueriesContext(connection) as five:
        api_client.post(f"{URL}reorder/", {"campaign": str(campaign.pk), "order": ids[::-1]}, format="json")
    assert len(five) - len(two) == 2 * 3  # two updates per slot, nothing else grows
