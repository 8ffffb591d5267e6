"""The content studio's job list in Chromium: each unfinished job is polled through
AIP.poll (live.js), which keeps going after a failed answer, paints every answer and
stops once the job has finished. The job API is answered by the test (page.route),
so the job's course is scripted; no ORM while the browser is open (see `chromium()`)."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from django.test import Client
from playwright.sync_api import expect

from accounts.tenancy.context import account_context
from canvas.services import queue as q
from tests.billing.factories import fund
from tests.browser.chromium import chromium
from tests.browser.test_chat_streaming import asgi_server  # noqa: F401  (the live ASGI server fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TIMEOUT_MS = 20_000


def _job(status: str, progress: int) -> dict:
    return {"status": status, "progress": progress, "position": None, "error_message": "", "actual_credits": "1",
            "estimated_credits": "1", "can_cancel": status == "processing", "can_retry": False}  # fmt: skip


def test_a_running_job_is_polled_until_it_finishes(asgi_server, tenants, settings):  # noqa: F811
    # given alice's content analysis job, processing
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    q._discover()
    fund(tenants.a, "5")
    data = {"analysis_id": str(uuid.uuid4())}
    job = q.job_enqueue(account=tenants.a, user=tenants.alice, job_type="content_analysis", data=data)
    with account_context(tenants.a.id):
        type(job).objects.filter(pk=job.pk).update(status="processing", progress=10)
    client = Client()
    client.force_login(tenants.alice)
    cookie = {"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
              "url": asgi_server}  # fmt: skip
    # the job API answers: an error, then 40%, then completed (and completed after that)
    answers = [None, _job("processing", 40), _job("completed", 100)]
    asked = []

    def answer(route):
        asked.append(time.monotonic())
        body = answers[min(len(asked), len(answers)) - 1]
        if body is None:
            route.fulfill(status=503, body="busy")
        else:
            route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

    with chromium() as browser:
        page = browser.new_context()
        page.set_default_timeout(TIMEOUT_MS)
        page.add_cookies([cookie])
        tab = page.new_page()
        errors = []
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        tab.route(f"**/api/v1/jobs/{job.pk}/", answer)

        # when she opens the content studio
        tab.goto(f"{asgi_server}/canvas/content/")
        row = tab.get_by_test_id(f"job-{job.pk}")
        expect(row.locator("[data-field=status]")).to_have_text("Processing")

        # then the poller gets past the failed answer and shows the progress, then the end
        expect(row.locator("[data-field=progress]")).to_have_attribute("value", "40", timeout=TIMEOUT_MS)
        expect(row.locator("[data-field=status]")).to_have_text("Completed", timeout=TIMEOUT_MS)
        expect(row.locator("[data-action=cancel]")).to_have_attribute("hidden", "")
        # and, the job finished, it stops asking
        finished_after = len(asked)
        tab.wait_for_timeout(5000)
        assert len(asked) == finished_after == 3
        assert errors == []
