"""The content studio page: jobs with live status and cancel/retry, the inbox, and
adding a piece by URL (a bad URL is a flash error and stores nothing)."""

from __future__ import annotations

import pytest

from accounts.tenancy.context import account_context
from canvas.models import ContentPiece
from canvas.services import queue as q
from tests.billing.factories import fund
from tests.canvas.factories import ContentPieceFactory, CreatorFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def test_the_page_lists_jobs_and_the_inbox(client, tenants):
    q._discover()
    fund(tenants.a, "5")
    job = q.job_enqueue(account=tenants.a, user=tenants.alice, job_type="content_analysis", data={"analysis_id": "x"})
    with account_context(tenants.a.id):
        ContentPieceFactory(account=tenants.a, project=None, creator=CreatorFactory(username="chefmina"),
                            title="Scraped reel")  # fmt: skip
    client.force_login(tenants.alice)
    page = client.get("/canvas/content/").content.decode()
    assert f'data-job="{job.pk}"' in page and "Content analysis" in page
    assert "Scraped reel" in page and "@chefmina" in page
    client.force_login(tenants.carol)
    assert f'data-job="{job.pk}"' not in client.get("/canvas/content/").content.decode()


def test_adding_by_url_from_the_page(client, tenants):
    project = ProjectFactory(account=tenants.a, created_by=tenants.alice, title="Hooks")
    client.force_login(tenants.alice)
    ok = client.post("/canvas/content/add/", {"project": str(project.pk), "source_url": "https://youtu.be/abc"},
                     follow=True)  # fmt: skip
    assert "Added to" in ok.content.decode()
    bad = client.post("/canvas/content/add/", {"project": str(project.pk), "source_url": "https://vimeo.com/1"},
                      follow=True)  # fmt: skip
    assert "not a supported site" in bad.content.decode()
    with account_context(tenants.a.id):
        assert ContentPiece.objects.filter(account=tenants.a).count() == 1
    client.force_login(tenants.carol)
    assert (
        client.post(
            "/canvas/content/add/", {"project": str(project.pk), "source_url": "https://youtu.be/x"}
        ).status_code
        == 404
    )
