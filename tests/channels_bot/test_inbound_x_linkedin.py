"""X direct messages and LinkedIn page notifications through the real endpoints."""

from __future__ import annotations

import pytest

from accounts.tenancy.context import account_context, rls_bypass
from channels_bot.models import ConnectedChannel, Conversation, ConversationMessage, Customer, WebhookDelivery
from channels_bot.models.platforms import Platform
from tests.channels_bot.factories import ChannelFactory, ConversationFactory, ConversationMessageFactory
from tests.support.platform_webhooks import linkedin_delivery, linkedin_notification, x_dm, x_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_platform")]


def rows(account, model, *related: str) -> list:
    with account_context(account.id):
        return list(model.objects.select_related(*related).order_by(*model._meta.ordering or ["pk"]))


def all_deliveries() -> list[WebhookDelivery]:
    with rls_bypass("test: read every stored delivery"):
        return list(WebhookDelivery.objects.order_by("received_at"))


@pytest.fixture
def profile(tenants):
    return ChannelFactory(account=tenants.a, platform_type=Platform.TWITTER_PROFILE, platform_specific_id="BIZ",
                          route=ConnectedChannel.Route.X_OAUTH2)  # fmt: skip


@pytest.fixture
def org(tenants):
    return ChannelFactory(account=tenants.a, platform_type=Platform.LINKEDIN_PAGE, platform_specific_id="2414183",
                          route=ConnectedChannel.Route.LINKEDIN_OAUTH)  # fmt: skip


# --- X --------------------------------------------------------------------------------------------


def test_an_x_dm_names_its_customer_from_the_users_map(deliver, answers, tenants, profile):
    # given
    payload = x_dm("BIZ", "U1", "BIZ", "Is the blue one in stock?", event_id="EVT1",
                   users={**x_user("U1", "Kim Minji", "minji"), **x_user("BIZ", "Acme")})  # fmt: skip
    # when
    response = deliver("x", payload)
    # then
    assert response.status_code == 200
    [customer] = rows(tenants.a, Customer)
    assert (customer.platform_customer_id, customer.full_name, customer.profile_picture_url) == (
        "U1", "Kim Minji", "https://pbs.twimg.com/profile_images/U1.jpg",
    )  # fmt: skip
    [message] = rows(tenants.a, ConversationMessage)
    assert (message.content, message.platform_message_id, message.sender_type) == (
        "Is the blue one in stock?", "EVT1", "CUSTOMER",
    )  # fmt: skip
    assert answers == [(str(tenants.a.pk), str(message.pk))]


def test_an_x_replay_is_one_message(deliver, answers, tenants, profile):
    # given
    payload = x_dm("BIZ", "U1", "BIZ", "hello", event_id="EVT9")
    # when
    for _ in range(3):
        deliver("x", payload)
    # then
    assert [m.platform_message_id for m in rows(tenants.a, ConversationMessage)] == ["EVT9"]
    assert len(answers) == 1


def test_our_own_x_send_echoes_back_and_is_dropped(deliver, answers, tenants, profile):
    # given: our answer, recorded with X's event id; another still being sent (no id yet)
    conversation = ConversationFactory(customer__channel=profile, customer__platform_customer_id="U1")
    sent = ConversationMessageFactory(conversation=conversation, sender_type="BOT", platform_message_id="EVT-OURS",
                                      delivery_state="pending", content="It is.")  # fmt: skip
    sending = ConversationMessageFactory(conversation=conversation, sender_type="BOT", platform_message_id="",
                                         delivery_state="pending", content="Anything else?")  # fmt: skip
    # when
    deliver("x", x_dm("BIZ", "BIZ", "U1", "It is.", event_id="EVT-OURS"))
    deliver("x", x_dm("BIZ", "BIZ", "U1", "Anything else?", event_id="EVT-RACE"))
    # then
    got = {m.pk: (m.platform_message_id, m.delivery_state) for m in rows(tenants.a, ConversationMessage)}
    assert got == {sent.pk: ("EVT-OURS", "sent"), sending.pk: ("EVT-RACE", "sent")}
    with account_context(tenants.a.id):
        assert Conversation.objects.get(pk=conversation.pk).handler == "bot"
    assert answers == []


def test_an_x_message_sent_from_x_itself_is_a_human_reply(deliver, answers, tenants, profile):
    # given
    deliver("x", x_dm("BIZ", "U1", "BIZ", "anyone there?", event_id="EVT1"))
    answers.clear()
    # when: someone at Acme answers in X's own DM screen
    deliver("x", x_dm("BIZ", "BIZ", "U1", "Yes, Joon here.", event_id="EVT2"))
    # then
    messages = rows(tenants.a, ConversationMessage)
    assert [(m.sender_type, m.content) for m in messages] == [
        ("CUSTOMER", "anyone there?"), ("AGENT", "Yes, Joon here."),
    ]  # fmt: skip
    [conversation] = rows(tenants.a, Conversation)
    assert conversation.handler == "human"
    assert answers == []


# --- LinkedIn --------------------------------------------------------------------------------------


def test_a_linkedin_comment_becomes_a_message_with_its_reply_target(deliver, answers, tenants, org):
    # given
    comment = "urn:li:comment:(urn:li:activity:7000,8000)"
    payload = linkedin_delivery([linkedin_notification(
        "2414183", notification_id=555, author="urn:li:person:Q1w2", text="Do you ship to Busan?",
        post="urn:li:share:7000", comment=comment,
    )])  # fmt: skip
    # when
    response = deliver("linkedin", payload)
    # then
    assert response.status_code == 200
    [message] = rows(tenants.a, ConversationMessage, "conversation__customer")
    assert (message.content, message.platform_message_id, message.payload) == (
        "Do you ship to Busan?", "555",
        {"reply_target": comment, "source_post": "urn:li:share:7000", "action": "COMMENT"},
    )  # fmt: skip
    assert message.conversation.customer.platform_customer_id == "urn:li:person:Q1w2"
    assert answers == [(str(tenants.a.pk), str(message.pk))]


def test_linkedin_notifications_are_deduplicated_on_their_id_and_likes_are_recorded(deliver, answers, tenants, org):
    # given: a batch with a comment twice, a mention, and a like
    comment = linkedin_notification("2414183", notification_id=1, text="first")
    mention = linkedin_notification("2414183", action="SHARE_MENTION", notification_id=2, text="@Acme look",
                                    comment="urn:li:share:4242")  # fmt: skip
    like = linkedin_notification("2414183", action="LIKE", notification_id=3)
    # when
    deliver("linkedin", linkedin_delivery([comment, comment, mention, like]))
    deliver("linkedin", linkedin_delivery([comment]))
    # then
    got = [(m.platform_message_id, m.content, m.payload["source_post"]) for m in rows(tenants.a, ConversationMessage)]
    assert sorted(got) == [("1", "first", "urn:li:share:9"), ("2", "@Acme look", "urn:li:share:4242")]
    assert len(answers) == 2
    first, second = all_deliveries()
    assert first.result == "LINKEDIN_PAGE 2414183: 2 new messages, 1 duplicates, 1 unsupported (LIKE)"
    assert second.result == "LINKEDIN_PAGE 2414183: 1 duplicates"


def test_a_linkedin_channel_stored_as_a_urn_is_found_too(deliver, answers, tenants):
    # given
    ChannelFactory(
        account=tenants.a, platform_type=Platform.LINKEDIN_PAGE, platform_specific_id="urn:li:organization:9",
        route=ConnectedChannel.Route.LINKEDIN_OAUTH,
    )  # fmt: skip
    # when
    deliver("linkedin", linkedin_delivery([linkedin_notification("9", notification_id=77)]))
    # then
    assert [m.platform_message_id for m in rows(tenants.a, ConversationMessage)] == ["77"]
