"""The demo traffic goes through the real writer, once."""

from __future__ import annotations

import pytest

from accounts.tenancy.context import account_context
from canvas.models.tracking import CampaignEvent, Conversion
from canvas.tracking.analytics import ab_compare, campaign_analytics
from canvas.tracking.demo import tracking_demo_seed

pytestmark = pytest.mark.django_db


def test_the_demo_fills_two_weeks_once(launched, tenants):
    written = tracking_demo_seed(launched.campaign)
    assert written > 14 * 25
    assert tracking_demo_seed(launched.campaign) == 0
    with account_context(tenants.a.id):
        assert CampaignEvent.objects.count() == written
        assert Conversion.objects.exists()
        figures = campaign_analytics(tenants.a, launched.campaign, days=14)
        ab = ab_compare(tenants.a, launched.campaign, a_id=launched.hero.pk, b_id=launched.hero_v2.pk, days=14)
    assert sum(1 for d in figures.by_day if d.views) == 14
    assert ab.test.a.visitors > 0 and ab.test.b.visitors > 0 and ab.both == 0
