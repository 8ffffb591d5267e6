"""Webhook subscriptions: made when an X profile or a LinkedIn Page connects (the
real connect views, the consent played by the loopback platform server), removed
when a channel is disconnected (DELETE /api/v1/channels/{id}/); a platform that
refuses the removal is logged and named on the channel, which is disconnected anyway."""

from __future__ import annotations

import pytest

from accounts.tenancy.context import account_context
from channels_bot.models import ConnectedChannel
from channels_bot.platforms import client_for
from channels_bot.platforms.base import PlatformError
from tests.channels_bot.factories import ChannelFactory

pytestmark = pytest.mark.django_db

START = "/channels/connect/{}/start/"
CHOOSE = "/channels/connect/{}/choose/"
CHANNELS = "/api/v1/channels/"
X_HOOK_URL = "https://bot.example.com/webhooks/x/"
LI_HOOK_URL = "https://bot.example.com/webhooks/linkedin/"
LI_KEY = (
    "/linkedinapi/rest/eventSubscriptions/(developerApplication:urn%3Ali%3AdeveloperApplication%3A7700001,"
    "user:urn%3Ali%3Aperson%3Aadmin1,entity:urn%3Ali%3Aorganization%3A2414183,"
    "eventType:ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS)"
)


@pytest.fixture
def alice(client, tenants):
    client.force_login(tenants.alice)
    return client


@pytest.fixture
def x_on(settings):
    settings.CHANNELS_X_ENABLED = True


def _channels(account) -> list[ConnectedChannel]:
    with account_context(account.id):
        return list(ConnectedChannel.objects.filter(account=account).order_by("created_at"))


def _fresh(channel) -> ConnectedChannel:
    with account_context(channel.account_id):
        return ConnectedChannel.objects.get(pk=channel.pk)


def _connect_x(client, fake_platform):
    start = client.get(START.format("x"))
    return client.get(fake_platform.authorize(start["Location"]))


def _connect_linkedin(client, fake_platform):
    start = client.get(START.format("linkedin"))
    client.get(fake_platform.authorize(start["Location"]))
    return client.post(CHOOSE.format("linkedin"), {"organization_id": "2414183"})


# --- connecting ------------------------------------------------------------------------------


def test_connecting_x_registers_the_webhook_and_subscribes_the_profile(alice, fake_platform, x_on, tenants):
    # when alice connects her X profile
    callback = _connect_x(alice, fake_platform)

    # then the app's webhook is registered at our public URL with the app's token, and the
    # profile subscribed to it with its own
    assert (callback.status_code, callback["Location"]) == (302, "/channels/connect/")
    [app_token] = fake_platform.calls("x.app_token")
    assert app_token.form == {"grant_type": "client_credentials"}
    [register] = fake_platform.calls("x.webhook_register")
    assert (register.headers["Authorization"], register.json) == ("Bearer X-APP-BEARER", {"url": X_HOOK_URL})
    [hook] = fake_platform.x_webhooks
    [subscribe] = fake_platform.calls("x.subscribe")
    assert subscribe.path == f"/xapi/2/account_activity/webhooks/{hook['id']}/subscriptions/all"
    assert subscribe.headers["Authorization"].startswith("Bearer X-ACCESS-")
    assert fake_platform.x_subscriptions == {(hook["id"], "1460000000000000001")}
    [channel] = _channels(tenants.a)
    assert (channel.platform_type, channel.platform_specific_id, channel.auth_state) == (
        "TWITTER_PROFILE", "1460000000000000001", "ok")  # fmt: skip


def test_a_second_x_profile_reuses_the_registered_webhook(alice, fake_platform, x_on, tenants):
    # given the app's webhook is already registered
    fake_platform.x_webhooks.append({"id": "1780000000000000042", "url": X_HOOK_URL, "valid": True})

    # when
    callback = _connect_x(alice, fake_platform)

    # then it is found, not registered again
    assert callback.status_code == 302
    assert fake_platform.calls("x.webhook_register") == []
    assert fake_platform.x_subscriptions == {("1780000000000000042", "1460000000000000001")}
    assert len(_channels(tenants.a)) == 1


def test_x_refusing_the_subscription_stores_no_channel(alice, fake_platform, x_on, tenants):
    # given X refuses to subscribe the profile
    fake_platform.fail("x.subscribe", "x_forbidden")

    # when
    callback = _connect_x(alice, fake_platform)

    # then the admin reads X's words, and no channel waits for events that will never come
    assert callback.status_code == 400
    assert "X profile answered: You cannot send messages to this user." in callback.content.decode()
    assert _channels(tenants.a) == []


def test_x_webhooks_need_the_consumer_key(alice, fake_platform, x_on, settings, tenants):
    # given the server lacks the app's API key
    settings.X_CONSUMER_KEY = ""

    # when
    start = alice.get(START.format("x"))
    index = alice.get("/channels/connect/")

    # then the flow cannot start, and the page says which variable is missing
    assert start.status_code == 400
    assert "X_CONSUMER_KEY" in start.content.decode()
    assert "the server needs X_CONSUMER_KEY" in index.content.decode()
    assert fake_platform.requests == []


def test_connecting_a_linkedin_page_subscribes_its_social_actions(alice, fake_platform, tenants):
    # when alice connects her organization
    done = _connect_linkedin(alice, fake_platform)

    # then the event subscription is put under the app, the admin and the organization
    assert (done.status_code, done["Location"]) == (302, "/channels/connect/")
    [put] = fake_platform.calls("linkedin.subscribe")
    assert put.path == LI_KEY
    assert put.json == {"webhook": LI_HOOK_URL}
    assert (put.headers["LinkedIn-Version"], put.headers["X-Restli-Protocol-Version"]) == ("202511", "2.0.0")
    assert fake_platform.li_subscriptions == {"urn:li:organization:2414183": LI_HOOK_URL}
    [channel] = _channels(tenants.a)
    assert (channel.platform_type, channel.platform_specific_id) == ("LINKEDIN_PAGE", "2414183")


def test_linkedin_refusing_the_subscription_stores_no_channel(alice, fake_platform, tenants):
    # given LinkedIn throttles the subscription
    fake_platform.fail("linkedin.subscribe", "linkedin_throttled")

    # when
    done = _connect_linkedin(alice, fake_platform)

    # then
    assert done.status_code == 502
    assert "Resource level throttle limit reached" in done.content.decode()
    assert _channels(tenants.a) == []


# --- disconnecting -------------------------------------------------------------------------------


def test_disconnecting_a_facebook_page_unsubscribes_the_app(api_client, tenants, fake_platform):
    # given A's page
    page = ChannelFactory(account=tenants.a, platform_specific_id="1122334455", access_token="PAGE-TOKEN-SHOP")
    api_client.force_login(tenants.alice)

    # when alice disconnects it
    response = api_client.delete(f"{CHANNELS}{page.pk}/")

    # then the page stops sending our app its events, and the tokens are gone
    assert response.status_code == 204
    [delete] = fake_platform.calls("graph.unsubscribed_apps")
    assert (delete.method, delete.path, delete.query) == (
        "DELETE", "/graph/v25.0/1122334455/subscribed_apps", {"access_token": "PAGE-TOKEN-SHOP"})  # fmt: skip
    stored = _fresh(page)
    assert (stored.access_token, stored.is_active, stored.auth_state) == ("", False, "needs_reconnect")
    assert stored.auth_error.endswith("Connect it again to resume.")


def test_a_page_whose_instagram_account_stays_connected_keeps_its_subscription(api_client, tenants, fake_platform):
    # given A's page and the Instagram account connected through it
    page = ChannelFactory(account=tenants.a, platform_specific_id="1122334455", access_token="PAGE-TOKEN-SHOP")
    instagram = ChannelFactory(account=tenants.a, platform_type="INSTAGRAM_BUSINESS", platform_specific_id="178414",
                               page_id="1122334455", access_token="PAGE-TOKEN-SHOP")  # fmt: skip
    api_client.force_login(tenants.alice)

    # when the page is disconnected, then the Instagram account
    first = api_client.delete(f"{CHANNELS}{page.pk}/")
    calls_after_first = len(fake_platform.calls("graph.unsubscribed_apps"))
    second = api_client.delete(f"{CHANNELS}{instagram.pk}/")

    # then the shared subscription is removed only with the last channel that uses it
    assert (first.status_code, second.status_code) == (204, 204)
    assert calls_after_first == 0
    [delete] = fake_platform.calls("graph.unsubscribed_apps")
    assert delete.path == "/graph/v25.0/1122334455/subscribed_apps"
    assert (_fresh(page).access_token, _fresh(instagram).access_token) == ("", "")


def test_disconnecting_instagram_login_unsubscribes_the_account(api_client, tenants, fake_platform):
    channel = ChannelFactory(account=tenants.a, platform_type="INSTAGRAM_BUSINESS", route="instagram_login",
                             platform_specific_id="17841400000000777", access_token="IG-LONG-CODE1")  # fmt: skip
    api_client.force_login(tenants.alice)

    response = api_client.delete(f"{CHANNELS}{channel.pk}/")

    assert response.status_code == 204
    [delete] = fake_platform.calls("ig.unsubscribed_apps")
    assert (delete.path, delete.headers["Authorization"]) == ("/iggraph/v22.0/me/subscribed_apps",
                                                              "Bearer IG-LONG-CODE1")  # fmt: skip
    assert _fresh(channel).access_token == ""


def test_disconnecting_x_removes_the_profile_from_the_webhook(alice, api_client, fake_platform, x_on, tenants):
    # given alice's X profile, connected and subscribed
    _connect_x(alice, fake_platform)
    [channel] = _channels(tenants.a)
    [hook] = fake_platform.x_webhooks
    api_client.force_login(tenants.alice)

    # when she disconnects it
    response = api_client.delete(f"{CHANNELS}{channel.pk}/")

    # then the subscription is deleted with the app's token; the webhook itself stays for other profiles
    assert response.status_code == 204
    [delete] = fake_platform.calls("x.unsubscribe")
    assert delete.path == f"/xapi/2/account_activity/webhooks/{hook['id']}/subscriptions/1460000000000000001/all"
    assert delete.headers["Authorization"] == "Bearer X-APP-BEARER"
    assert fake_platform.x_subscriptions == set()
    assert len(fake_platform.x_webhooks) == 1
    assert _fresh(channel).refresh_token is None


def test_disconnecting_linkedin_deletes_the_event_subscription(alice, api_client, fake_platform, tenants):
    # given alice's LinkedIn Page, connected and subscribed
    _connect_linkedin(alice, fake_platform)
    [channel] = _channels(tenants.a)
    api_client.force_login(tenants.alice)

    # when
    response = api_client.delete(f"{CHANNELS}{channel.pk}/")

    # then
    assert response.status_code == 204
    [delete] = fake_platform.calls("linkedin.unsubscribe")
    assert (delete.method, delete.path) == ("DELETE", LI_KEY)
    assert fake_platform.li_subscriptions == {}


def test_a_refused_unsubscribe_is_shown_and_the_channel_is_disconnected_anyway(api_client, tenants, fake_platform,
                                                                              caplog):  # fmt: skip
    # given A's page, whose token Facebook no longer accepts
    page = ChannelFactory(account=tenants.a, platform_specific_id="1122334455", access_token="PAGE-TOKEN-SHOP")
    fake_platform.fail("graph.unsubscribed_apps", "token_expired")
    api_client.force_login(tenants.alice)

    # when alice disconnects it
    response = api_client.delete(f"{CHANNELS}{page.pk}/")
    shown = api_client.get(f"{CHANNELS}{page.pk}/").json()

    # then the local disconnect happened, and the channel says what the platform answered
    assert response.status_code == 204
    stored = _fresh(page)
    assert (stored.access_token, stored.is_active, stored.auth_state) == ("", False, "needs_reconnect")
    assert shown["auth_error"] == stored.auth_error
    assert stored.auth_error.endswith(
        "Connect it again to resume. Facebook Page was not told to stop sending its events (Error validating "
        "access token: Session has expired on Tuesday, 01-Jul-25.); remove this app from the page or profile in "
        "the platform's settings."
    )
    assert "unsubscribing the webhooks of channel" in caplog.text


def test_a_member_cannot_disconnect_and_nothing_is_unsubscribed(api_client, tenants, fake_platform):
    page = ChannelFactory(account=tenants.a, platform_specific_id="1122334455", access_token="PAGE-TOKEN-SHOP")
    api_client.force_login(tenants.bob)

    response = api_client.delete(f"{CHANNELS}{page.pk}/")

    assert response.status_code == 403
    assert fake_platform.requests == []
    assert (_fresh(page).access_token, _fresh(page).auth_state) == ("PAGE-TOKEN-SHOP", "ok")


def test_an_outsider_gets_a_404_and_nothing_is_unsubscribed(api_client, tenants, fake_platform):
    page = ChannelFactory(account=tenants.a, platform_specific_id="1122334455", access_token="PAGE-TOKEN-SHOP")
    api_client.force_login(tenants.carol)

    response = api_client.delete(f"{CHANNELS}{page.pk}/")

    assert response.status_code == 404
    assert fake_platform.requests == []
    assert _fresh(page).access_token == "PAGE-TOKEN-SHOP"


def test_a_second_disconnect_calls_no_platform(api_client, tenants, fake_platform):
    page = ChannelFactory(account=tenants.a, platform_specific_id="1122334455", access_token="PAGE-TOKEN-SHOP")
    api_client.force_login(tenants.alice)

    api_client.delete(f"{CHANNELS}{page.pk}/")
    again = api_client.delete(f"{CHANNELS}{page.pk}/")

    assert again.status_code == 204
    assert len(fake_platform.calls("graph.unsubscribed_apps")) == 1


def test_the_clients_speak_the_subscribe_calls_of_the_reference(tenants, fake_platform):
    # given a page channel and an Instagram Login channel
    page = ChannelFactory(account=tenants.a, platform_specific_id="1122334455", access_token="PAGE-TOKEN-SHOP")
    instagram = ChannelFactory(account=tenants.a, platform_type="INSTAGRAM_BUSINESS", route="instagram_login",
                               platform_specific_id="17841400000000777", access_token="IG-LONG-CODE1")  # fmt: skip

    # when each is (re)subscribed
    client_for(page).subscribe_webhooks(page)
    client_for(instagram).subscribe_webhooks(instagram)

    # then
    [graph] = fake_platform.calls("graph.subscribed_apps")
    assert (graph.path, graph.query["access_token"]) == ("/graph/v25.0/1122334455/subscribed_apps", "PAGE-TOKEN-SHOP")
    assert graph.query["subscribed_fields"].split(",") == [
        "messages", "messaging_postbacks", "message_deliveries", "message_reads", "message_echoes",
        "messaging_handovers",
    ]  # fmt: skip
    [ig] = fake_platform.calls("ig.subscribed_apps")
    assert ig.query == {"subscribed_fields": "messages,messaging_postbacks,messaging_seen,message_reactions"}


def test_x_unsubscribe_without_a_registered_webhook_is_a_no_op_and_a_bad_key_is_an_error(tenants, fake_platform,
                                                                                       settings):  # fmt: skip
    channel = ChannelFactory(account=tenants.a, platform_type="TWITTER_PROFILE", route="x_oauth2",
                             platform_specific_id="1460000000000000001", access_token="X-ACCESS-1")  # fmt: skip

    client_for(channel).unsubscribe_webhooks(channel)
    settings.X_CONSUMER_SECRET = "wrong"
    with pytest.raises(PlatformError) as refused:
        client_for(channel).unsubscribe_webhooks(channel)

    assert fake_platform.calls("x.unsubscribe") == []
    assert (refused.value.failure, refused.value.code) == ("auth", "403")


# --- settings -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("CHANNELS_WEBHOOK_BASE_URL", "bot.example.com", "CHANNELS_WEBHOOK_BASE_URL must be an http(s) URL"),
        ("X_API_URL", "ftp://api.x.com", "X_API_URL must be an http(s) URL, not 'ftp://api.x.com'"),
        ("LINKEDIN_VERSION", "2025-11", "LINKEDIN_VERSION must be YYYYMM (such as 202511), not '2025-11'"),
        ("CHANNELS_HTTP_TIMEOUT", "0", "CHANNELS_HTTP_TIMEOUT must be positive, not 0.0"),
        ("CHANNELS_PRODUCT_MAX_DISTANCE", "3", "CHANNELS_PRODUCT_MAX_DISTANCE is a cosine distance, 0 to 2, not 3.0"),
    ],
)
def test_a_malformed_setting_stops_the_boot(variable, value, message):
    import os
    import subprocess
    import sys

    # when the settings module is imported with the bad value
    done = subprocess.run(
        [sys.executable, "-c", "import aiplatform.settings.channels_bot"],
        env={**os.environ, variable: value}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip

    # then it refuses, naming the variable
    assert done.returncode == 1
    assert f"django.core.exceptions.ImproperlyConfigured: Channel bot settings: {message}" in done.stderr
