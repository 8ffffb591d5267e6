"""A campaign component saved to the component library: from the campaign page or
the API, a private copy (code sanitised again, props described as a schema, its
origin kept); another account's component is a 404 and a viewer cannot."""

from __future__ import annotations

import pytest

from accounts.tenancy.context import account_context
from templates.models import LibraryComponent
from tests.canvas.builder.factories import CampaignFactory, ComponentFactory

pytestmark = pytest.mark.django_db
API = "/api/v1/library-components/from-campaign-component/"


@pytest.fixture
def component(tenants):
    campaign = CampaignFactory(account=tenants.a, created_by=tenants.alice, name="Spring sale")
    return ComponentFactory(campaign=campaign, name="Pricing table", component_type="pricing",
                            code='<table><tr><td>Pro</td></tr></table><img src=x onerror="steal()">',
                            css_styles="table{width:100%}", props={"plan": "Pro", "price": 19})  # fmt: skip


def _library(account) -> list[LibraryComponent]:
    with account_context(account.id):
        return list(LibraryComponent.objects.filter(account=account))


def test_the_campaign_page_saves_a_component_to_the_library(client, tenants, component):
    client.force_login(tenants.alice)
    page = client.get(f"/canvas/builder/campaigns/{component.campaign_id}/").content.decode()
    assert f'action="/library/from-component/{component.pk}/"' in page
    response = client.post(f"/library/from-component/{component.pk}/")
    (item,) = _library(tenants.a)
    assert response.status_code == 302 and response["Location"] == f"/services/library/{item.pk}/"
    assert (item.name, item.component_type, item.source_component_id) == ("Pricing table", "pricing", component.pk)
    assert "onerror" not in item.code and "<table>" in item.code
    assert item.props_schema["properties"]["price"] == {"type": "integer", "default": 19}
    assert "Spring sale" in item.description and not item.is_public


def test_the_api_saves_it_with_a_description_and_tags(api_client, tenants, component):
    api_client.force_login(tenants.bob)
    response = api_client.post(API, {"component": str(component.pk), "description": "Our best table",
                                     "tags": ["pricing", "saas"]}, format="json")  # fmt: skip
    assert response.status_code == 201, response.json()
    assert response.json()["description"] == "Our best table" and response.json()["tags"] == ["pricing", "saas"]
    assert [i.name for i in _library(tenants.a)] == ["Pricing table"]


def test_another_accounts_component_is_a_404_and_a_viewer_cannot(api_client, client, tenants, vera, component):
    theirs = ComponentFactory(campaign=CampaignFactory(account=tenants.b, created_by=tenants.carol))
    api_client.force_login(tenants.alice)
    response = api_client.post(API, {"component": str(theirs.pk)}, format="json")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert api_client.post(API, {"component": "nope"}, format="json").status_code == 400
    client.force_login(vera)
    assert client.post(f"/library/from-component/{component.pk}/").status_code == 403
    api_client.force_login(vera)
    assert api_client.post(API, {"component": str(component.pk)}, format="json").status_code == 403
    assert _library(tenants.a) == [] and _library(tenants.b) == []


def test_a_library_component_is_added_at_the_end_of_a_campaign(client, tenants, component):
    from canvas.models import CampaignComponent

    client.force_login(tenants.alice)
    client.post(f"/library/from-component/{component.pk}/")
    (item,) = _library(tenants.a)
    target = CampaignFactory(account=tenants.a, created_by=tenants.alice, name="Summer sale")
    detail = client.get(f"/services/library/{item.pk}/").content.decode()
    assert f'href="/library/{item.pk}/to-campaign/"' in detail
    assert "Summer sale" in client.get(f"/library/{item.pk}/to-campaign/").content.decode()
    response = client.post(f"/library/{item.pk}/to-campaign/", {"campaign": str(target.pk)})
    assert response.status_code == 302 and response["Location"] == f"/canvas/builder/campaigns/{target.pk}/"
    with account_context(tenants.a.id):
        (added,) = CampaignComponent.objects.filter(campaign=target)
    assert (added.name, added.component_type, added.props) == ("Pricing table", "pricing", {"plan": "Pro", "price": 19})
    assert "<table>" in added.code and added.is_current


def test_another_accounts_campaign_or_library_item_adds_nothing(client, tenants, component):
    from canvas.models import CampaignComponent

    client.force_login(tenants.alice)
    client.post(f"/library/from-component/{component.pk}/")
    (item,) = _library(tenants.a)
    theirs = CampaignFactory(account=tenants.b, created_by=tenants.carol)
    response = client.post(f"/library/{item.pk}/to-campaign/", {"campaign": str(theirs.pk)}, follow=True)
    assert [m.level_tag for m in response.context["messages"]][-1] == "error"
    client.force_login(tenants.carol)
    client.post(f"/library/{item.pk}/to-campaign/", {"campaign": str(theirs.pk)})
    with account_context(tenants.b.id):
        assert not CampaignComponent.objects.filter(campaign=theirs).exists()
