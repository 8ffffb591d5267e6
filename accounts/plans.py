"""Limits that come with each plan type (seed 003 `accounts` limit columns).

Seed 003 defaults `user_limit` to 1; an individual plan here allows a couple of
collaborators so that a new personal account can invite someone right away.
"""

from dataclasses import dataclass

from .models import Account


@dataclass(frozen=True)
class PlanLimits:
    creator_limit: int
    user_limit: int
    voice_model_limit: int
    storage_limit_gb: int


PLAN_LIMITS = {
    Account.PlanType.INDIVIDUAL: PlanLimits(creator_limit=5, user_limit=3, voice_model_limit=10, storage_limit_gb=50),
    Account.PlanType.TEAM: PlanLimits(creator_limit=20, user_limit=10, voice_model_limit=25, storage_limit_gb=200),
    Account.PlanType.AGENCY: PlanLimits(creator_limit=100, user_limit=50, voice_model_limit=100, storage_limit_gb=1000),
}
