"""Connecting channels end to end: the real views, the user's consent played by
the fake platform, the tokens it issues stored encrypted on the channel."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.utils import timezone

from accounts.tenancy.context import account_context
from channels_bot.models import ConnectedChannel
from tests.channels_bot.factories import ChannelFactory

pytestmark = pytest.mark.django_db

START = "/channels/connect/{}/start/"
CHOOSE = "/channels/connect/{}/choose/"


@pytest.fixture
def alice(client, tenants):
    client.force_login(tenants.alice)
    return client


def _channels(account) -> list[ConnectedChannel]:
    with account_context(account.id):
        return list(ConnectedChannel.objects.filter(account=account).order_by("created_at"))


def _consent(client, fake_platform, flow: str, code: str = "CODE1"):
    """Start the flow, consent on the platform, come back to our callback."""
    start = client.get(START.format(flow))
    assert start.status_code == 302, start.content
    return start, client.get(fake_platform.authorize(start["Location"], code=code))


def test_facebook_page_end_to_end(alice, fake_platform, tenants):
    # when the admin starts, consents, and picks a page
    start, callback = _consent(alice, fake_platform, "facebook")
    chooser = alice.get(CHOOSE.format("facebook"))
    done = alice.post(CHOOSE.format("facebook"), {"page_id": "1122334455"})

    # then the dialog was asked for the Messenger scopes, with our callback and a state
    url = urlsplit(start["Location"])
    query = dict(parse_qsl(url.query))
    assert url.path == "/facebook/v25.0/dialog/oauth"
    assert query["client_id"] == "1517776481860111"
    assert query["redirect_uri"] == "http://127.0.0.1:8000/channels/connect/facebook/callback/"
    assert query["scope"] == "pages_show_list,pages_manage_metadata,pages_messaging"
    assert len(query["state"]) >= 32
    assert (callback.status_code, callback["Location"]) == (302, "/channels/connect/facebook/choose/")
    assert chooser.status_code == 200
    assert b"Corner Shop" in chooser.content and b"Second Page" in chooser.content
    assert (done.status_code, done["Location"]) == (302, "/channels/connect/")
    # the code became a long-lived user token, which listed the pages
    exchange, extend = fake_platform.calls("graph.oauth")
    assert exchange.query["code"] == "CODE1"
    assert exchange.query["client_secret"] == "fake-meta-app-secret"
    assert extend.query["grant_type"] == "fb_exchange_token"
    assert extend.query["fb_exchange_token"] == "FB-SHORT-CODE1"
    assert {c.query["access_token"] for c in fake_platform.calls("graph.accounts")} == {"FB-LONG-CODE1"}
    [subscribe] = fake_platform.calls("graph.subscribed_apps")
    assert subscribe.path == "/graph/v25.0/1122334455/subscribed_apps"
    assert subscribe.query == {
        "subscribed_fields": "messages,messaging_postbacks,message_deliveries,message_reads,message_echoes,"
        "messaging_handovers",
        "access_token": "PAGE-TOKEN-SHOP",
    }
    [channel] = _channels(tenants.a)
    assert (channel.platform_type, channel.platform_specific_id, channel.route) == (
        "FACEBOOK_PAGE", "1122334455", "facebook_login")  # fmt: skip
    assert (channel.channel_name, channel.access_token, channel.token_expires_at) == (
        "Corner Shop", "PAGE-TOKEN-SHOP", None)  # fmt: skip
    assert channel.created_by == tenants.alice
    assert channel.auth_state == ConnectedChannel.AuthState.OK


def test_a_wrong_state_is_refused_and_nothing_is_stored(alice, fake_platform, tenants):
    # given a started flow
    alice.get(START.format("facebook"))

    # when the callback carries another state
    response = alice.get("/channels/connect/facebook/callback/", {"code": "CODE1", "state": "forged-state"})

    # then
    assert response.status_code == 400
    assert b"does not match the connection you started" in response.content
    assert fake_platform.calls("graph.oauth") == []
    assert _channels(tenants.a) == []


def test_a_state_works_once(alice, fake_platform, tenants):
    # given a completed callback
    start, first = _consent(alice, fake_platform, "instagram")
    callback = fake_platform.authorize(start["Location"], code="CODE2")

    # when the same answer is replayed
    second = alice.get(callback)

    # then
    assert first.status_code == 302
    assert second.status_code == 400
    assert len(_channels(tenants.a)) == 1
    assert len(fake_platform.calls("ig.oauth")) == 1


@pytest.mark.parametrize("flow", ["facebook", "instagram-page", "instagram", "linkedin"])
def test_members_and_viewers_cannot_connect(client, tenants, fake_platform, flow):
    # given bob, a member of A
    client.force_login(tenants.bob)

    # when
    start = client.get(START.format(flow))
    callback = client.get(f"/channels/connect/{flow}/callback/", {"code": "CODE1", "state": "x"})
    index = client.get("/channels/connect/")

    # then
    assert (start.status_code, callback.status_code, index.status_code) == (403, 403, 403)
    assert fake_platform.requests == []
    assert _channels(tenants.a) == []


def test_a_page_of_another_account_is_refused(alice, fake_platform, tenants):
    # given carol's account B already has the page
    theirs = ChannelFactory(account=tenants.b, platform_specific_id="1122334455", access_token="B-TOKEN")
    _consent(alice, fake_platform, "facebook")

    # when alice picks it
    response = alice.post(CHOOSE.format("facebook"), {"page_id": "1122334455"})

    # then
    assert response.status_code == 409
    assert b"already connected to another account" in response.content
    assert fake_platform.calls("graph.subscribed_apps") == []
    assert _channels(tenants.a) == []
    [unchanged] = _channels(tenants.b)
    assert (unchanged.pk, unchanged.access_token, unchanged.auth_state) == (theirs.pk, "B-TOKEN", "ok")


def test_reconnecting_a_page_renews_its_tokens(alice, fake_platform, tenants):
    # given A's page needs reconnecting
    old = ChannelFactory(account=tenants.a, platform_specific_id="1122334455", access_token="DEAD-TOKEN",
                         channel_name="Old name", auth_state="needs_reconnect", auth_error="190")  # fmt: skip
    _consent(alice, fake_platform, "facebook")

    # when
    response = alice.post(CHOOSE.format("facebook"), {"page_id": "1122334455"})

    # then the same row has the new token and works again
    assert response.status_code == 302
    [channel] = _channels(tenants.a)
    assert channel.pk == old.pk
    assert (channel.access_token, channel.auth_state, channel.auth_error, channel.channel_name) == (
        "PAGE-TOKEN-SHOP", "ok", "", "Corner Shop")  # fmt: skip


def test_a_page_the_user_does_not_administer_is_refused(alice, fake_platform, tenants):
    # given
    _consent(alice, fake_platform, "facebook")

    # when
    response = alice.post(CHOOSE.format("facebook"), {"page_id": "999"})

    # then
    assert response.status_code == 400
    assert b"Choose one of the pages you administer" in response.content
    assert _channels(tenants.a) == []


def test_instagram_through_a_page(alice, fake_platform, tenants):
    # given
    start, callback = _consent(alice, fake_platform, "instagram-page")

    # when
    response = alice.post(CHOOSE.format("instagram-page"), {"page_id": "1122334455"})

    # then
    query = dict(parse_qsl(urlsplit(start["Location"]).query))
    assert query["scope"] == "pages_show_list,pages_manage_metadata,instagram_basic,instagram_manage_messages"
    assert callback["Location"] == "/channels/connect/instagram-page/choose/"
    assert response.status_code == 302
    [me] = fake_platform.calls("graph.me")
    assert me.query == {"fields": "instagram_business_account", "access_token": "PAGE-TOKEN-SHOP"}
    [channel] = _channels(tenants.a)
    assert (channel.platform_type, channel.platform_specific_id, channel.page_id, channel.route) == (
        "INSTAGRAM_BUSINESS", "17841400000000001", "1122334455", "facebook_login")  # fmt: skip
    assert (channel.access_token, channel.channel_name) == ("PAGE-TOKEN-SHOP", "Corner Shop (Instagram)")


def test_instagram_through_a_page_without_an_instagram_account(alice, fake_platform, tenants):
    # given
    _consent(alice, fake_platform, "instagram-page")

    # when
    response = alice.post(CHOOSE.format("instagram-page"), {"page_id": "5566778899"})

    # then
    assert response.status_code == 400
    assert b"has no Instagram business account linked" in response.content
    assert fake_platform.calls("graph.subscribed_apps") == []
    assert _channels(tenants.a) == []


def test_instagram_login(alice, fake_platform, tenants):
    # when
    before = timezone.now()
    start, callback = _consent(alice, fake_platform, "instagram")

    # then
    url = urlsplit(start["Location"])
    query = dict(parse_qsl(url.query))
    assert url.path == "/instagram/oauth/authorize"
    assert query["scope"] == "instagram_business_basic,instagram_business_manage_messages"
    assert query["response_type"] == "code"
    assert callback.status_code == 302
    [token] = fake_platform.calls("ig.oauth")
    assert token.form["grant_type"] == "authorization_code"
    assert token.form["redirect_uri"] == "http://127.0.0.1:8000/channels/connect/instagram/callback/"
    [exchange] = fake_platform.calls("ig.exchange")
    assert exchange.query == {"grant_type": "ig_exchange_token", "client_secret": "fake-instagram-app-secret",
                              "access_token": "IG-SHORT-CODE1"}  # fmt: skip
    assert len(fake_platform.calls("ig.subscribed_apps")) == 1
    [channel] = _channels(tenants.a)
    assert (channel.platform_type, channel.platform_specific_id, channel.route, channel.channel_name) == (
        "INSTAGRAM_BUSINESS", "17841400000000777", "instagram_login", "@corner.shop")  # fmt: skip
    assert channel.access_token == "IG-LONG-CODE1"
    expected = before + timedelta(seconds=5183944)
    assert abs((channel.token_expires_at - expected).total_seconds()) < 30


def test_x_is_a_404_while_its_flag_is_off(alice, fake_platform, settings, tenants):
    # given
    settings.CHANNELS_X_ENABLED = False

    # when
    start = alice.get(START.format("x"))
    callback = alice.get("/channels/connect/x/callback/", {"code": "C", "state": "s"})
    index = alice.get("/channels/connect/")

    # then
    assert (start.status_code, callback.status_code) == (404, 404)
    assert b"Connecting X profiles is turned off" in start.content
    assert b"Connect X profile" not in index.content
    assert fake_platform.requests == []


def test_x_oauth2_with_pkce(alice, fake_platform, settings, tenants):
    # given
    settings.CHANNELS_X_ENABLED = True
    before = timezone.now()

    # when
    start, callback = _consent(alice, fake_platform, "x")

    # then the challenge is S256 and the token endpoint accepted the verifier
    query = dict(parse_qsl(urlsplit(start["Location"]).query))
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert query["scope"] == "dm.read dm.write tweet.read users.read offline.access"
    assert callback.status_code == 302, callback.content
    [token] = fake_platform.calls("x.token")
    assert token.headers["Authorization"].startswith("Basic ")
    assert token.form["grant_type"] == "authorization_code"
    assert 43 <= len(token.form["code_verifier"]) <= 128
    [channel] = _channels(tenants.a)
    assert (channel.platform_type, channel.platform_specific_id, channel.route, channel.channel_name) == (
        "TWITTER_PROFILE", "1460000000000000001", "x_oauth2", "@cornershop")  # fmt: skip
    assert channel.access_token.startswith("X-ACCESS-") and channel.refresh_token.startswith("X-REFRESH-")
    assert abs((channel.token_expires_at - (before + timedelta(hours=2))).total_seconds()) < 30


def test_x_with_a_wrong_verifier_stores_nothing(alice, fake_platform, settings, tenants):
    # given a started flow whose verifier was lost (another browser's session)
    settings.CHANNELS_X_ENABLED = True
    start = alice.get(START.format("x"))
    session = alice.session
    flows = session["channels_connect"]
    flows["x"]["verifier"] = "not-the-verifier-of-this-challenge-0123456789abcdef"
    session["channels_connect"] = flows
    session.save()

    # when
    response = alice.get(fake_platform.authorize(start["Location"]))

    # then
    assert response.status_code == 400
    assert b"PKCE verification failed" in response.content
    assert _channels(tenants.a) == []


def test_linkedin_organization(alice, fake_platform, tenants):
    # when
    start, callback = _consent(alice, fake_platform, "linkedin")
    chooser = alice.get(CHOOSE.format("linkedin"))
    done = alice.post(CHOOSE.format("linkedin"), {"organization_id": "2414183"})

    # then
    url = urlsplit(start["Location"])
    assert url.path == "/linkedin/oauth/v2/authorization"
    assert dict(parse_qsl(url.query))["scope"] == "r_organization_social w_organization_social rw_organization_admin"
    assert callback["Location"] == "/channels/connect/linkedin/choose/"
    assert b"Corner Shop Ltd" in chooser.content
    assert done.status_code == 302
    acl = fake_platform.calls("linkedin.acls")[0]
    assert acl.headers["LinkedIn-Version"] == "202511"
    assert acl.headers["X-Restli-Protocol-Version"] == "2.0.0"
    [channel] = _channels(tenants.a)
    assert (channel.platform_type, channel.platform_specific_id, channel.route, channel.channel_name) == (
        "LINKEDIN_PAGE", "2414183", "linkedin_oauth", "Corner Shop Ltd")  # fmt: skip
    assert channel.access_token == "LI-ACCESS-CODE1"


def test_a_cancelled_consent_is_a_clear_400(alice, fake_platform, tenants):
    # given
    alice.get(START.format("facebook"))

    # when the user cancels on Facebook
    response = alice.get(
        "/channels/connect/facebook/callback/",
        {"error": "access_denied", "error_reason": "user_denied", "error_description": "Permissions error"},
    )

    # then
    assert response.status_code == 400
    assert b"Facebook Page was not connected: Permissions error" in response.content
    assert _channels(tenants.a) == []


def test_a_platform_outage_is_a_502_and_nothing_is_stored(alice, fake_platform, tenants):
    # given
    fake_platform.fail("graph.oauth", "server_error")

    # when
    _, callback = _consent(alice, fake_platform, "facebook")

    # then
    assert callback.status_code == 502
    assert _channels(tenants.a) == []


def test_index_lists_channels_and_flows(alice, fake_platform, tenants, settings):
    # given
    ChannelFactory(account=tenants.a, channel_name="Corner Shop", auth_state="needs_reconnect")
    ChannelFactory(account=tenants.b, channel_name="Carol's page")
    settings.LINKEDIN_CLIENT_SECRET = ""

    # when
    response = alice.get("/channels/connect/")

    # then
    assert response.status_code == 200
    body = response.content.decode()
    assert "Corner Shop" in body and "Needs reconnecting" in body
    assert "Carol" not in body
    assert 'href="/channels/connect/facebook/start/"' in body
    assert "the server needs LINKEDIN_CLIENT_SECRET" in body
