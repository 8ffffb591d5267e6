"""Serving launched campaigns: `/p/<slug>/` on the platform, or `/` on the
campaign's own domain (the request's Host matches `custom_domain`).

The visitor has no account, so the campaign is found under `rls_bypass` with a
narrow lookup (id and account of a launched campaign only); everything else is
read inside that account's context. Only the newest published page version is
served: drafts never leak, and a paused or archived campaign is a 404.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache

from accounts.tenancy.context import account_context, rls_bypass
from canvas.models import Campaign, CampaignPage, CampaignStatus

DOMAIN_CACHE_SECONDS = 60


@dataclass(frozen=True)
class HostedPage:
    campaign: Campaign
    page: CampaignPage


def _launched(**lookup) -> tuple | None:
    with rls_bypass("hosting: which launched campaign does this public address serve?"):
        return Campaign.objects.filter(status=CampaignStatus.LAUNCHED, **lookup).values_list("pk", "account_id").first()


def hosted_page(*, slug: str | None = None, domain: str | None = None) -> HostedPage | None:
    if slug:
        found = _launched(slug=slug)
    elif domain:
        found = _launched(custom_domain=domain.lower())
    else:
        return None
    if found is None:
        return None
    campaign_id, account_id = found
    with account_context(account_id):
        campaign = Campaign.objects.get(pk=campaign_id)
        page = CampaignPage.objects.filter(campaign=campaign, is_published=True).order_by("-version").first()
    if page is None:
        return None
    return HostedPage(campaign, page)


def is_campaign_domain(host: str) -> bool:
    """Cached: is `host` some launched campaign's custom domain (the middleware asks on every request)."""
    host = (host or "").split(":")[0].lower()
    if not host or "." not in host:
        return False
    key = f"builder:domain:{host}"
    known = cache.get(key)
    if known is None:
        known = _launched(custom_domain=host) is not None
        cache.set(key, known, DOMAIN_CACHE_SECONDS)
    return known
