"""One outbound message, stored then sent after commit by the `message_send`
task against the fake platform: every outcome the reference lists."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import Role
from accounts.tenancy.context import account_context
from channels_bot.models import ConnectedChannel, Conversation, ConversationMessage
from channels_bot.rich import Button, Card, Outgoing
from channels_bot.services.outbound import WindowClosed, outgoing_create
from channels_bot.tasks.outbound import message_send
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.channels_bot.factories import ChannelFactory, ConversationFactory, CustomerFactory

pytestmark = pytest.mark.django_db

Delivery = ConversationMessage.Delivery


@pytest.fixture
def conversation(tenants, fake_platform):
    channel = ChannelFactory(account=tenants.a, platform_specific_id="1122334455", access_token="PAGE-TOKEN-SHOP",
                             channel_name="Corner Shop")  # fmt: skip
    customer = CustomerFactory(channel=channel, platform_customer_id="PSID777")
    return ConversationFactory(customer=customer, last_customer_message_at=timezone.now() - timedelta(minutes=5))


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    """Store and send one message. Eager tasks run their retries at once; the
    test settings propagate eager exceptions, which would turn a retry into an error."""
    from aiplatform.celery import app

    propagates = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False

    def _send(conversation, outgoing, sender=ConversationMessage.Sender.BOT, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            message = outgoing_create(conversation=conversation, outgoing=outgoing, sender_type=sender, **kwargs)
        with account_context(conversation.account_id):
            message.refresh_from_db()
        return message

    yield _send
    app.conf.task_eager_propagates = propagates


def _wrote_days_ago(conversation, days: int) -> None:
    with account_context(conversation.account_id):
        updated = Conversation.objects.filter(pk=conversation.pk).update(
            last_customer_message_at=timezone.now() - timedelta(days=days)
        )
    assert updated == 1


def _reload(obj):
    with account_context(obj.account_id):
        obj.refresh_from_db()
    return obj


def test_a_sent_message_records_the_platform_id(conversation, send, fake_platform):
    # when
    message = send(conversation, Outgoing(text="Hello from the bot"))

    # then
    assert (message.delivery_state, message.platform_message_id, message.attempts) == (Delivery.SENT, "m_fake_0001", 1)
    assert (message.error_code, message.error_message) == ("", "")
    [call] = fake_platform.calls("graph.messages")
    assert call.json == {"recipient": {"id": "PSID777"}, "messaging_type": "RESPONSE",
                         "message": {"text": "Hello from the bot"}}  # fmt: skip


def test_throttled_is_retried_then_sent_once(conversation, send, fake_platform):
    # given the Graph API throttles the first call (code 4)
    fake_platform.fail("graph.messages", "throttled")

    # when
    message = send(conversation, Outgoing(text="Hi"))

    # then two calls, one platform message
    assert len(fake_platform.calls("graph.messages")) == 2
    assert (message.delivery_state, message.platform_message_id, message.attempts) == (Delivery.SENT, "m_fake_0001", 2)
    assert message.error_code == ""


def test_retries_stop_at_the_limit(conversation, send, fake_platform, settings):
    # given
    settings.CHANNELS_SEND_MAX_RETRIES = 2
    fake_platform.fail("graph.messages", "transient", times=5)

    # when
    message = send(conversation, Outgoing(text="Hi"))

    # then the first try and two retries
    assert len(fake_platform.calls("graph.messages")) == 3
    assert (message.delivery_state, message.error_code, message.attempts) == (Delivery.FAILED, "transient", 3)
    assert message.error_message.startswith("Gave up after 3 attempts: An unexpected error has occurred.")


def test_a_dead_token_marks_the_channel_and_emails_admins_once(conversation, send, fake_platform, tenants):
    # given an admin besides the owner alice, and bob a member
    dora = UserFactory(email="dora@example.com")
    MembershipFactory(account=tenants.a, user=dora, role=Role.ADMIN)
    fake_platform.fail("graph.messages", "token_expired", times=2)

    # when
    message = send(conversation, Outgoing(text="Hi"))

    # then
    assert (message.delivery_state, message.error_code) == (Delivery.FAILED, "auth")
    assert message.error_message == (
        "Error validating access token: Session has expired on Tuesday, 01-Jul-25. (code 190/463)"
    )
    channel = _reload(conversation.channel)
    assert channel.auth_state == ConnectedChannel.AuthState.NEEDS_RECONNECT
    assert channel.auth_error == "Error validating access token: Session has expired on Tuesday, 01-Jul-25."
    [email] = mail.outbox
    assert sorted(email.to) == ["alice@example.com", "dora@example.com"]
    assert email.subject == "[aiplatform] Reconnect Corner Shop"
    assert "stopped working" in email.body and "/channels/connect/" in email.body
    assert len(fake_platform.calls("graph.messages")) == 1

    # when another message is sent on the channel that needs reconnecting
    second = send(conversation, Outgoing(text="Again"))

    # then nothing is sent and no second email goes out
    assert (second.delivery_state, second.error_code) == (Delivery.FAILED, "needs_reconnect")
    assert len(fake_platform.calls("graph.messages")) == 1
    assert len(mail.outbox) == 1


def test_window_closed_fails_and_flags_the_conversation(conversation, send, fake_platform):
    # given
    fake_platform.fail("graph.messages", "window_closed")

    # when
    message = send(conversation, Outgoing(text="Hi"))

    # then
    assert (message.delivery_state, message.error_code) == (Delivery.FAILED, "window_closed")
    assert message.error_message == "(#10) This message is sent outside of allowed window. (code 10/2018278)"
    assert _reload(conversation).needs_human is True
    assert len(fake_platform.calls("graph.messages")) == 1


def test_unavailable_person_fails_without_retry(conversation, send, fake_platform):
    # given
    fake_platform.fail("graph.messages", "unavailable")

    # when
    message = send(conversation, Outgoing(text="Hi"))

    # then
    assert (message.delivery_state, message.error_code, message.attempts) == (Delivery.FAILED, "permanent", 1)
    assert message.error_message == "This person isn't available right now. (code 551/1545041)"
    assert len(fake_platform.calls("graph.messages")) == 1
    assert _reload(conversation).needs_human is False


def test_a_second_run_of_the_task_sends_nothing(conversation, send, fake_platform):
    # given a sent message
    message = send(conversation, Outgoing(text="Hi"))

    # when the task runs again (a duplicate delivery of the task)
    result = message_send.apply(kwargs={"account_id": str(message.account_id), "message_id": str(message.pk)})

    # then
    assert result.successful()
    assert len(fake_platform.calls("graph.messages")) == 1
    assert (_reload(message).attempts, message.delivery_state) == (1, Delivery.SENT)


def test_human_agent_tag_outside_24_hours_when_enabled(conversation, send, fake_platform, settings, tenants):
    # given the customer wrote 3 days ago and the app has the Human Agent permission
    settings.META_HUMAN_AGENT_TAG = True
    _wrote_days_ago(conversation, 3)
    conversation = _reload(conversation)

    # when an agent answers
    message = send(conversation, Outgoing(text="Sorry for the wait"), sender=ConversationMessage.Sender.AGENT,
                   sent_by=tenants.alice)  # fmt: skip

    # then
    assert message.delivery_state == Delivery.SENT
    [call] = fake_platform.calls("graph.messages")
    assert call.json == {"recipient": {"id": "PSID777"}, "messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT",
                         "message": {"text": "Sorry for the wait"}}  # fmt: skip


def test_outside_24_hours_without_the_tag_nothing_is_stored(conversation, send, fake_platform, settings, tenants):
    # given
    settings.META_HUMAN_AGENT_TAG = False
    _wrote_days_ago(conversation, 3)
    conversation = _reload(conversation)

    # when / then
    with pytest.raises(WindowClosed):
        send(conversation, Outgoing(text="Late"), sender=ConversationMessage.Sender.AGENT, sent_by=tenants.alice)
    with account_context(conversation.account_id):
        assert ConversationMessage.objects.filter(conversation=conversation).count() == 0
    assert fake_platform.calls("graph.messages") == []


def test_bot_never_uses_the_tag(conversation, send, fake_platform, settings):
    # given
    settings.META_HUMAN_AGENT_TAG = True
    _wrote_days_ago(conversation, 2)

    # when / then
    with pytest.raises(WindowClosed):
        send(_reload(conversation), Outgoing(text="Promo!"))
    assert fake_platform.calls("graph.messages") == []


def test_a_retried_multi_part_message_does_not_repeat_its_sent_part(conversation, send, fake_platform):
    # given text plus a carousel (two platform messages); the first call succeeds, the second is throttled
    outgoing = Outgoing(text="Our picks:", cards=(
        Card(title="Red mug", image_url="https://cdn.example/r.png", buttons=(Button("Buy", "BUY_R"),)),
        Card(title="Blue mug", image_url="https://cdn.example/b.png", buttons=(Button("Buy", "BUY_B"),)),
    ))  # fmt: skip
    original = fake_platform._graph_send
    calls = {"n": 0}

    def second_call_throttled(*args):
        calls["n"] += 1
        if calls["n"] == 2:
            from tests.support.fake_platform import FIXTURES

            return FIXTURES["throttled"]()
        return original(*args)

    fake_platform._graph_send = second_call_throttled
    try:
        # when
        message = send(conversation, outgoing)
    finally:
        fake_platform._graph_send = original

    # then the text went once, the carousel twice (once refused), and the message keeps the text's id
    bodies = [c.json["message"] for c in fake_platform.calls("graph.messages")]
    assert [("text" in b, "attachment" in b) for b in bodies] == [(True, False), (False, True), (False, True)]
    assert (message.delivery_state, message.platform_message_id) == (Delivery.SENT, "m_fake_0001")
    assert message.payload["delivery"] == {"sent_parts": 1, "first_id": "m_fake_0001"}


def test_x_401_refreshes_once_then_sends(tenants, fake_platform, send):
    # given an X channel with a valid pair of tokens, and X refusing the first send
    access, refresh = fake_platform.x_tokens_issue()
    channel = ChannelFactory(account=tenants.a, platform_type="TWITTER_PROFILE", route="x_oauth2",
                             platform_specific_id="1460000000000000001", access_token=access, refresh_token=refresh,
                             token_expires_at=timezone.now() + timedelta(hours=2))  # fmt: skip
    conversation = ConversationFactory(customer=CustomerFactory(channel=channel, platform_customer_id="U1"),
                                       last_customer_message_at=timezone.now())  # fmt: skip
    fake_platform.fail("x.dm", "x_unauthorized")

    # when
    message = send(conversation, Outgoing(text="Hi on X"))

    # then
    assert message.delivery_state == Delivery.SENT
    assert len(fake_platform.calls("x.token")) == 1
    dm1, dm2 = fake_platform.calls("x.dm")
    channel = _reload(channel)
    assert dm1.headers["Authorization"] == f"Bearer {access}"
    assert dm2.headers["Authorization"] == f"Bearer {channel.access_token}"
    assert channel.access_token != access and channel.refresh_token != refresh
    assert channel.auth_state == ConnectedChannel.AuthState.OK


def test_x_401_after_refresh_needs_reconnect(tenants, fake_platform, send):
    # given
    access, refresh = fake_platform.x_tokens_issue()
    channel = ChannelFactory(account=tenants.a, platform_type="TWITTER_PROFILE", route="x_oauth2",
                             platform_specific_id="1460000000000000002", access_token=access,
                             refresh_token=refresh)  # fmt: skip
    conversation = ConversationFactory(customer=CustomerFactory(channel=channel, platform_customer_id="U2"),
                                       last_customer_message_at=timezone.now())  # fmt: skip
    fake_platform.fail("x.dm", "x_unauthorized", times=2)

    # when
    message = send(conversation, Outgoing(text="Hi"))

    # then
    assert (message.delivery_state, message.error_code) == (Delivery.FAILED, "auth")
    assert len(fake_platform.calls("x.dm")) == 2
    assert _reload(channel).auth_state == ConnectedChannel.AuthState.NEEDS_RECONNECT
    assert len(mail.outbox) == 1


def test_linkedin_answers_the_customers_comment(tenants, fake_platform, send):
    from tests.channels_bot.factories import ConversationMessageFactory

    # given a customer comment stored with its reply target
    channel = ChannelFactory(account=tenants.a, platform_type="LINKEDIN_PAGE", route="linkedin_oauth",
                             platform_specific_id="2414183", access_token="LI-ACCESS-1")  # fmt: skip
    customer = CustomerFactory(channel=channel, platform_customer_id="urn:li:person:c")
    conversation = ConversationFactory(customer=customer, last_customer_message_at=timezone.now())
    comment = ConversationMessageFactory(conversation=conversation, content="Do you ship to Busan?",
                                         platform_message_id="urn:li:comment:(urn:li:activity:9,77)",
                                         payload={"reply_target": "urn:li:comment:(urn:li:activity:9,77)",
                                                  "source_post": "urn:li:share:9"})  # fmt: skip

    # when
    message = send(conversation, Outgoing(text="Yes, we do."), reply_to=comment)

    # then
    [call] = fake_platform.calls("linkedin.comments")
    assert call.path == "/linkedinapi/rest/socialActions/urn%3Ali%3Ashare%3A9/comments"
    assert call.json == {"actor": "urn:li:organization:2414183", "object": "urn:li:activity:9",
                         "message": {"text": "Yes, we do."},
                         "parentComment": "urn:li:comment:(urn:li:activity:9,77)"}  # fmt: skip
    assert (message.delivery_state, message.platform_message_id) == (
        Delivery.SENT, "urn:li:comment:(urn:li:activity:9,7001)")  # fmt: skip


def test_a_copy_of_the_task_waits_while_another_worker_sends(
    conversation, fake_platform, django_capture_on_commit_callbacks
):
    from django.core.cache import cache

    from channels_bot.services.delivery import _lease_key, message_deliver

    # given a stored message whose send another worker holds
    with django_capture_on_commit_callbacks(execute=False):
        message = outgoing_create(conversation=conversation, outgoing=Outgoing(text="Hi"),
                                  sender_type=ConversationMessage.Sender.BOT)  # fmt: skip
    cache.set(_lease_key(str(message.pk)), "other-worker", timeout=60)

    # when this copy runs
    outcome = message_deliver(account_id=str(message.account_id), message_id=str(message.pk))

    # then it sends nothing and leaves the message to the lease holder
    assert outcome == "skipped"
    assert fake_platform.calls("graph.messages") == []
    message = _reload(message)
    assert (message.delivery_state, message.attempts) == (Delivery.PENDING, 0)
    assert cache.get(_lease_key(str(message.pk))) == "other-worker"
