"""The builder's HTML pages: the campaigns list (search), a campaign, the editor
(with its CSP and no inline script), the SSE replay of a finished generation,
the admin's generation list with costs, and foreign ids as 404s."""

from __future__ import annotations

import asyncio
import json

import pytest

from canvas.models import GenerationStatus
from tests.canvas.builder.factories import CampaignFactory, ComponentFactory, GenerationFactory

pytestmark = pytest.mark.django_db


def _body(response) -> str:
    async def read():
        return b"".join([chunk async for chunk in response.streaming_content])

    return asyncio.run(read()).decode()


def test_the_campaigns_page_lists_and_searches(client, tenants):
    CampaignFactory(account=tenants.a, name="Marathon shoes")
    CampaignFactory(account=tenants.a, name="Yoga mats", description="", target_audience="", goals=[])
    CampaignFactory(account=tenants.b, name="Marathon of B")
    client.force_login(tenants.bob)
    html = client.get("/canvas/builder/", {"q": "marathon"}).content.decode()
    assert "Marathon shoes" in html and "Yoga mats" not in html and "Marathon of B" not in html


def test_a_campaign_page_and_its_editor(client, tenants):
    campaign = CampaignFactory(account=tenants.a, name="Marathon shoes")
    ComponentFactory(campaign=campaign, name="Hero block")
    client.force_login(tenants.bob)
    detail = client.get(f"/canvas/builder/campaigns/{campaign.pk}/")
    assert detail.status_code == 200 and "Hero block" in detail.content.decode()
    editor = client.get(f"/canvas/builder/campaigns/{campaign.pk}/editor/")
    html = editor.content.decode()
    assert editor.status_code == 200
    assert editor["Content-Security-Policy"].startswith("default-src 'self'; script-src 'self';")
    assert "vendor/grapes.min.js" in html and "<script>" not in html  # no inline script: the CSP allows none
    foreign = CampaignFactory(account=tenants.b)
    assert client.get(f"/canvas/builder/campaigns/{foreign.pk}/editor/").status_code == 404


def test_a_finished_generation_replays_its_frames_over_sse(client, tenants):
    campaign = CampaignFactory(account=tenants.a)
    component = ComponentFactory(campaign=campaign, name="Hero")
    generation = GenerationFactory(campaign=campaign, status=GenerationStatus.COMPLETED,
                                   result_data={"component_ids": [str(component.pk)]})  # fmt: skip
    client.force_login(tenants.bob)
    response = client.get(f"/canvas/builder/generations/{generation.pk}/events/")
    assert response["Content-Type"] == "text/event-stream"
    events = [block for block in _body(response).split("\n\n") if block]
    assert [e.split("\n")[0] for e in events] == ["event: component", "event: done"]
    assert json.loads(events[0].split("data: ", 1)[1])["id"] == str(component.pk)
    foreign = GenerationFactory(campaign=CampaignFactory(account=tenants.b))
    assert client.get(f"/canvas/builder/generations/{foreign.pk}/events/").status_code == 404


def test_operators_see_generations_with_their_cost(client, tenants, django_user_model):
    GenerationFactory(campaign=CampaignFactory(account=tenants.a), cost="0.012345", credits_charged="3")
    admin = django_user_model.objects.create_superuser(email="ops@example.com", password="x-long-password")
    client.force_login(admin)
    response = client.get("/admin/canvas/aigeneration/")
    assert response.status_code == 200
    assert "$0.0123 provider cost, 3.00 credits" in response.content.decode()
