"""Rich replies per platform: the exact request bodies each client sends to the
(fake) platform, the limits, and the degradation to numbered text."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from channels_bot.models import ConnectedChannel
from channels_bot.models.platforms import Platform
from channels_bot.platforms import client_for
from channels_bot.platforms.base import SendContext
from channels_bot.platforms.meta import clip_bytes, render_messages
from channels_bot.rich import Button, Card, Outgoing, QuickReply


def _channel(platform: str, route: str, platform_id: str = "1122334455", token: str = "PAGE-TOKEN-SHOP", **extra):
    # Clients only read the channel's attributes: an unsaved row is enough here.
    return ConnectedChannel(platform_type=platform, route=route, platform_specific_id=platform_id,
                            access_token=token, channel_name="Shop", **extra)  # fmt: skip


MESSENGER = (Platform.FACEBOOK_PAGE, ConnectedChannel.Route.FACEBOOK_LOGIN)


def test_quick_replies_keep_13_with_titles_clipped_to_20():
    # given 15 quick replies, one with a 30-character title and one without a title
    replies = [QuickReply(title="A very long option title here!", payload="LONG")]
    replies += [QuickReply(title=f"Option {n}", payload=f"OPT_{n}") for n in range(2, 15)]
    replies.insert(1, QuickReply(title="  ", payload="EMPTY"))
    outgoing = Outgoing(text="Pick one:", quick_replies=tuple(replies))

    # when
    [message] = render_messages(outgoing)

    # then
    assert message["text"] == "Pick one:"
    assert len(message["quick_replies"]) == 13
    assert message["quick_replies"][0] == {"content_type": "text", "title": "A very long option…", "payload": "LONG"}
    assert len(message["quick_replies"][0]["title"]) <= 20
    assert message["quick_replies"][1] == {"content_type": "text", "title": "Option 2", "payload": "OPT_2"}
    assert message["quick_replies"][-1]["payload"] == "OPT_13"


def test_carousel_is_a_generic_template_within_its_limits():
    # given 12 cards with long titles and subtitles and 4 buttons each
    cards = tuple(
        Card(
            title=f"Product {n} " + "x" * 90, subtitle="s" * 100, image_url=f"https://cdn.example/{n}.jpg",
            buttons=(Button(title="Buy this one right now please", payload="BUY_" + "9" * 1200),
                     Button(title="Details", url="https://shop.example/p"), Button(title="Three", payload="3"),
                     Button(title="Four", payload="4")),
        )
        for n in range(12)
    )  # fmt: skip
    outgoing = Outgoing(text="Our bestsellers:", cards=cards)

    # when
    parts = render_messages(outgoing)

    # then the text goes first, then one template of 10 cards
    assert parts[0] == {"text": "Our bestsellers:"}
    payload = parts[1]["attachment"]["payload"]
    assert parts[1]["attachment"]["type"] == "template"
    assert payload["template_type"] == "generic"
    assert len(payload["elements"]) == 10
    first = payload["elements"][0]
    assert len(first["title"]) == 80 and first["title"].endswith("…")
    assert len(first["subtitle"]) == 80
    assert first["image_url"] == "https://cdn.example/0.jpg"
    assert first["buttons"] == [
        {"type": "postback", "title": "Buy this one right…", "payload": "BUY_" + "9" * 996},
        {"type": "web_url", "url": "https://shop.example/p", "title": "Details"},
        {"type": "postback", "title": "Three", "payload": "3"},
    ]


def test_one_card_without_image_is_a_button_template():
    # given
    outgoing = Outgoing(text="Confirm your order?", cards=(Card(
        title="2 × Red mug", subtitle="Total 39.80 USD",
        buttons=(Button(title="Confirm", payload="ORDER_CONFIRM"), Button(title="Cancel", payload="ORDER_CANCEL")),
    ),))  # fmt: skip

    # when
    parts = render_messages(outgoing)

    # then
    assert parts == [{"attachment": {"type": "template", "payload": {
        "template_type": "button", "text": "Confirm your order?\n2 × Red mug\nTotal 39.80 USD",
        "buttons": [{"type": "postback", "title": "Confirm", "payload": "ORDER_CONFIRM"},
                    {"type": "postback", "title": "Cancel", "payload": "ORDER_CANCEL"}],
    }}}]  # fmt: skip


def test_image_and_long_text():
    # given
    outgoing = Outgoing(text="é" * 2500, image_url="https://cdn.example/mug.png")

    # when
    messenger = render_messages(outgoing)
    instagram = render_messages(outgoing, instagram=True)

    # then Messenger clips to 2000 characters, Instagram to 1000 bytes
    assert len(messenger[0]["text"]) == 2000 and messenger[0]["text"].endswith("…")
    assert messenger[1] == {"attachment": {"type": "image", "payload": {"url": "https://cdn.example/mug.png",
                                                                        "is_reusable": True}}}  # fmt: skip
    assert len(instagram[0]["text"].encode()) <= 1000
    assert instagram[0]["text"] == "é" * 498 + "…"
    assert clip_bytes("short", 1000) == "short"


def test_messenger_send_body_and_human_agent_tag(fake_platform):
    # given
    client = client_for(_channel(*MESSENGER))
    outgoing = Outgoing(text="Hi!", quick_replies=(QuickReply("Yes", "YES"),))

    # when
    first = client.send(_channel(*MESSENGER), outgoing, SendContext(recipient_id="PSID1"))
    second = client.send(_channel(*MESSENGER), Outgoing(text="Late answer"),
                         SendContext(recipient_id="PSID1", human_agent_tag=True))  # fmt: skip

    # then
    [call1, call2] = fake_platform.calls("graph.messages")
    assert call1.path == "/graph/v25.0/1122334455/messages"
    assert call1.query == {"access_token": "PAGE-TOKEN-SHOP"}
    assert call1.json == {
        "recipient": {"id": "PSID1"},
        "messaging_type": "RESPONSE",
        "message": {"text": "Hi!", "quick_replies": [{"content_type": "text", "title": "Yes", "payload": "YES"}]},
    }
    assert call2.json == {"recipient": {"id": "PSID1"}, "messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT",
                          "message": {"text": "Late answer"}}  # fmt: skip
    assert first.platform_message_id == "m_fake_0001"
    assert second.platform_message_id == "m_fake_0002"


def test_instagram_via_page_sends_to_me_messages_with_the_page_token(fake_platform):
    # given
    channel = _channel(Platform.INSTAGRAM_BUSINESS, ConnectedChannel.Route.FACEBOOK_LOGIN, "17841400000000001",
                       page_id="1122334455")  # fmt: skip

    # when
    result = client_for(channel).send(channel, Outgoing(text="hello"), SendContext(recipient_id="IGSID1"))

    # then
    [call] = fake_platform.calls("graph.messages")
    assert call.path == "/graph/v25.0/me/messages"
    assert call.query == {"access_token": "PAGE-TOKEN-SHOP"}
    assert call.json == {"recipient": {"id": "IGSID1"}, "messaging_type": "RESPONSE", "message": {"text": "hello"}}
    assert result.platform_message_id == "m_fake_0001"


def test_instagram_login_sends_with_bearer(fake_platform):
    # given
    channel = _channel(Platform.INSTAGRAM_BUSINESS, ConnectedChannel.Route.INSTAGRAM_LOGIN, "17841400000000777",
                       token="IG-LONG-1")  # fmt: skip

    # when
    result = client_for(channel).send(channel, Outgoing(text="hello"), SendContext(recipient_id="IGSID2"))

    # then
    [call] = fake_platform.calls("ig.messages")
    assert call.path == "/iggraph/v22.0/17841400000000777/messages"
    assert call.headers["Authorization"] == "Bearer IG-LONG-1"
    assert call.query == {}
    assert call.json == {"recipient": {"id": "IGSID2"}, "messaging_type": "RESPONSE", "message": {"text": "hello"}}
    assert result.platform_message_id == "aWdf_fake_0001"


def test_x_degrades_choices_to_numbered_text(fake_platform):
    # given
    access, _ = fake_platform.x_tokens_issue()
    channel = _channel(Platform.TWITTER_PROFILE, ConnectedChannel.Route.X_OAUTH2, "1460000000000000001", token=access)
    outgoing = Outgoing(
        text="Which one?", cards=(Card(title="Red mug", subtitle="19.90 USD", buttons=(Button("Buy", "BUY_1"),)),),
        quick_replies=(QuickReply("Talk to a person", "HUMAN"),), image_url="https://cdn.example/mug.png",
    )  # fmt: skip

    # when
    result = client_for(channel).send(channel, outgoing, SendContext(recipient_id="U1"))

    # then
    [call] = fake_platform.calls("x.dm")
    assert call.path == "/xapi/2/dm_conversations/with/U1/messages"
    assert call.headers["Authorization"] == f"Bearer {access}"
    assert call.json == {"text": "Which one?\n1. Red mug — 19.90 USD\n2. Talk to a person\nhttps://cdn.example/mug.png"}
    assert result.platform_message_id.startswith("1580000000000")
    assert outgoing.choice_payloads() == ["BUY_1", "HUMAN"]


def test_linkedin_comment_reply(fake_platform):
    # given
    channel = _channel(Platform.LINKEDIN_PAGE, ConnectedChannel.Route.LINKEDIN_OAUTH, "2414183", token="LI-ACCESS-1")
    context = SendContext(recipient_id="urn:li:person:abc", reply_to_comment="urn:li:comment:(urn:li:activity:9,77)",
                          source_post="urn:li:share:9")  # fmt: skip
    outgoing = Outgoing(text="Thanks! Pick:", quick_replies=(QuickReply("Prices", "P"), QuickReply("Hours", "H")))

    # when
    result = client_for(channel).send(channel, outgoing, context)

    # then
    [call] = fake_platform.calls("linkedin.comments")
    assert unquote(call.path) == "/linkedinapi/rest/socialActions/urn:li:share:9/comments"
    assert call.path == "/linkedinapi/rest/socialActions/urn%3Ali%3Ashare%3A9/comments"
    assert call.headers["Authorization"] == "Bearer LI-ACCESS-1"
    assert call.headers["LinkedIn-Version"] == "202511"
    assert call.headers["X-Restli-Protocol-Version"] == "2.0.0"
    assert call.json == {"actor": "urn:li:organization:2414183", "object": "urn:li:activity:9",
                         "message": {"text": "Thanks! Pick:\n1. Prices\n2. Hours"},
                         "parentComment": "urn:li:comment:(urn:li:activity:9,77)"}  # fmt: skip
    assert result.platform_message_id == "urn:li:comment:(urn:li:activity:9,7001)"


@pytest.mark.parametrize(
    ("fixture", "failure", "code"),
    [("token_expired", "auth", "190"), ("window_closed", "window_closed", "10"), ("unavailable", "permanent", "551"),
     ("no_user", "permanent", "100"), ("throttled", "throttled", "4"), ("page_throttled", "throttled", "32"),
     ("transient", "transient", "2"), ("server_error", "transient", "503")],
)  # fmt: skip
def test_graph_errors_are_classified(fake_platform, fixture, failure, code):
    from channels_bot.platforms.base import PlatformError

    # given
    fake_platform.fail("graph.messages", fixture)

    # when
    with pytest.raises(PlatformError) as caught:
        client_for(_channel(*MESSENGER)).send(_channel(*MESSENGER), Outgoing(text="x"), SendContext("PSID1"))

    # then
    assert (caught.value.failure.value, caught.value.code) == (failure, code)
    assert caught.value.retryable is (failure in ("throttled", "transient"))


def test_x_429_carries_retry_after_and_403_is_permanent(fake_platform):
    from channels_bot.platforms.base import PlatformError

    # given
    access, _ = fake_platform.x_tokens_issue()
    channel = _channel(Platform.TWITTER_PROFILE, ConnectedChannel.Route.X_OAUTH2, "1460000000000000001", token=access)
    fake_platform.fail("x.dm", "x_rate_limited")
    fake_platform.fail("x.dm", "x_forbidden")

    # when
    with pytest.raises(PlatformError) as throttled:
        client_for(channel).send(channel, Outgoing(text="x"), SendContext("U1"))
    with pytest.raises(PlatformError) as forbidden:
        client_for(channel).send(channel, Outgoing(text="x"), SendContext("U1"))

    # then
    assert throttled.value.failure.value == "throttled"
    assert 25 <= throttled.value.retry_after <= 31
    assert forbidden.value.failure.value == "permanent"
    assert forbidden.value.message == "You cannot send messages to this user."
