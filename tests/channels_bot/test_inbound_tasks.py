"""Processing is idempotent and nothing is lost: the sweep re-runs deliveries a killed
worker left behind, a poison delivery ends failed, operators see and re-process."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from accounts.tenancy.context import account_context, rls_bypass
from channels_bot.models import ConnectedChannel, ConversationMessage, WebhookDelivery
from channels_bot.services.inbound import MAX_ATTEMPTS, delivery_process
from channels_bot.tasks.inbound import deliveries_sweep
from tests.accounts.factories import UserFactory
from tests.channels_bot.factories import ChannelFactory
from tests.support.platform_webhooks import body_bytes, meta_delivery, meta_entry, meta_message, sign_meta

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_platform", "webhook_settings")]


def stored(body: bytes, *, age: timedelta = timedelta(0), **fields) -> WebhookDelivery:
    """A delivery as the endpoint stores it (its task lost: never enqueued here)."""
    with rls_bypass("test: store a delivery"):
        delivery = WebhookDelivery.objects.create(source="meta", body=body, signature=sign_meta(body), **fields)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(received_at=timezone.now() - age)
        return WebhookDelivery.objects.get(pk=delivery.pk)


def reread(delivery: WebhookDelivery) -> WebhookDelivery:
    with rls_bypass("test: read a delivery"):
        return WebhookDelivery.objects.get(pk=delivery.pk)


def messages(account) -> list[ConversationMessage]:
    with account_context(account.id):
        return list(ConversationMessage.objects.all())


@pytest.fixture
def page(tenants):
    return ChannelFactory(account=tenants.a, platform_specific_id="700")


def one_message(mid: str = "m_k") -> bytes:
    return body_bytes(meta_delivery([meta_entry("700", [meta_message("700", "PSID-1", "hello", mid=mid)])]))


def test_the_sweep_processes_deliveries_left_received_for_over_a_minute(tenants, page, answers,
                                                                      django_capture_on_commit_callbacks):  # fmt: skip
    # given: one delivery whose worker died two minutes ago, one that just arrived
    lost = stored(one_message("m_lost"), age=timedelta(minutes=2), attempts=1)
    fresh = stored(one_message("m_fresh"))
    # when
    with django_capture_on_commit_callbacks(execute=True):
        swept = deliveries_sweep()
    # then
    assert swept == 1
    assert (reread(lost).status, reread(lost).attempts) == ("processed", 2)
    assert reread(fresh).status == "received"
    assert [m.platform_message_id for m in messages(tenants.a)] == ["m_lost"]
    assert len(answers) == 1


def test_processing_twice_does_nothing_the_second_time(tenants, page, answers, django_capture_on_commit_callbacks):
    # given
    delivery = stored(one_message())
    with django_capture_on_commit_callbacks(execute=True):
        first = delivery_process(delivery_id=str(delivery.pk))
    # when
    with django_capture_on_commit_callbacks(execute=True):
        second = delivery_process(delivery_id=str(delivery.pk))
    # then
    assert (first.status, second) == ("processed", None)
    assert len(messages(tenants.a)) == 1
    assert len(answers) == 1
    assert reread(delivery).attempts == 1


def test_a_delivery_that_keeps_killing_its_worker_ends_failed(tenants, page, answers):
    # given
    delivery = stored(one_message(), age=timedelta(minutes=5), attempts=MAX_ATTEMPTS)
    # when
    outcome = delivery_process(delivery_id=str(delivery.pk))
    # then
    assert (outcome.status, outcome.result) == ("failed", f"gave up after {MAX_ATTEMPTS} attempts")
    assert messages(tenants.a) == []


def test_a_stored_body_that_is_not_json_fails_visibly(tenants, page):
    # given: stored by an older version, or edited by hand
    delivery = stored(b"{broken")
    # when
    outcome = delivery_process(delivery_id=str(delivery.pk))
    # then
    assert outcome.status == "failed"
    assert reread(delivery).result.startswith("the body is not JSON:")


def test_a_missing_delivery_is_a_quiet_no_op():
    assert delivery_process(delivery_id="00000000-0000-0000-0000-000000000000") is None


def test_operators_see_deliveries_and_re_process_one(tenants, page, answers, django_capture_on_commit_callbacks):
    # given: a delivery ignored while the channel was paused
    with account_context(tenants.a.id):
        ConnectedChannel.objects.filter(pk=page.pk).update(is_active=False)
    delivery = stored(one_message("m_paused"))
    delivery_process(delivery_id=str(delivery.pk))
    assert reread(delivery).status == "ignored"
    with account_context(tenants.a.id):
        ConnectedChannel.objects.filter(pk=page.pk).update(is_active=True)
    ops = Client()
    ops.force_login(UserFactory(email="ops@example.com", role=User.PlatformRole.ADMIN, is_superuser=True))
    # when
    listing = ops.get("/admin/channels_bot/webhookdelivery/").content.decode()
    detail = ops.get(f"/admin/channels_bot/webhookdelivery/{delivery.pk}/change/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = ops.post("/admin/channels_bot/webhookdelivery/",
                            {"action": "reprocess", "_selected_action": [str(delivery.pk)]}, follow=True)  # fmt: skip
    # then
    assert "FACEBOOK_PAGE 700 (paused channel): 1 events ignored" in listing
    assert "&quot;mid&quot;: &quot;m_paused&quot;" in detail  # the body, decoded and pretty-printed
    # (the admin capitalises its message's first letter: a hex id may start with one)
    assert f"{delivery.pk}: processed (FACEBOOK_PAGE 700: 1 new messages)".lower() in response.content.decode().lower()
    assert [m.platform_message_id for m in messages(tenants.a)] == ["m_paused"]
    assert len(answers) == 1
    channels = ops.get("/admin/channels_bot/connectedchannel/").content.decode()
    assert page.channel_name in channels
    assert "PAGE-TOKEN" not in ops.get(f"/admin/channels_bot/connectedchannel/{page.pk}/change/").content.decode()
    assert ops.get("/admin/channels_bot/customer/").status_code == 200
