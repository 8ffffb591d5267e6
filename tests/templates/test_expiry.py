"""Seed 001 TODO: results expire 12 months after creation; a beat job deletes them in batches."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.tenancy.context import account_context, rls_bypass
from templates.models import ServiceResult
from templates.services.expiry import results_expire
from tests.templates.factories import ServiceResultFactory

pytestmark = pytest.mark.django_db


def test_results_expire_twelve_months_after_creation(tenants):
    result = ServiceResultFactory(account=tenants.a, user=tenants.alice)
    created = result.created_at
    assert (result.expires_at.year - created.year) * 12 + result.expires_at.month - created.month == 12


def test_the_sweep_deletes_only_expired_results_across_accounts(tenants):
    now = timezone.now()
    keep = ServiceResultFactory(account=tenants.a, user=tenants.alice, expires_at=now + timedelta(minutes=1))
    for account, user in [(tenants.a, tenants.alice)] * 3 + [(tenants.b, tenants.carol)] * 2:
        ServiceResultFactory(account=account, user=user, expires_at=now - timedelta(days=1))
    # when, with batches of two
    deleted = results_expire(batch_size=2, now=now)
    # then
    assert deleted == 5
    with rls_bypass("test"):
        assert list(ServiceResult.objects.values_list("pk", flat=True)) == [keep.pk]


def test_expired_results_are_hidden_before_the_sweep(tenants, api_client):
    ServiceResultFactory(account=tenants.a, user=tenants.alice, expires_at=timezone.now() - timedelta(seconds=1))
    api_client.force_login(tenants.alice)
    assert api_client.get("/api/v1/results/").json()["count"] == 0
    with account_context(tenants.a.id):
        assert ServiceResult.objects.count() == 1


def test_the_sweep_is_on_the_beat_schedule():
    assert settings.CELERY_BEAT_SCHEDULE["service-results-expire"] == {
        "task": "templates.tasks.results_expire",
        "schedule": 3600.0,
    }
