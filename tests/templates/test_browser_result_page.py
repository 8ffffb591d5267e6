"""In Chromium: the result page follows a run live (polling its status every
second) and shows the answer when the worker finishes, with no reload by hand.

The run's database work happens in a helper thread: Playwright's sync API keeps
an event loop in the test's thread, where Django's ORM refuses to run."""

from __future__ import annotations

import threading
from unittest import mock

import pytest
from django.db import connection
from playwright.sync_api import expect

from accounts.tenancy.context import account_context
from aiplatform.platform_data import platform_data_load
from billing.services.subscriptions import subscription_for
from templates.models import ServiceResult
from templates.services.run import result_process, service_run
from tests.accounts.factories import PASSWORD, tenant_setup
from tests.browser.chromium import PHONE, chromium, horizontal_overflow
from tests.templates.factories import VALID_READING, service_with_template

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
TIMEOUT_MS = 10_000


def _in_thread(work):
    box: dict = {}

    def run():
        try:
            box["value"] = work()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    return box.get("value")


def _plans_seeded() -> None:
    """Transactional tests flush the plans the billing migrations seed; subscriptions need them."""
    platform_data_load()


def test_the_result_page_follows_the_run_until_the_answer_arrives(live_server, chat_model, model_server):
    _plans_seeded()
    t = tenant_setup()
    subscription_for(t.a)
    service_with_template("weekly-reading")
    # Queued, not run: this test plays the worker below, while the page watches.
    with mock.patch("templates.tasks.service_result_process.delay"):
        result = service_run(
            account=t.a,
            user=t.alice,
            service_code="weekly-reading",
            params={"name": "Minji", "birth_date": "1990-04-01"},
        )
    model_server.reply(VALID_READING)

    with chromium() as browser:
        context = browser.new_context(**PHONE)
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        page.goto(f"{live_server.url}/auth/login/")
        page.locator("input[name=login]").fill("alice@example.com")
        page.locator("input[name=password]").fill(PASSWORD)
        page.get_by_role("button", name="Sign In").click()

        # given the result page of a run still waiting for a worker
        page.goto(f"{live_server.url}/services/results/{result.pk}/")
        expect(page.get_by_test_id("status")).to_have_text("Waiting to start")
        expect(page.get_by_test_id("progress")).to_have_text("Waiting for a worker to start…")

        # when the worker runs it
        _in_thread(lambda: result_process(result_id=str(result.pk), account_id=str(t.a.id)))

        # then the page notices by itself and shows the answer and the share and rating controls
        expect(page.get_by_test_id("status")).to_have_text("Completed")
        expect(page.get_by_test_id("output")).to_contain_text("A bright week ahead.")
        expect(page.get_by_test_id("share-form")).to_be_visible()
        assert horizontal_overflow(page) == 0

        # and making it public shows a link that opens without signing in
        page.get_by_test_id("share-form").get_by_role("button", name="Make public").click()
        link = page.get_by_test_id("share-url").input_value()
        anonymous = browser.new_context(**PHONE).new_page()
        anonymous.goto(link)
        expect(anonymous.get_by_test_id("shared-result")).to_contain_text("A bright week ahead.")
        expect(anonymous.locator("body")).not_to_contain_text("Minji")

    status = _in_thread(lambda: _status(t, result.pk))
    assert status == ("completed", True)


def _status(t, pk):
    with account_context(t.a.id):
        row = ServiceResult.objects.get(pk=pk)
    return row.status, row.is_public
