"""Which campaigns accept events, cached in the process.

The collector answers every event without touching the database on the hot
path: a launched campaign's account and component ids are looked up once per
TRACKING_CAMPAIGN_CACHE_SECONDS per process (unknown ids too, so a flood of made-up
ids costs one query each per period, not one per event). A campaign paused or
archived stops being counted within that period.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings

from accounts.tenancy.context import rls_bypass

MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class Target:
    campaign_id: str
    account_id: str
    components: frozenset[str]


_cache: dict[str, tuple[float, Target | None]] = {}


def _load(campaign_id: str) -> Target | None:
    from canvas.models.campaigns import Campaign, CampaignComponent, CampaignStatus

    with rls_bypass("tracking: a public event names its campaign"):
        account_id = (
            Campaign.objects.filter(pk=campaign_id, status=CampaignStatus.LAUNCHED)
            .values_list("account_id", flat=True)
            .first()
        )
        if account_id is None:
            return None
        components = CampaignComponent.objects.filter(campaign_id=campaign_id).values_list("id", flat=True)
        return Target(campaign_id, str(account_id), frozenset(str(c) for c in components))


def target_for(campaign_id: str) -> Target | None:
    now = time.monotonic()
    hit = _cache.get(campaign_id)
    if hit is not None and hit[0] > now:
        return hit[1]
    target = _load(campaign_id)
    if len(_cache) >= MAX_ENTRIES:
        _cache.clear()
    _cache[campaign_id] = (now + settings.TRACKING_CAMPAIGN_CACHE_SECONDS, target)
    return target


def targets_forget() -> None:
    _cache.clear()
