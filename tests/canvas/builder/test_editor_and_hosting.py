"""The editor's storage (autosave sanitised, versions published at launch), the
zip export, and the hosted page (only launched campaigns, the published
version, the tracker, a strict CSP, custom domains)."""

from __future__ import annotations

import io
import zipfile

import pytest

from accounts.tenancy.context import account_context
from canvas.models import CampaignPage, CampaignStatus
from canvas.services.builder.campaigns import campaign_transition
from canvas.services.builder.editor import page_save
from tests.canvas.builder.factories import CampaignFactory, ComponentFactory

pytestmark = pytest.mark.django_db

PROJECT = {"pages": [{"component": {"type": "wrapper", "components": [
    {"tagName": "script", "content": "alert(1)"},
    {"tagName": "p", "attributes": {"onclick": "alert(1)", "class": "lead"}, "content": "<b>Hi</b><img src=x onerror=alert(1)>"},  # noqa: E501
]}}]}  # fmt: skip


def test_autosave_sanitises_the_snapshot_and_the_project(tenants):
    campaign = CampaignFactory(account=tenants.a)
    page = page_save(campaign=campaign, actor=tenants.bob_membership, project=PROJECT,
                     html='<body><p onclick="alert(1)">Hi</p><script>alert(2)</script></body>',
                     css="p{color:red}</style><script>alert(3)</script>")  # fmt: skip
    assert page.html == "<p>Hi</p>"
    assert "<" not in page.css and "color:red" in page.css
    nodes = page.project_data["pages"][0]["component"]["components"]
    assert nodes[0]["tagName"] == "div"
    assert nodes[1]["attributes"] == {"class": "lead"}
    assert nodes[1]["content"] == '<b>Hi</b><img src="x">'


def test_autosave_rewrites_the_draft_until_launch_then_opens_a_new_version(tenants):
    campaign = CampaignFactory(account=tenants.a, status=CampaignStatus.READY)
    for text in ("One", "Two"):
        page_save(campaign=campaign, actor=tenants.bob_membership, project={"pages": []}, html=f"<p>{text}</p>", css="")
    campaign_transition(campaign=campaign, actor=tenants.bob_membership, status=CampaignStatus.LAUNCHED)
    page_save(campaign=campaign, actor=tenants.bob_membership, project={"pages": []}, html="<p>Three</p>", css="")
    with account_context(tenants.a.id):
        rows = list(CampaignPage.objects.filter(campaign=campaign).order_by("version")
                    .values_list("version", "is_published", "html"))  # fmt: skip
    assert rows == [(1, True, "<p>Two</p>"), (2, False, "<p>Three</p>")]


def test_api_page_roundtrip_and_foreign_campaign(api_client, tenants):
    campaign = CampaignFactory(account=tenants.a)
    ComponentFactory(campaign=campaign, code="<h1>From the AI</h1>")
    theirs = CampaignFactory(account=tenants.b)
    api_client.force_login(tenants.bob)
    loaded = api_client.get(f"/api/v1/campaigns/{campaign.pk}/page/").json()
    assert loaded["project"] is None and "<h1>From the AI</h1>" in loaded["html"]
    saved = api_client.put(f"/api/v1/campaigns/{campaign.pk}/page/",
                           {"project": {"pages": [{"id": "p1"}]}, "html": "<p>Edited</p>", "css": ""}, format="json")  # fmt: skip  # noqa: E501
    assert saved.status_code == 200 and saved.json()["version"] == 1
    assert api_client.get(f"/api/v1/campaigns/{campaign.pk}/page/").json()["project"] == {"pages": [{"id": "p1"}]}
    put = api_client.put(f"/api/v1/campaigns/{theirs.pk}/page/", {"project": {}, "html": "<p>x</p>"}, format="json")
    assert put.status_code == 404
    assert (
        api_client.put(f"/api/v1/campaigns/{campaign.pk}/page/", {"project": [], "html": 1}, format="json").status_code
        == 400
    )


def test_export_is_a_zip_of_html_and_css(api_client, tenants):
    campaign = CampaignFactory(account=tenants.a)
    page_save(campaign=campaign, actor=tenants.bob_membership, project={}, html="<p>Hello</p>", css="p{color:red}")
    api_client.force_login(tenants.bob)
    response = api_client.get(f"/api/v1/campaigns/{campaign.pk}/export/")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == ["README.txt", "index.html", "styles.css"]
    assert "<p>Hello</p>" in archive.read("index.html").decode()
    assert archive.read("styles.css").decode() == "p{color:red}"


def test_a_launched_campaign_is_served_with_the_tracker_and_a_strict_csp(client, tenants):
    campaign = CampaignFactory(account=tenants.a, status=CampaignStatus.READY)
    component = ComponentFactory(campaign=campaign)
    assert client.get(f"/p/{campaign.slug}/").status_code == 404  # not launched yet
    campaign_transition(campaign=campaign, actor=tenants.bob_membership, status=CampaignStatus.LAUNCHED)
    page_save(campaign=campaign, actor=tenants.bob_membership, project={}, html="<p>Unpublished draft</p>", css="")
    response = client.get(f"/p/{campaign.slug}/")
    body = response.content.decode()
    assert response.status_code == 200
    assert f'data-component-id="{component.pk}"' in body and "Unpublished draft" not in body
    assert f'data-campaign="{campaign.pk}"' in body and "canvas/tracker.js" in body
    assert "script-src 'self'" in response["Content-Security-Policy"]
    campaign_transition(campaign=campaign, actor=tenants.bob_membership, status=CampaignStatus.PAUSED)
    assert client.get(f"/p/{campaign.slug}/").status_code == 404


def test_an_unknown_slug_is_a_404(client, db):
    assert client.get("/p/no-such-campaign/").status_code == 404


def test_a_custom_domain_serves_the_launched_campaign_at_its_root(client, tenants, settings):
    settings.ALLOWED_HOSTS = ["*"]
    campaign = CampaignFactory(account=tenants.a, status=CampaignStatus.READY, custom_domain="shoes.example.com")
    ComponentFactory(campaign=campaign, code="<h1>Custom domain page</h1>")
    campaign_transition(campaign=campaign, actor=tenants.bob_membership, status=CampaignStatus.LAUNCHED)
    response = client.get("/", HTTP_HOST="shoes.example.com")
    assert response.status_code == 200 and "Custom domain page" in response.content.decode()
    other = client.get("/", HTTP_HOST="unknown.example.com")
    assert "Custom domain page" not in other.content.decode()
