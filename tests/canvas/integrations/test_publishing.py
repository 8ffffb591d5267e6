"""Integrations against the fake WordPress / GoHighLevel / Simvoly / webhook
server on loopback: connect, publish and relaunch, leads, reconnect keeps the
queued publish, retries on 429, feature flags."""

from __future__ import annotations

import base64
import json
import re

import pytest
from django.db import connection

from accounts.flags import feature_set
from accounts.tenancy.context import account_context
from canvas.models import BuilderJob, CampaignPublication, PlatformIntegration
from canvas.services.integrations import service as svc
from canvas.services.integrations.service import IntegrationRefused
from canvas.services.integrations.webhook import signature
from canvas.tracking.email import read_token
from tests.support import fake_publishers as fp

pytestmark = pytest.mark.django_db


def _wordpress(tenants, fake, password=fp.WP_APP_PASSWORD):
    return svc.integration_connect(
        account=tenants.a, actor=tenants.alice_membership, platform_type="wordpress",
        data={"site_url": fake.wordpress_url, "username": fp.WP_USER, "app_password": password},
    )  # fmt: skip


def _ghl(tenants, fake):
    location = svc.ghl_connect_start(
        account=tenants.a, actor=tenants.alice_membership,
        redirect_uri="https://builder.example/canvas/integrations/ghl/callback/")  # fmt: skip
    callback = fake.ghl_authorize(location)
    params = dict(p.split("=", 1) for p in callback.split("?", 1)[1].split("&"))
    integration = svc.ghl_connect_finish(account=tenants.a, actor=tenants.alice_membership, code=params["code"],
                                         state=params["state"])  # fmt: skip
    return svc.integration_configure(account=tenants.a, actor=tenants.alice_membership, integration_id=integration.pk,
                                     data={"domain": "go.acme.example"})  # fmt: skip


def _row(model, pk, account):
    with account_context(account.id):
        return model.objects.get(pk=pk)


def _publish(tenants, campaign, integration, run_jobs, **kwargs):
    with run_jobs():
        publication = svc.campaign_publish(account=tenants.a, actor=tenants.alice_membership, campaign_id=campaign.pk,
                                           integration_id=integration.pk, **kwargs)  # fmt: skip
    return _row(CampaignPublication, publication.pk, tenants.a)


def test_wordpress_connects_with_an_application_password_stored_encrypted(tenants, fake):
    # when
    integration = _wordpress(tenants, fake)
    # then
    assert integration.connection_status == "connected" and integration.account_name == "Site Admin"
    with connection.cursor() as cur:
        cur.execute("SELECT encrypted_credentials FROM canvas_platform_integrations WHERE id = %s", [integration.pk])
        raw = cur.fetchone()
    with account_context(tenants.a.id):
        cur = connection.cursor()
        cur.execute("SELECT encrypted_credentials FROM canvas_platform_integrations WHERE id = %s", [integration.pk])
        stored = cur.fetchone()[0]
    assert raw is None  # no tenant context: row-level security hides it
    assert fp.WP_APP_PASSWORD not in stored and "app_password" not in stored
    assert (
        svc.credentials_of(_row(PlatformIntegration, integration.pk, tenants.a))["app_password"] == fp.WP_APP_PASSWORD
    )
    call = fake.calls("wp.me")[0]
    assert base64.b64decode(call.headers["Authorization"][6:]).decode() == f"{fp.WP_USER}:{fp.WP_APP_PASSWORD}"


def test_wrong_wordpress_password_is_refused_and_nothing_is_stored(tenants, fake):
    with pytest.raises(IntegrationRefused) as refused:
        _wordpress(tenants, fake, password="wrong wrong wrong")
    assert "application password" in refused.value.message
    with account_context(tenants.a.id):
        assert not PlatformIntegration.objects.exists()


def test_campaign_is_published_as_a_wordpress_page_and_updated_on_relaunch(tenants, fake, campaign, run_jobs):
    # given
    integration = _wordpress(tenants, fake)
    # when
    first = _publish(tenants, campaign, integration, run_jobs)
    second = _publish(tenants, campaign, integration, run_jobs)
    # then
    assert first.status == second.status == "published"
    assert first.external_id == second.external_id == "101"
    assert [c.path for c in fake.calls("wp.page_create")] == ["/wordpress/wp-json/wp/v2/pages"]
    assert [c.path for c in fake.calls("wp.page_update")] == ["/wordpress/wp-json/wp/v2/pages/101"]
    sent = fake.calls("wp.page_create")[0].json
    assert sent["title"] == "Spring Sale" and sent["status"] == "publish"
    page = fake.wp_pages[101]
    assert "<script" not in page["content"]  # kses without unfiltered_html
    assert "https://builder.example/" in page["content"]  # the link to the tracked copy
    row = _row(PlatformIntegration, integration.pk, tenants.a)
    assert row.sync_status == "completed" and row.last_sync_at is not None


def test_a_revoked_password_asks_to_reconnect_and_keeps_the_queued_publish(tenants, fake, campaign, run_jobs):
    # given
    integration = _wordpress(tenants, fake)
    with account_context(tenants.a.id):
        creds = svc.credentials_of(integration)
        creds["app_password"] = "revoked"
        PlatformIntegration.objects.filter(pk=integration.pk).update(encrypted_credentials=json.dumps(creds))
    # when
    publication = _publish(tenants, campaign, integration, run_jobs)
    # then
    row = _row(PlatformIntegration, integration.pk, tenants.a)
    assert row.connection_status == "error" and row.sync_error_message.startswith("Reconnect WordPress")
    assert publication.status == "queued" and "application password" in publication.error_message
    assert fake.wp_pages == {}
    # when the user reconnects
    with run_jobs():
        _wordpress(tenants, fake)
    # then the waiting publish ran
    publication = _row(CampaignPublication, publication.pk, tenants.a)
    assert publication.status == "published" and publication.external_id == "101"


def test_ghl_oauth_state_is_single_use_and_bound_to_the_user(tenants, fake):
    # given
    location = svc.ghl_connect_start(account=tenants.a, actor=tenants.alice_membership,
                                     redirect_uri="https://builder.example/cb/")  # fmt: skip
    assert "client_id=fake-ghl-client-id" in location and "state=" in location
    state = location.split("state=")[1].split("&")[0]
    # when another member uses the state
    with pytest.raises(Exception) as other:
        svc.ghl_connect_finish(account=tenants.a, actor=tenants.bob_membership, code="C", state=state)
    # then
    assert getattr(other.value, "code", "") in ("oauth_state_invalid", "permission_denied")
    assert fake.calls("ghl.token") == []


def test_ghl_leads_are_upserted_with_bearer_and_version_and_expired_tokens_refreshed(tenants, fake):
    # given
    integration = _ghl(tenants, fake)
    token_calls = len(fake.calls("ghl.token"))
    fake.expire_ghl_tokens()
    # when
    contact = svc.lead_push(account_id=tenants.a.id, integration_id=integration.pk,
                            lead={"email": "Jane@Example.com", "first_name": "Jane", "tags": ["spring"]})  # fmt: skip
    # then
    upserts = fake.calls("ghl.contacts_upsert")
    assert [c.headers["Authorization"].split("-")[0] for c in upserts] == ["Bearer GHL", "Bearer GHL"]
    assert upserts[-1].headers["Version"] == "2021-07-28"
    assert upserts[-1].json == {"locationId": fp.GHL_LOCATION_ID, "email": "Jane@Example.com", "firstName": "Jane",
                                "source": "aiplatform", "tags": ["spring"]}  # fmt: skip
    refresh = fake.calls("ghl.token")[token_calls]
    assert refresh.form["grant_type"] == "refresh_token" and refresh.headers["Content-Type"].startswith(
        "application/x-www-form-urlencoded")  # fmt: skip
    assert contact.startswith("ghl-contact-")
    # the rotated refresh token was stored
    stored = svc.credentials_of(_row(PlatformIntegration, integration.pk, tenants.a))
    assert stored["refresh_token"] in fake.ghl_refresh


def test_ghl_with_a_refused_refresh_token_needs_reconnecting(tenants, fake):
    integration = _ghl(tenants, fake)
    fake.expire_ghl_tokens()
    fake.ghl_refresh.clear()
    with pytest.raises(Exception) as failed:
        svc.lead_push(account_id=tenants.a.id, integration_id=integration.pk, lead={"email": "a@b.co"})
    assert failed.value.needs_reconnect
    assert _row(PlatformIntegration, integration.pk, tenants.a).connection_status == "error"


def test_ghl_rate_limit_retries_the_publish_later(tenants, fake, campaign, run_jobs):
    # given
    integration = _ghl(tenants, fake)
    fake.fail("ghl.redirect_create", "ghl_rate_limited")
    # when
    publication = _publish(tenants, campaign, integration, run_jobs, target="redirect")
    # then
    with account_context(tenants.a.id):
        job = BuilderJob.objects.get(job_type="publishing")
    assert job.status == "retrying" and job.attempts == 1
    assert publication.status == "queued" and "rate-limiting" in publication.error_message
    assert _row(PlatformIntegration, integration.pk, tenants.a).connection_status == "connected"


def test_ghl_funnel_redirect_points_at_the_hosted_page_and_is_updated_on_relaunch(tenants, fake, campaign, run_jobs):
    integration = _ghl(tenants, fake)
    first = _publish(tenants, campaign, integration, run_jobs, target="redirect", path="/spring")
    second = _publish(tenants, campaign, integration, run_jobs, target="redirect", path="/spring")
    assert first.status == "published" and first.external_id == second.external_id
    (redirect,) = fake.ghl_redirects.values()
    assert redirect["domain"] == "go.acme.example" and redirect["path"] == "/spring"
    assert redirect["target"] == "https://builder.example/p/spring-sale/"
    assert len(fake.calls("ghl.redirect_update")) == 1
    assert first.external_url == "https://go.acme.example/spring"


def test_ghl_email_template_is_created_then_filled(tenants, fake, campaign, run_jobs):
    integration = _ghl(tenants, fake)
    publication = _publish(tenants, campaign, integration, run_jobs, target="email_template")
    assert publication.status == "published"
    create, data = fake.calls("ghl.email_create")[0].json, fake.calls("ghl.email_data")[0].json
    assert create["type"] == "html" and create["locationId"] == fp.GHL_LOCATION_ID
    assert data["templateId"] == publication.external_id and data["editorType"] == "html"
    html = fake.ghl_templates[publication.external_id]["html"]
    assert "Spring sale" in html
    # the emails sent from it report opens to the campaign
    pixel = re.search(r'<img src="(https://builder\.example/t/o/[^"]+/)"', html)
    assert pixel, html
    assert read_token(pixel.group(1).rstrip("/").rsplit("/", 1)[1]).campaign_id == str(campaign.pk)


def test_simvoly_pushes_contacts_and_keeps_an_embed_for_pages(tenants, fake, campaign, run_jobs):
    # given
    with pytest.raises(IntegrationRefused):
        svc.integration_connect(account=tenants.a, actor=tenants.alice_membership, platform_type="simvoly",
                                data={"domain": fake.simvoly_url, "api_key": "wrong"})  # fmt: skip
    integration = svc.integration_connect(account=tenants.a, actor=tenants.alice_membership, platform_type="simvoly",
                                          data={"domain": fake.simvoly_url, "api_key": fp.SIMVOLY_API_KEY})  # fmt: skip
    # when
    svc.lead_push(account_id=tenants.a.id, integration_id=integration.pk, lead={"email": "lead@example.com"})
    publication = _publish(tenants, campaign, integration, run_jobs)
    # then
    assert fake.simvoly_contacts[0]["email"] == "lead@example.com"
    assert publication.status == "published" and publication.external_url.endswith("spring-sale/")
    meta = _row(PlatformIntegration, integration.pk, tenants.a).platform_metadata
    assert "<iframe" in meta["exports"][str(campaign.pk)]["embed"]


def test_custom_webhook_events_are_signed(tenants, fake, run_jobs):
    integration = svc.integration_connect(account=tenants.a, actor=tenants.alice_membership, platform_type="custom",
                                          data={"url": fake.webhook_url(), "signing_secret": "s" * 24})  # fmt: skip
    with run_jobs():
        queued = svc.leads_forward(account_id=tenants.a.id, lead={"email": "x@example.com", "source": "spring"})
    assert queued == 1
    (hook,) = fake.webhooks
    assert hook.headers["X-AIP-Signature"] == signature("s" * 24, hook.headers["X-AIP-Timestamp"], hook.raw)
    assert json.loads(hook.raw)["event"] == "lead.created"
    assert _row(PlatformIntegration, integration.pk, tenants.a).sync_status == "completed"


def test_private_addresses_are_refused_outside_tests(tenants, fake, settings):
    settings.BUILDER_INTEGRATIONS_ALLOW_PRIVATE_HOSTS = False
    with pytest.raises(IntegrationRefused) as refused:
        _wordpress(tenants, fake)
    assert "private network" in refused.value.message
    settings.BUILDER_INTEGRATIONS_ALLOW_HTTP = False
    with pytest.raises(IntegrationRefused):
        svc.integration_connect(account=tenants.a, actor=tenants.alice_membership, platform_type="custom",
                                data={"url": "http://example.com/hook"})  # fmt: skip


def test_a_switched_off_integration_cannot_be_connected(tenants, fake, api_client):
    feature_set("integration.wordpress", account_id=tenants.a.id, account_value=False)
    api_client.force_login(tenants.alice)
    response = api_client.post("/api/v1/integrations/connect/", {"platform_type": "wordpress", "site_url":
                               fake.wordpress_url, "username": fp.WP_USER, "app_password": fp.WP_APP_PASSWORD},
                               format="json")  # fmt: skip
    assert response.status_code == 403 and response.json()["error"]["code"] == "feature_disabled"
    assert not fake.calls("wp.me")


def test_integration_api_shows_reconnect_and_hides_credentials(tenants, fake, api_client):
    integration = _wordpress(tenants, fake)
    with account_context(tenants.a.id):
        PlatformIntegration.objects.filter(pk=integration.pk).update(connection_status="error")
    api_client.force_login(tenants.alice)
    body = api_client.get(f"/api/v1/integrations/{integration.pk}/").json()
    assert body["needs_reconnect"] is True and "encrypted_credentials" not in body
    assert fp.WP_APP_PASSWORD not in json.dumps(body)
    api_client.force_login(tenants.carol)
    assert api_client.get(f"/api/v1/integrations/{integration.pk}/").status_code == 404
    assert api_client.post(f"/api/v1/integrations/{integration.pk}/test/").status_code == 404


@pytest.mark.parametrize("missing", ["site_url", "username", "app_password"])
def test_stored_credentials_missing_a_field_ask_to_reconnect(tenants, fake, api_client, missing):
    # given a WordPress connection whose stored credentials lost one field
    integration = _wordpress(tenants, fake)
    calls = len(fake.calls("wp.me"))
    with account_context(tenants.a.id):
        creds = svc.credentials_of(integration)
        del creds[missing]
        PlatformIntegration.objects.filter(pk=integration.pk).update(encrypted_credentials=json.dumps(creds))
    api_client.force_login(tenants.alice)

    # when its connection is tested through the API
    response = api_client.post(f"/api/v1/integrations/{integration.pk}/test/")

    # then it answers that it needs reconnecting, naming the field, without calling WordPress
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["needs_reconnect"] is True and body["connection_status"] == "error"
    reason = f"the saved connection has no {missing}; connect it again."
    assert body["sync_error_message"] == f"Reconnect WordPress: {reason}"
    assert len(fake.calls("wp.me")) == calls


def test_integration_list_is_a_fixed_number_of_queries(tenants, fake, api_client):
    from django.test.utils import CaptureQueriesContext

    _wordpress(tenants, fake)
    api_client.force_login(tenants.alice)
    api_client.get("/api/v1/integrations/")
    with CaptureQueriesContext(connection) as one:
        api_client.get("/api/v1/integrations/")
    svc.integration_connect(account=tenants.a, actor=tenants.alice_membership, platform_type="custom",
                            data={"url": fake.webhook_url()})  # fmt: skip
    svc.integration_connect(account=tenants.a, actor=tenants.alice_membership, platform_type="simvoly",
                            data={"domain": fake.simvoly_url, "api_key": fp.SIMVOLY_API_KEY})  # fmt: skip
    with CaptureQueriesContext(connection) as three:
        body = api_client.get("/api/v1/integrations/").json()
    assert body["count"] == 3
    assert len(three.captured_queries) == len(one.captured_queries)
