"""Profile lookups and Messenger's handover calls of the platform clients, against the fake platform."""

from __future__ import annotations

import pytest

from channels_bot.models import ConnectedChannel
from channels_bot.platforms import client_for
from channels_bot.platforms.base import PlatformError, Profile


def _channel(platform: str, route: str, platform_id: str, token: str) -> ConnectedChannel:
    return ConnectedChannel(platform_type=platform, route=route, platform_specific_id=platform_id, access_token=token)


def test_messenger_profile(fake_platform):
    # given
    fake_platform.profiles["PSID1"] = {"name": "Mina Park", "profile_pic": "https://cdn.example/mina.jpg"}
    channel = _channel("FACEBOOK_PAGE", "facebook_login", "1122334455", "PAGE-TOKEN-SHOP")

    # when
    profile = client_for(channel).fetch_profile(channel, "PSID1")
    unknown = client_for(channel).fetch_profile(channel, "PSID-UNKNOWN")

    # then
    assert profile == Profile(full_name="Mina Park", profile_picture_url="https://cdn.example/mina.jpg")
    assert unknown is None  # 100: not shared
    call = fake_platform.calls("graph.profile")[0]
    assert call.path == "/graph/v25.0/PSID1"
    assert call.query == {"fields": "name,profile_pic", "access_token": "PAGE-TOKEN-SHOP"}


def test_instagram_login_profile_uses_bearer(fake_platform):
    # given
    fake_platform.profiles["IGSID1"] = {"name": "", "username": "mina.p", "profile_pic": "https://cdn.example/m.jpg"}
    channel = _channel("INSTAGRAM_BUSINESS", "instagram_login", "17841400000000777", "IG-LONG-1")

    # when
    profile = client_for(channel).fetch_profile(channel, "IGSID1")

    # then
    assert profile == Profile(full_name="mina.p", profile_picture_url="https://cdn.example/m.jpg")
    [call] = fake_platform.calls("ig.profile")
    assert (call.path, call.query) == ("/iggraph/v22.0/IGSID1", {"fields": "name,profile_pic"})
    assert call.headers["Authorization"] == "Bearer IG-LONG-1"


def test_x_user_lookup(fake_platform):
    # given
    access, _ = fake_platform.x_tokens_issue()
    fake_platform.profiles["U1"] = {"name": "Jun", "username": "jun", "profile_image_url": "https://pbs.example/j.jpg"}
    channel = _channel("TWITTER_PROFILE", "x_oauth2", "1460000000000000001", access)

    # when
    profile = client_for(channel).fetch_profile(channel, "U1")

    # then
    assert profile == Profile(full_name="Jun", profile_picture_url="https://pbs.example/j.jpg")
    [call] = fake_platform.calls("x.user")
    assert (call.path, call.query) == ("/xapi/2/users/U1", {"user.fields": "profile_image_url"})


def test_a_dead_token_on_profile_fetch_is_auth(fake_platform):
    # given
    fake_platform.fail("graph.profile", "token_expired")
    channel = _channel("FACEBOOK_PAGE", "facebook_login", "1122334455", "PAGE-TOKEN-SHOP")

    # when / then
    with pytest.raises(PlatformError) as caught:
        client_for(channel).fetch_profile(channel, "PSID1")
    assert (caught.value.failure.value, caught.value.code, caught.value.subcode) == ("auth", "190", "463")


def test_messenger_thread_control(fake_platform, settings):
    # given
    channel = _channel("FACEBOOK_PAGE", "facebook_login", "1122334455", "PAGE-TOKEN-SHOP")
    client = client_for(channel)

    # when
    client.pass_thread_to_inbox(channel, "PSID1")
    client.take_thread_back(channel, "PSID1")

    # then
    [passed] = fake_platform.calls("graph.pass_thread")
    [taken] = fake_platform.calls("graph.take_thread")
    assert passed.path == "/graph/v25.0/1122334455/pass_thread_control"
    assert passed.query == {"access_token": "PAGE-TOKEN-SHOP"}
    assert passed.json == {"recipient": {"id": "PSID1"}, "target_app_id": "263902037430900",
                           "metadata": "An agent took over the conversation."}  # fmt: skip
    assert taken.json == {"recipient": {"id": "PSID1"}, "metadata": "The bot answers again."}


def test_a_timeout_is_transient(fake_platform, settings):
    # given a platform slower than the timeout
    settings.CHANNELS_HTTP_TIMEOUT = 0.2
    fake_platform.delay = 0.6
    channel = _channel("FACEBOOK_PAGE", "facebook_login", "1122334455", "PAGE-TOKEN-SHOP")

    # when / then
    from channels_bot.platforms.base import SendContext
    from channels_bot.rich import Outgoing

    with pytest.raises(PlatformError) as caught:
        client_for(channel).send(channel, Outgoing(text="x"), SendContext("PSID1"))
    assert (caught.value.failure.value, caught.value.code) == ("transient", "timeout")
    assert caught.value.message == "Facebook did not answer within 0.2 s."
