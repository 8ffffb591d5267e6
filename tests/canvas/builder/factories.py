"""Factories of the web builder (seed 002 tables in canvas). Tenant rows are
written in their account's context, as the application writes them."""

from __future__ import annotations

import factory
from django.utils import timezone

from canvas.models import (
    AIGeneration,
    BuilderJob,
    BuilderJobType,
    Campaign,
    CampaignComponent,
    CampaignEvent,
    CampaignPage,
    CampaignPublication,
    ComponentType,
    Conversion,
    GenerationType,
    PlatformAnalysis,
    PlatformIntegration,
    PlatformType,
)
from tests.accounts.factories import AccountFactory, TenantFactory, UserFactory


class CampaignFactory(TenantFactory):
    class Meta:
        model = Campaign

    account = factory.SubFactory(AccountFactory)
    created_by = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Campaign {n}")
    slug = factory.Sequence(lambda n: f"campaign-{n}")
    description = "Spring launch of the new running shoe."
    target_audience = "Runners in their thirties"
    goals = factory.LazyFunction(lambda: ["collect leads"])


class ComponentFactory(TenantFactory):
    class Meta:
        model = CampaignComponent

    campaign = factory.SubFactory(CampaignFactory)
    account = factory.LazyAttribute(lambda o: o.campaign.account)
    name = factory.Sequence(lambda n: f"Hero {n}")
    component_type = ComponentType.HERO_SECTION
    code = '<section class="hero"><h1>Run further</h1><a href="#signup" data-track="cta">Join</a></section>'
    sort_order = factory.Sequence(lambda n: n)


class PageFactory(TenantFactory):
    class Meta:
        model = CampaignPage

    campaign = factory.SubFactory(CampaignFactory)
    account = factory.LazyAttribute(lambda o: o.campaign.account)
    html = "<section><h1>Run further</h1></section>"
    css = "h1{color:#123}"


class GenerationFactory(TenantFactory):
    class Meta:
        model = AIGeneration

    campaign = factory.SubFactory(CampaignFactory)
    account = factory.LazyAttribute(lambda o: o.campaign.account)
    generation_type = GenerationType.CAMPAIGN
    prompt_text = "A landing page for a running shoe"


class EventFactory(TenantFactory):
    class Meta:
        model = CampaignEvent

    campaign = factory.SubFactory(CampaignFactory)
    account = factory.LazyAttribute(lambda o: o.campaign.account)
    event_type = "view"
    session_id = factory.Sequence(lambda n: f"visitor-{n}")
    created_at = factory.LazyFunction(timezone.now)


class ConversionFactory(TenantFactory):
    class Meta:
        model = Conversion

    campaign = factory.SubFactory(CampaignFactory)
    account = factory.LazyAttribute(lambda o: o.campaign.account)
    value = "25.00"
    currency = "USD"
    created_at = factory.LazyFunction(timezone.now)


class IntegrationFactory(TenantFactory):
    class Meta:
        model = PlatformIntegration

    account = factory.SubFactory(AccountFactory)
    platform_type = PlatformType.WORDPRESS
    encrypted_credentials = '{"username": "editor", "application_password": "abcd efgh"}'


class PublicationFactory(TenantFactory):
    class Meta:
        model = CampaignPublication

    integration = factory.SubFactory(IntegrationFactory)
    account = factory.LazyAttribute(lambda o: o.integration.account)
    campaign = factory.LazyAttribute(lambda o: CampaignFactory(account=o.integration.account))


class PlatformAnalysisFactory(TenantFactory):
    class Meta:
        model = PlatformAnalysis

    account = factory.SubFactory(AccountFactory)
    analysis_type = "full_audit"
    source_url = "https://example.com/landing"


class BuilderJobFactory(TenantFactory):
    class Meta:
        model = BuilderJob

    account = factory.SubFactory(AccountFactory)
    job_type = BuilderJobType.GENERATION
    payload = factory.LazyFunction(dict)


def builder_rows(account, owner) -> None:
    """One row in every web-builder tenant table of `account` (the tenancy registries use it)."""
    campaign = CampaignFactory(account=account, created_by=owner, name=f"Campaign of {account.name}")
    component = ComponentFactory(campaign=campaign)
    PageFactory(campaign=campaign)
    GenerationFactory(campaign=campaign, component=component, user=owner)
    event = EventFactory(campaign=campaign, component=component)
    ConversionFactory(campaign=campaign, component=component, event=event)
    integration = IntegrationFactory(account=account, created_by=owner)
    PublicationFactory(integration=integration, campaign=campaign)
    PlatformAnalysisFactory(account=account, integration=integration, requested_by=owner)
    BuilderJobFactory(account=account, user=owner)
