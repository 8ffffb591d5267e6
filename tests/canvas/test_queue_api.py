"""/api/v1/jobs/: the account's jobs with live status and queue position; cancel
and retry (members up; viewers look); another account's job is a 404. The admin's
retry/cancel actions go through the same services."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import User
from accounts.tenancy.context import account_context
from billing.models import Wallet
from canvas.models import JobStatus, ProcessingJob
from canvas.services import queue as q
from tests.accounts.factories import UserFactory
from tests.billing.factories import fund

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def waiting(tenants):
    """Two waiting jobs of account A (holding 2 credits each) and one of account B."""
    q._discover()
    saved = dict(q._TYPES)
    q.register_job_type("file_processing", lambda ctx: q.JobResult(credits=1), estimate=2, provider="files")
    fund(tenants.a, "10")
    fund(tenants.b, "10")
    first = q.job_enqueue(account=tenants.a, user=tenants.alice, job_type="file_processing", data={"n": 1})
    second = q.job_enqueue(account=tenants.a, user=tenants.bob, job_type="file_processing", data={"n": 2})
    other = q.job_enqueue(account=tenants.b, user=tenants.carol, job_type="file_processing", data={"n": 3})
    yield first, second, other
    q._TYPES.clear()
    q._TYPES.update(saved)


def _reserved(account) -> Decimal:
    with account_context(account.id):
        return Wallet.objects.get(account=account).reserved


def test_the_list_shows_the_accounts_jobs_and_the_detail_its_position(api_client, tenants, waiting):
    first, second, other = waiting
    api_client.force_login(tenants.alice)
    listed = api_client.get("/api/v1/jobs/").json()
    assert [j["id"] for j in listed["results"]] == [str(second.pk), str(first.pk)]
    detail = api_client.get(f"/api/v1/jobs/{second.pk}/").json()
    assert (detail["status"], detail["position"], detail["progress"], detail["can_cancel"]) == ("queued", 2, 0, True)
    assert detail["estimated_credits"] == "2.0000"
    assert api_client.get(f"/api/v1/jobs/{other.pk}/").status_code == 404
    assert api_client.get("/api/v1/jobs/?status=nope").status_code == 400


def test_cancel_and_retry_through_the_api(api_client, tenants, waiting, django_capture_on_commit_callbacks):
    first, _, other = waiting
    api_client.force_login(tenants.bob)
    assert _reserved(tenants.a) == D("4")
    cancelled = api_client.post(f"/api/v1/jobs/{first.pk}/cancel/")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert _reserved(tenants.a) == D("2")
    again = api_client.post(f"/api/v1/jobs/{first.pk}/cancel/")
    assert again.status_code == 409 and again.json()["error"]["code"] == "job_finished"
    with django_capture_on_commit_callbacks(execute=True):
        retried = api_client.post(f"/api/v1/jobs/{first.pk}/retry/")
    assert retried.status_code == 200
    with account_context(tenants.a.id):
        assert ProcessingJob.objects.get(pk=first.pk).status == JobStatus.COMPLETED
    assert api_client.post(f"/api/v1/jobs/{other.pk}/cancel/").status_code == 404


def test_a_viewer_cannot_cancel(api_client, tenants, vera, waiting):
    first, _, _ = waiting
    api_client.force_login(vera)
    assert api_client.post(f"/api/v1/jobs/{first.pk}/cancel/").status_code == 403
    with account_context(tenants.a.id):
        assert ProcessingJob.objects.get(pk=first.pk).status == JobStatus.QUEUED


def test_operators_cancel_and_retry_jobs_in_the_admin(client, tenants, waiting):
    first, second, _ = waiting
    client.force_login(UserFactory(email="ops@example.com", role=User.PlatformRole.ADMIN, is_superuser=True))
    url = reverse("admin:canvas_processingjob_changelist")
    response = client.post(url, {"action": "cancel_jobs", "_selected_action": [str(first.pk), str(second.pk)]})
    assert response.status_code == 302
    with account_context(tenants.a.id):
        assert set(ProcessingJob.objects.filter(account=tenants.a).values_list("status", flat=True)) == {"cancelled"}
    assert _reserved(tenants.a) == D("0")
    client.post(url, {"action": "retry_jobs", "_selected_action": [str(first.pk)]})
    with account_context(tenants.a.id):
        assert ProcessingJob.objects.get(pk=first.pk).status == JobStatus.QUEUED
    assert _reserved(tenants.a) == D("2")
