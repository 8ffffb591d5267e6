"""Fixtures of the tracking tests: a launched campaign in account A (hero v1, its
regenerated hero v2, a form) and another in account B; a clean event stream,
salt and campaign cache for each test."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from django.test import Client
from django.utils import timezone

from accounts.tenancy.context import account_context
from canvas.models.campaigns import Campaign, CampaignComponent, CampaignStatus, ComponentType
from canvas.tracking import stream, targets, visitors
from canvas.tracking.copyline import decode_line

BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
VISITOR_IP = "203.0.113.57"


@pytest.fixture(autouse=True)
def _clean_tracking(settings):
    settings.TRACKING_STREAM_KEY = "aip:track:test-events"
    stream.purge()
    visitors.salts_forget()
    targets.targets_forget()
    yield
    stream.purge()
    targets.targets_forget()


@dataclass
class LaunchedCampaign:
    campaign: Campaign
    hero: CampaignComponent
    hero_v2: CampaignComponent
    form: CampaignComponent

    @property
    def id(self) -> str:
        return str(self.campaign.pk)


def launch(account, owner, name: str, slug: str, status: str = CampaignStatus.LAUNCHED) -> LaunchedCampaign:
    with account_context(account.id):
        campaign = Campaign.objects.create(
            account=account, created_by=owner, name=name, slug=slug, status=status,
            launched_at=timezone.now() if status == CampaignStatus.LAUNCHED else None,
        )  # fmt: skip
        hero = CampaignComponent.objects.create(
            account=account, campaign=campaign, name="Hero", component_type=ComponentType.HERO_SECTION, sort_order=0
        )
        hero_v2 = CampaignComponent.objects.create(
            account=account, campaign=campaign, name="Hero", component_type=ComponentType.HERO_SECTION, sort_order=0,
            version=2, parent_component=hero,
        )  # fmt: skip
        form = CampaignComponent.objects.create(
            account=account, campaign=campaign, name="Signup form", component_type=ComponentType.FORM, sort_order=1
        )
    return LaunchedCampaign(campaign, hero, hero_v2, form)


@pytest.fixture
def launched(tenants) -> LaunchedCampaign:
    return launch(tenants.a, tenants.alice, "Spring sale", "spring-sale")


@pytest.fixture
def foreign_launched(tenants) -> LaunchedCampaign:
    return launch(tenants.b, tenants.carol, "Globex launch", "globex-launch")


@pytest.fixture
def visitor() -> Client:
    return Client(REMOTE_ADDR=VISITOR_IP, HTTP_USER_AGENT=BROWSER_UA)


def post_event(client: Client, payload, **extra):
    body = payload if isinstance(payload, bytes | str) else json.dumps(payload)
    return client.post("/t/e/", data=body, content_type="text/plain", **extra)


def queued() -> list[dict]:
    """The rows waiting in the stream, oldest first (read without consuming)."""
    entries = stream.redis_client().xrange(stream._key())
    return [decode_line(fields[b"l"]) for _, fields in entries]


def queued_lines() -> list[tuple[str, bytes]]:
    """The stream's (account id, COPY line) pairs, as the writer reads them."""
    return [(f[b"a"].decode(), f[b"l"]) for _, f in stream.redis_client().xrange(stream._key())]
