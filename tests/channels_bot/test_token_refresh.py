"""The `tokens_refresh` beat task: Instagram Login tokens before their 60 days
run out, X tokens 5 minutes before their 2 hours, one refresh per token even
with two workers, and a refused refresh marks the channel for reconnecting."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connections
from django.utils import timezone

from accounts.tenancy.context import account_context
from channels_bot.models import ConnectedChannel
from channels_bot.services.connect import _refresh_lock, channel_token_refresh
from channels_bot.tasks.outbound import tokens_refresh
from tests.channels_bot.factories import ChannelFactory

pytestmark = pytest.mark.django_db

IG = {"platform_type": "INSTAGRAM_BUSINESS", "route": "instagram_login"}
X = {"platform_type": "TWITTER_PROFILE", "route": "x_oauth2"}


def _reload(channel) -> ConnectedChannel:
    with account_context(channel.account_id):
        return ConnectedChannel.objects.get(pk=channel.pk)


def test_instagram_token_refreshed_within_the_window(tenants, fake_platform, settings):
    # given tokens expiring in 5 days (due), 30 days (not yet), and one already expired
    settings.INSTAGRAM_REFRESH_BEFORE_DAYS = 10
    now = timezone.now()
    due = ChannelFactory(account=tenants.a, access_token="IG-LONG-A", token_expires_at=now + timedelta(days=5), **IG)
    later = ChannelFactory(account=tenants.b, access_token="IG-LONG-B", token_expires_at=now + timedelta(days=30), **IG)
    expired = ChannelFactory(account=tenants.a, access_token="IG-LONG-C", token_expires_at=now - timedelta(hours=1),
                             channel_name="Expired IG", **IG)  # fmt: skip

    # when
    result = tokens_refresh.apply().get()

    # then
    assert result == {"refreshed": 1, "failed": 0, "needs_reconnect": 1}
    [call] = fake_platform.calls("ig.refresh")
    assert call.path == "/iggraph/v22.0/refresh_access_token"
    assert call.query == {"grant_type": "ig_refresh_token", "access_token": "IG-LONG-A"}
    due = _reload(due)
    assert due.access_token == "IG-REFRESHED-1"
    assert abs((due.token_expires_at - (now + timedelta(seconds=5183944))).total_seconds()) < 30
    assert _reload(later).access_token == "IG-LONG-B"
    expired = _reload(expired)
    assert (expired.access_token, expired.auth_state) == ("IG-LONG-C", "needs_reconnect")


def test_an_instagram_token_younger_than_24_hours_is_not_refreshed(tenants, fake_platform, settings):
    # given a 60-day token issued an hour ago, and a window that would include it
    settings.INSTAGRAM_REFRESH_BEFORE_DAYS = 60
    young = ChannelFactory(account=tenants.a, access_token="IG-LONG-Y",
                           token_expires_at=timezone.now() + timedelta(days=60, hours=-1), **IG)  # fmt: skip

    # when
    result = tokens_refresh.apply().get()

    # then
    assert result == {"refreshed": 0, "failed": 0, "needs_reconnect": 0}
    assert fake_platform.calls("ig.refresh") == []
    assert _reload(young).access_token == "IG-LONG-Y"


def test_x_token_refreshed_five_minutes_before_expiry(tenants, fake_platform):
    # given
    access, refresh = fake_platform.x_tokens_issue()
    soon = ChannelFactory(account=tenants.a, access_token=access, refresh_token=refresh,
                          token_expires_at=timezone.now() + timedelta(minutes=3), **X)  # fmt: skip
    fresh_access, fresh_refresh = fake_platform.x_tokens_issue()
    fresh = ChannelFactory(account=tenants.a, access_token=fresh_access, refresh_token=fresh_refresh,
                           token_expires_at=timezone.now() + timedelta(minutes=90), **X)  # fmt: skip

    # when
    result = tokens_refresh.apply().get()

    # then
    assert result == {"refreshed": 1, "failed": 0, "needs_reconnect": 0}
    [call] = fake_platform.calls("x.token")
    assert call.form == {"grant_type": "refresh_token", "refresh_token": refresh, "client_id": "fake-x-client-id"}
    soon = _reload(soon)
    assert soon.access_token.startswith("X-ACCESS-") and soon.access_token != access
    assert soon.refresh_token.startswith("X-REFRESH-") and soon.refresh_token != refresh
    assert soon.token_expires_at > timezone.now() + timedelta(minutes=115)
    assert _reload(fresh).access_token == fresh_access


def test_a_refused_x_refresh_marks_the_channel_and_emails_once(
    tenants, fake_platform, django_capture_on_commit_callbacks
):
    # given a refresh token X no longer accepts
    channel = ChannelFactory(account=tenants.a, access_token="X-ACCESS-old", refresh_token="X-REFRESH-revoked",
                             channel_name="@shop", token_expires_at=timezone.now() + timedelta(minutes=1),
                             **X)  # fmt: skip

    # when the beat runs twice
    with django_capture_on_commit_callbacks(execute=True):
        first = tokens_refresh.apply().get()
        second = tokens_refresh.apply().get()

    # then
    assert first == {"refreshed": 0, "failed": 1, "needs_reconnect": 1}
    assert second == {"refreshed": 0, "failed": 0, "needs_reconnect": 0}
    channel = _reload(channel)
    assert channel.auth_state == "needs_reconnect"
    assert channel.auth_error == (
        "The token could not be refreshed: X refused the token request: Value passed for the token was invalid."
    )
    assert channel.access_token == "X-ACCESS-old"
    [email] = mail.outbox
    assert email.to == ["alice@example.com"]
    assert len(fake_platform.calls("x.token")) == 1


def test_a_refresh_waits_for_the_lock_of_another_worker(tenants, fake_platform, settings):
    from channels_bot.platforms.base import PlatformError

    # given another worker holds the channel's refresh lock
    settings.CHANNELS_HTTP_TIMEOUT = 0.2
    access, refresh = fake_platform.x_tokens_issue()
    channel = ChannelFactory(account=tenants.a, access_token=access, refresh_token=refresh,
                             token_expires_at=timezone.now() + timedelta(minutes=1), **X)  # fmt: skip
    lock = _refresh_lock(channel)
    assert lock.acquire()
    try:
        # when / then
        with pytest.raises(PlatformError) as caught:
            channel_token_refresh(channel=channel)
    finally:
        lock.release()
    assert caught.value.code == "refresh_locked"
    assert fake_platform.calls("x.token") == []
    assert _reload(channel).access_token == access


@pytest.mark.django_db(transaction=True)
def test_two_workers_spend_the_refresh_token_once(tenants, fake_platform):
    # given an X token due for refresh, loaded by two workers
    access, refresh = fake_platform.x_tokens_issue()
    channel = ChannelFactory(account=tenants.a, access_token=access, refresh_token=refresh,
                             token_expires_at=timezone.now() + timedelta(minutes=2), **X)  # fmt: skip
    fake_platform.delay = 0.3  # the first refresh is still on the wire when the second starts
    results, errors = [], []

    def worker():
        try:
            mine = _reload(channel)
            results.append(channel_token_refresh(channel=mine).access_token)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    # when
    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    # then one refresh call, and both workers hold the new token
    assert errors == []
    assert len(fake_platform.calls("x.token")) == 1
    stored = _reload(channel)
    assert results == [stored.access_token, stored.access_token]
    assert stored.auth_state == "ok" and stored.access_token != access
