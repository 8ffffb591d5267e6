"""Feature flags: platform switch, per-account override, default, one cached read."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.flags import FeatureDisabled, feature_enabled, feature_require, feature_set
from accounts.models import AppSetting

pytestmark = pytest.mark.django_db


def test_default_platform_switch_and_account_override(tenants):
    assert feature_enabled("marketplace") is True  # default, no row
    feature_set("marketplace", enabled=False)
    assert feature_enabled("marketplace", account_id=tenants.a.id) is False
    feature_set("marketplace", account_id=tenants.a.id, account_value=True)
    assert feature_enabled("marketplace", account_id=tenants.a.id) is True
    assert feature_enabled("marketplace", account_id=tenants.b.id) is False
    with pytest.raises(FeatureDisabled):
        feature_require("marketplace", account_id=tenants.b.id)
    assert AppSetting.objects.get(key="feature.marketplace").value == {
        "enabled": False, "accounts": {str(tenants.a.id): True}}  # fmt: skip


def test_reads_are_cached_and_a_change_is_seen_at_once(tenants):
    feature_enabled("integration.wordpress")
    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            feature_enabled("integration.wordpress", account_id=tenants.a.id)
    assert len(queries.captured_queries) == 0
    feature_set("integration.wordpress", enabled=False)
    assert feature_enabled("integration.wordpress") is False


def test_an_unknown_flag_fails_loudly():
    with pytest.raises(KeyError):
        feature_enabled("marketplce")
