"""A form submitted on a hosted page becomes a lead in the account's connected
integrations (POST /t/f/ from the tracker, then the builder's job queue), and
nothing else does: no email, a bot, an unknown or foreign campaign, a flood."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from canvas.models.campaigns import CampaignStatus
from canvas.services.integrations import service as svc
from canvas.tracking import targets
from canvas.tracking.leads import lead_of
from tests.canvas.tracking.conftest import BROWSER_UA, launch
from tests.support import fake_publishers as fp

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_targets():
    targets.targets_forget()
    yield
    targets.targets_forget()


@pytest.fixture
def simvoly(tenants, fake):
    return svc.integration_connect(account=tenants.a, actor=tenants.alice_membership, platform_type="simvoly",
                                   data={"domain": fake.simvoly_url, "api_key": fp.SIMVOLY_API_KEY})  # fmt: skip


@pytest.fixture
def page(tenants):
    return launch(tenants.a, tenants.alice, "Spring sale", "spring-sale")


def _submit(payload, *, ip="203.0.113.57", agent=BROWSER_UA):
    body = payload if isinstance(payload, str) else json.dumps(payload)
    return Client(REMOTE_ADDR=ip, HTTP_USER_AGENT=agent).post("/t/f/", data=body, content_type="text/plain")


def test_a_hosted_form_lead_reaches_the_connected_simvoly_account(page, simvoly, fake, run_jobs):
    # given a visitor filling the page's form
    form = {"email": "jane@example.com", "name": "Jane Doe", "phone": "+1 555 0100", "company": "Acme",
            "password": "hunter2", "card_number": "4242424242424242"}  # fmt: skip
    # when the tracker posts it
    with run_jobs():
        response = _submit({"c": page.id, "n": "signup", "f": form})
    # then the lead is a Simvoly contact with its names split, and no secret left the page's server
    assert response.status_code == 202
    (contact,) = fake.simvoly_contacts
    assert contact["email"] == "jane@example.com"
    assert "hunter2" not in json.dumps(contact) and "4242" not in json.dumps(contact)


def test_the_lead_keeps_the_campaign_as_source_and_tag():
    lead = lead_of({"email": "a@b.co", "name": "Ann Lee Smith", "company": "Acme"}, form_name="quote", slug="spring")
    assert (lead["first_name"], lead["last_name"]) == ("Ann", "Lee Smith")
    assert lead["source"] == "aiplatform: spring" and lead["tags"] == ["campaign:spring", "form:quote"]
    assert lead["company"] == "Acme"


@pytest.mark.parametrize(
    "payload",
    [
        {"n": "signup", "f": {"email": "jane@example.com"}},  # no campaign
        {"c": "not-an-id", "f": {"email": "jane@example.com"}},
        {"c": "PAGE", "f": {"name": "Jane"}},  # no email: not a lead
        {"c": "PAGE", "f": {"email": "not an address"}},
        {"c": "PAGE", "f": ["jane@example.com"]},
        "{not json",
    ],
)
def test_what_is_not_a_lead_is_answered_202_and_sends_nothing(page, simvoly, fake, run_jobs, payload):
    if isinstance(payload, dict) and payload.get("c") == "PAGE":
        payload = {**payload, "c": page.id}
    with run_jobs():
        response = _submit(payload)
    assert response.status_code == 202
    assert fake.simvoly_contacts == []


def test_a_bot_a_paused_campaign_and_another_accounts_campaign_send_nothing(tenants, page, simvoly, fake, run_jobs):
    paused = launch(tenants.a, tenants.alice, "Paused", "paused", status=CampaignStatus.PAUSED)
    foreign = launch(tenants.b, tenants.carol, "Globex launch", "globex-launch")
    lead = {"email": "jane@example.com"}
    with run_jobs():
        _submit({"c": page.id, "f": lead}, agent="Googlebot/2.1 (+http://www.google.com/bot.html)")
        _submit({"c": paused.id, "f": lead})
        _submit({"c": foreign.id, "f": lead})  # account B has no integration: A's never hears of it
    assert fake.simvoly_contacts == []


def test_a_flood_of_leads_from_one_address_is_a_429(page, simvoly, settings, run_jobs):
    settings.TRACKING_LEADS_PER_MINUTE_PER_IP = 2
    with run_jobs():
        answers = [_submit({"c": page.id, "f": {"email": f"p{i}@example.com"}}, ip="198.51.100.77").status_code
                   for i in range(3)]  # fmt: skip
    assert answers == [202, 202, 429]


def test_the_lead_endpoint_takes_only_post(page):
    response = Client().get("/t/f/")
    assert response.status_code == 405 and response.json()["error"]["code"] == "method_not_allowed"


def test_a_form_posted_back_to_its_hosted_page_gets_the_page_again(page, tenants):
    from accounts.tenancy.context import account_context
    from canvas.models import CampaignPage

    with account_context(tenants.a.id):
        CampaignPage.objects.create(account=tenants.a, campaign=page.campaign, version=1, is_published=True,
                                    html="<form method='post'><input name='email'></form>", css="")  # fmt: skip
    response = Client().post("/p/spring-sale/", {"email": "jane@example.com"})
    assert response.status_code == 303 and response["Location"] == "/p/spring-sale/"
