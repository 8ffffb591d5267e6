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


def _stored_file(name: str) -> str:
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    return default_storage.save(name, ContentFile(b"\x89PNG not really"))


def test_an_expired_results_photos_and_images_leave_storage_with_it(tenants, settings, tmp_path, on_commit):
    from django.core.files.storage import default_storage

    # given an expired result with a photo and an image stored, and a live one with its own
    settings.MEDIA_ROOT = str(tmp_path / "media")
    now = timezone.now()
    photo, image, kept = (_stored_file(f"service-inputs/{n}.png") for n in ("photo", "image", "kept"))
    ServiceResultFactory(
        account=tenants.a, user=tenants.alice, expires_at=now - timedelta(days=1),
        input_files=[photo], result_files=[image],
    )  # fmt: skip
    ServiceResultFactory(account=tenants.b, user=tenants.carol, input_files=[kept])

    # when the sweep commits
    with on_commit(execute=True):
        assert results_expire(now=now) == 1

    # then the expired result's files are gone and the live result's file stays
    assert not default_storage.exists(photo) and not default_storage.exists(image)
    assert default_storage.exists(kept)


def test_a_rolled_back_delete_keeps_the_files(tenants, settings, tmp_path, on_commit):
    from django.core.files.storage import default_storage
    from django.db import transaction

    settings.MEDIA_ROOT = str(tmp_path / "media")
    photo = _stored_file("service-inputs/photo.png")
    result = ServiceResultFactory(account=tenants.a, user=tenants.alice, input_files=[photo])

    class Abort(Exception):
        pass

    with on_commit(execute=True), pytest.raises(Abort), transaction.atomic():
        with account_context(tenants.a.id):
            ServiceResult.objects.filter(pk=result.pk).delete()
        raise Abort

    assert default_storage.exists(photo)
