"""Campaigns: create (within the plan's monthly campaigns), edit, search, and
move through the status machine (`CAMPAIGN_TRANSITIONS`, also a database
trigger). Launching freezes the editor's draft page as the published version
that the hosted URL serves."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.text import slugify
from django.utils.translation import gettext

from accounts.models import Account, Membership, Role
from accounts.tenancy.context import account_context
from aiplatform.errors import Conflict, Forbidden, InvalidInput, LimitReached, NotFound
from billing.models import Subscription
from billing.services.subscriptions import subscription_for
from canvas.models import CAMPAIGN_TRANSITIONS, Campaign, CampaignPage, CampaignStatus, CampaignType
from canvas.models.campaigns import SEARCH_CONFIG

NAME_MAX = 255
TEXT_MAX = 20_000
GOALS_MAX = 20

_UNSET: Any = object()


def member_require(actor: Membership, what: str) -> None:
    if not Role(actor.role).at_least(Role.MEMBER):
        raise Forbidden(gettext("Viewers cannot %(what)s; ask an account admin for the member role.") % {"what": what})


def _text(value: Any, *, field: str, limit: int = TEXT_MAX, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(gettext("Enter text."), fields={field: ["Enter text."]})
    text = value.strip()
    if required and not text:
        raise InvalidInput(
            gettext("A %(field)s is required.") % {"field": field.replace("_", " ")},
            fields={field: ["This field is required."]},
        )
    if len(text) > limit:
        raise InvalidInput(
            gettext("At most %(limit)s characters.") % {"limit": limit},
            fields={field: [f"At most {limit} characters."]},
        )
    return text


def _goals(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [g for g in (part.strip() for part in value.split("\n")) if g]
    if not isinstance(value, list) or not all(isinstance(g, str) for g in value):
        raise InvalidInput(gettext("Goals are a list of short texts."), fields={"goals": ["Enter a list of texts."]})
    goals = [g.strip()[:300] for g in value if g.strip()]
    if len(goals) > GOALS_MAX:
        raise InvalidInput(
            gettext("At most %(GOALS_MAX)s goals.") % {"GOALS_MAX": GOALS_MAX},
            fields={"goals": [f"At most {GOALS_MAX} goals."]},
        )
    return goals


def _month_start(today: date | None = None) -> date:
    return (today or timezone.localdate()).replace(day=1)


def campaigns_this_month(account: Account) -> int:
    start = timezone.make_aware(timezone.datetime.combine(_month_start(), timezone.datetime.min.time()))
    return Campaign.objects.filter(account=account, created_at__gte=start).count()


def campaign_limit_check(account: Account) -> None:
    """The plan's monthly campaigns (409 plan_limit_reached, with the figures)."""
    subscription_for(account)
    sub = Subscription.objects.filter(account=account).select_related("plan").first()
    limit = sub.plan.monthly_campaigns if sub else 0
    used = campaigns_this_month(account)
    if used + 1 > limit:
        raise LimitReached(
            gettext(
                "Your plan allows %(limit)s new campaigns a month and %(used)s were created this month. "
                "Upgrade the plan to create more, or reuse a campaign."
            )
            % {"limit": limit, "used": used},
            extra={"limit": limit, "used": used, "name": "monthly_campaigns"},
        )


def _unique_slug(name: str) -> str:
    base = (slugify(name)[:60] or "campaign").strip("-") or "campaign"
    return f"{base}-{get_random_string(6, 'abcdefghijklmnopqrstuvwxyz0123456789')}"


def campaign_create(
    *,
    account: Account,
    actor: Membership,
    name: str,
    description: str = "",
    campaign_type: str = CampaignType.LANDING_PAGE,
    target_audience: str = "",
    business_type: str = "",
    goals: Any = None,
    brand_guidelines: str = "",
    performance_requirements: dict | None = None,
) -> Campaign:
    member_require(actor, "create campaigns")
    name = _text(name, field="name", limit=NAME_MAX, required=True)
    if campaign_type not in CampaignType.values:
        raise InvalidInput(
            gettext("Unknown campaign type."), fields={"campaign_type": [f"One of {', '.join(CampaignType.values)}."]}
        )
    if performance_requirements is not None and not isinstance(performance_requirements, dict):
        raise InvalidInput(gettext("An object."), fields={"performance_requirements": ["Enter a JSON object."]})
    values = dict(
        description=_text(description, field="description"),
        target_audience=_text(target_audience, field="target_audience"),
        business_type=_text(business_type, field="business_type", limit=100),
        goals=_goals(goals),
        brand_guidelines=_text(brand_guidelines, field="brand_guidelines"),
        performance_requirements=performance_requirements or {},
    )
    with account_context(account.id), transaction.atomic():
        campaign_limit_check(account)
        return Campaign.objects.create(
            account=account, created_by=actor.user, name=name, slug=_unique_slug(name),
            campaign_type=campaign_type, **values,
        )  # fmt: skip


def campaign_update(
    *,
    campaign: Campaign,
    actor: Membership,
    name: Any = _UNSET,
    description: Any = _UNSET,
    target_audience: Any = _UNSET,
    business_type: Any = _UNSET,
    goals: Any = _UNSET,
    brand_guidelines: Any = _UNSET,
) -> Campaign:
    member_require(actor, "edit campaigns")
    if campaign.status == CampaignStatus.ARCHIVED:
        raise Conflict(gettext("This campaign is archived and cannot be changed."), code="campaign_archived")
    fields = []
    for field, value, limit in (
        ("name", name, NAME_MAX), ("description", description, TEXT_MAX),
        ("target_audience", target_audience, TEXT_MAX), ("business_type", business_type, 100),
        ("brand_guidelines", brand_guidelines, TEXT_MAX),
    ):  # fmt: skip
        if value is not _UNSET:
            setattr(campaign, field, _text(value, field=field, limit=limit, required=field == "name"))
            fields.append(field)
    if goals is not _UNSET:
        campaign.goals = _goals(goals)
        fields.append("goals")
    if fields:
        with account_context(campaign.account_id):
            campaign.save(update_fields=[*fields, "updated_at"])
    return campaign


def campaign_transition(*, campaign: Campaign, actor: Membership | None, status: str) -> Campaign:
    """Move the campaign to `status` if the machine allows it (409 otherwise).
    Launching needs a page with content; it publishes the editor's draft."""
    if actor is not None:
        member_require(actor, "change a campaign's status")
    if status not in CampaignStatus.values:
        raise InvalidInput(
            gettext("Unknown status."), fields={"status": [f"One of {', '.join(CampaignStatus.values)}."]}
        )
    with account_context(campaign.account_id), transaction.atomic():
        row = Campaign.objects.select_for_update().filter(pk=campaign.pk, account_id=campaign.account_id).first()
        if row is None:
            raise NotFound(gettext("No such campaign in this account."))
        if status not in CAMPAIGN_TRANSITIONS[row.status]:
            allowed = ", ".join(CAMPAIGN_TRANSITIONS[row.status]) or "none (archived is final)"
            raise Conflict(
                gettext("A %(status)s campaign cannot become %(new_status)s. Allowed next: %(allowed)s.")
                % {"status": row.status, "new_status": status, "allowed": allowed},
                code="invalid_transition",
                extra={"allowed": list(CAMPAIGN_TRANSITIONS[row.status])},
            )
        fields = ["status", "updated_at"]
        if status == CampaignStatus.LAUNCHED:
            _publish_page(row, actor)
            if row.launched_at is None:
                row.launched_at = timezone.now()
                fields.append("launched_at")
        row.status = status
        row.save(update_fields=fields)
    campaign.status, campaign.launched_at = row.status, row.launched_at
    return row


def _publish_page(campaign: Campaign, actor: Membership | None) -> CampaignPage:
    """The draft page becomes the next published version (a campaign never
    edited in the editor publishes its current components)."""
    from .editor import page_from_components

    draft = CampaignPage.objects.select_for_update().filter(campaign=campaign, is_published=False).first()
    if draft is None:
        published = CampaignPage.objects.filter(campaign=campaign, is_published=True).order_by("-version").first()
        if published is not None:
            return published  # relaunch after a pause: nothing new to publish
        draft = page_from_components(campaign, actor=actor)
    if not draft.html.strip():
        raise Conflict(gettext("The page is empty: add or generate components before launching."), code="page_empty")
    draft.is_published = True
    draft.published_at = timezone.now()
    draft.save(update_fields=["is_published", "published_at", "updated_at"])
    return draft


def campaigns_search(account: Account, *, q: str = "", status: str = "", campaign_type: str = "") -> QuerySet:
    """The account's campaigns; with `q`, only matches, best first (ts_rank over
    the weighted search vector: name > goals, audience > description)."""
    qs = Campaign.objects.filter(account=account).select_related("created_by")
    if status:
        qs = qs.filter(status=status)
    if campaign_type:
        qs = qs.filter(campaign_type=campaign_type)
    q = (q or "").strip()[:200]
    if q:
        query = SearchQuery(q, search_type="websearch", config=SEARCH_CONFIG)
        qs = (
            qs.filter(search_vector=query)
            .annotate(rank=SearchRank(F("search_vector"), query))
            .order_by("-rank", "-created_at", "id")
        )
    return qs


def campaign_for_account(account: Account, campaign_id) -> Campaign:
    row = Campaign.objects.filter(account=account, pk=campaign_id).first()
    if row is None:
        raise NotFound(gettext("No such campaign in this account."))
    return row
