"""/api/v1/builder-jobs/: the web builder's jobs (generation, publishing, leads,
analysis) with live status and queue position, cancel and retry (members up;
viewers look; another account's job is a 404), and the same actions in the admin;
the tracker's events and conversions and the publications are in the admin, read
only."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import User
from accounts.tenancy.context import account_context
from canvas.models import BuilderJob, BuilderJobStatus
from canvas.services import queue as q
from tests.accounts.factories import UserFactory
from tests.billing.factories import fund
from tests.canvas.test_queue_api import _reserved

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def waiting(tenants):
    """Two waiting builder jobs of account A (holding 3 credits each) and one of account B."""
    q._discover()
    saved = dict(q._TYPES)
    q.register_job_type("analysis", lambda ctx: q.JobResult(credits=1), estimate=3, provider="builder-test",
                        store="builder")  # fmt: skip
    fund(tenants.a, "10")
    fund(tenants.b, "10")
    first = q.job_enqueue(account=tenants.a, user=tenants.alice, job_type="analysis", data={"n": 1}, store="builder")
    second = q.job_enqueue(account=tenants.a, user=tenants.bob, job_type="analysis", data={"n": 2}, store="builder")
    other = q.job_enqueue(account=tenants.b, user=tenants.carol, job_type="analysis", data={"n": 3}, store="builder")
    yield first, second, other
    q._TYPES.clear()
    q._TYPES.update(saved)


def _status(job) -> str:
    with account_context(job.account_id):
        return BuilderJob.objects.get(pk=job.pk).status


def test_the_list_shows_the_accounts_builder_jobs_and_the_detail_its_position(api_client, tenants, waiting):
    first, second, other = waiting
    api_client.force_login(tenants.alice)
    listed = api_client.get("/api/v1/builder-jobs/").json()
    assert [j["id"] for j in listed["results"]] == [str(second.pk), str(first.pk)]
    detail = api_client.get(f"/api/v1/builder-jobs/{second.pk}/").json()
    assert (detail["status"], detail["position"], detail["can_cancel"], detail["can_retry"]) == ("pending", 2, True,
                                                                                                False)  # fmt: skip
    assert detail["payload"] == {"n": 2} and detail["estimated_credits"] == "3.0000"
    assert api_client.get(f"/api/v1/builder-jobs/{other.pk}/").status_code == 404
    # "queued" is a canvas studio status, not a builder one
    assert api_client.get("/api/v1/builder-jobs/?status=queued").status_code == 400
    assert api_client.get("/api/v1/builder-jobs/?job_type=publishing").json()["results"] == []


def test_cancel_releases_the_hold_and_retry_runs_the_job(api_client, tenants, waiting,
                                                         django_capture_on_commit_callbacks):  # fmt: skip
    first, _, other = waiting
    api_client.force_login(tenants.bob)
    assert _reserved(tenants.a) == D("6")
    cancelled = api_client.post(f"/api/v1/builder-jobs/{first.pk}/cancel/")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["can_retry"] is True
    assert _reserved(tenants.a) == D("3")
    again = api_client.post(f"/api/v1/builder-jobs/{first.pk}/cancel/")
    assert again.status_code == 409 and again.json()["error"]["code"] == "job_finished"
    with django_capture_on_commit_callbacks(execute=True):
        retried = api_client.post(f"/api/v1/builder-jobs/{first.pk}/retry/")
    assert retried.status_code == 200
    assert _status(first) == BuilderJobStatus.COMPLETED
    assert api_client.post(f"/api/v1/builder-jobs/{other.pk}/cancel/").status_code == 404
    assert _status(other) != BuilderJobStatus.CANCELLED


def test_a_viewer_sees_builder_jobs_but_cannot_cancel_them(api_client, tenants, vera, waiting):
    first, _, _ = waiting
    api_client.force_login(vera)
    assert api_client.get(f"/api/v1/builder-jobs/{first.pk}/").status_code == 200
    assert api_client.post(f"/api/v1/builder-jobs/{first.pk}/cancel/").status_code == 403
    assert _status(first) == BuilderJobStatus.PENDING


def _operator(client):
    client.force_login(UserFactory(email="ops@example.com", role=User.PlatformRole.ADMIN, is_superuser=True))


def test_operators_cancel_and_retry_builder_jobs_in_the_admin(client, tenants, waiting):
    first, second, other = waiting
    _operator(client)
    url = reverse("admin:canvas_builderjob_changelist")
    assert client.get(url).status_code == 200
    response = client.post(url, {"action": "cancel_jobs", "_selected_action": [str(first.pk), str(other.pk)]},
                           follow=True)  # fmt: skip
    assert "Cancelled 2 job(s)." in response.content.decode()
    assert (_status(first), _status(second), _status(other)) == ("cancelled", "pending", "cancelled")
    assert _reserved(tenants.b) == D("0")
    assert client.get(reverse("admin:canvas_builderjob_add")).status_code == 403


@pytest.mark.parametrize("model", ["campaignevent", "conversion", "campaignpublication"])
def test_operators_see_events_conversions_and_publications_read_only(client, tenants, model):
    _operator(client)
    assert client.get(reverse(f"admin:canvas_{model}_changelist")).status_code == 200
    assert client.get(reverse(f"admin:canvas_{model}_add")).status_code == 403
