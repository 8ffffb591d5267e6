"""An agent answering a conversation the bot handles takes it over first, so the
bot never answers over a human (POST /api/v1/conversations/{id}/messages/; the
Messenger handover goes to the loopback Graph server)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Role
from accounts.tenancy.context import account_context
from channels_bot.models import Conversation, ConversationMessage
from channels_bot.services.bot import bot_answer
from tests.accounts.factories import MembershipFactory
from tests.channels_bot.factories import (
    ChannelFactory,
    ConversationFactory,
    ConversationMessageFactory,
    CustomerFactory,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/conversations/"


@pytest.fixture
def lee(tenants, fake_platform):
    """Lee wrote to A's page 5 minutes ago; the bot handles the conversation."""
    now = timezone.now()
    channel = ChannelFactory(account=tenants.a, platform_specific_id="1122334455", access_token="PAGE-TOKEN-SHOP")
    conversation = ConversationFactory(
        customer=CustomerFactory(channel=channel, full_name="Lee", platform_customer_id="PSID-LEE"),
        last_message_at=now - timedelta(minutes=5), last_customer_message_at=now - timedelta(minutes=5),
        needs_human=True,
    )  # fmt: skip
    ConversationMessageFactory(conversation=conversation, content="Where is my parcel?", timestamp=now)
    return conversation


def _state(tenants, conversation) -> tuple:
    with account_context(tenants.a.id):
        fresh = Conversation.objects.get(pk=conversation.pk)
        messages = list(
            ConversationMessage.objects.filter(conversation=conversation).order_by("timestamp", "id")
            .values_list("sender_type", "content")
        )  # fmt: skip
    return fresh.handler, fresh.assigned_to_id, fresh.needs_human, messages


def test_an_agent_answer_takes_the_conversation_over_and_the_bot_stays_quiet(api_client, tenants, lee, fake_platform):
    # given bob, a member of A
    api_client.force_login(tenants.bob)

    # when he answers Lee, and Lee writes again
    response = api_client.post(f"{URL}{lee.pk}/messages/", {"text": "Let me check for you."}, format="json")
    again = ConversationMessageFactory(conversation=lee, content="Thanks, and a mug too?")
    bot_reply = bot_answer(account_id=tenants.a.id, message_id=again.pk)

    # then the conversation is his, the thread went to the Page Inbox once, and the bot did not answer
    assert response.status_code == 201
    assert (response.json()["sender_type"], response.json()["content"]) == ("AGENT", "Let me check for you.")
    assert _state(tenants, lee) == ("human", tenants.bob.pk, False, [
        ("CUSTOMER", "Where is my parcel?"), ("AGENT", "Let me check for you."), ("CUSTOMER", "Thanks, and a mug too?"),
    ])  # fmt: skip
    assert bot_reply is None
    [handover] = fake_platform.calls("graph.pass_thread")
    assert handover.path == "/graph/v25.0/1122334455/pass_thread_control"
    assert handover.json["recipient"] == {"id": "PSID-LEE"}
    assert handover.json["target_app_id"] == "263902037430900"


def test_a_conversation_a_human_already_handles_is_not_taken_again(api_client, tenants, lee, fake_platform):
    # given alice took Lee over earlier
    with account_context(tenants.a.id):
        Conversation.objects.filter(pk=lee.pk).update(handler="human", assigned_to=tenants.alice, needs_human=False)
    api_client.force_login(tenants.bob)

    # when bob answers too
    response = api_client.post(f"{URL}{lee.pk}/messages/", {"text": "I am on it as well."}, format="json")

    # then it stays alice's, and no second handover is made
    assert response.status_code == 201
    assert _state(tenants, lee)[:2] == ("human", tenants.alice.pk)
    assert fake_platform.calls("graph.pass_thread") == []


def test_a_failed_handover_still_takes_over_and_sends(api_client, tenants, lee, fake_platform):
    # given the Graph API fails the handover
    fake_platform.fail("graph.pass_thread", "transient")
    api_client.force_login(tenants.bob)

    # when bob answers
    response = api_client.post(f"{URL}{lee.pk}/messages/", {"text": "Let me check."}, format="json")

    # then the bot is quiet anyway and the answer is stored to be sent
    assert response.status_code == 201
    assert _state(tenants, lee)[:2] == ("human", tenants.bob.pk)
    assert len(fake_platform.calls("graph.pass_thread")) == 1


def test_an_answer_refused_by_the_window_takes_nothing_over(api_client, tenants, lee, fake_platform, settings):
    # given Lee last wrote 30 hours ago and the human-agent tag is off
    settings.META_HUMAN_AGENT_TAG = False
    with account_context(tenants.a.id):
        Conversation.objects.filter(pk=lee.pk).update(last_customer_message_at=timezone.now() - timedelta(hours=30))
    api_client.force_login(tenants.bob)

    # when bob answers
    response = api_client.post(f"{URL}{lee.pk}/messages/", {"text": "Still there?"}, format="json")

    # then a 409, and the bot still handles it: nothing stored, no handover
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "window_closed"
    assert _state(tenants, lee) == ("bot", None, True, [("CUSTOMER", "Where is my parcel?")])
    assert fake_platform.calls("graph.pass_thread") == []


@pytest.mark.parametrize("text", ["", "x" * 2001])
def test_an_invalid_answer_takes_nothing_over(api_client, tenants, lee, fake_platform, text):
    api_client.force_login(tenants.bob)
    response = api_client.post(f"{URL}{lee.pk}/messages/", {"text": text}, format="json")
    assert response.status_code == 400
    assert _state(tenants, lee) == ("bot", None, True, [("CUSTOMER", "Where is my parcel?")])
    assert fake_platform.calls("graph.pass_thread") == []


def test_a_viewer_cannot_answer_nor_take_over(api_client, tenants, lee, fake_platform):
    # given a viewer of A
    api_client.force_login(MembershipFactory(account=tenants.a, role=Role.VIEWER).user)

    # when they try to answer
    response = api_client.post(f"{URL}{lee.pk}/messages/", {"text": "hi"}, format="json")

    # then refused, and nothing changed
    assert response.status_code == 403
    assert _state(tenants, lee) == ("bot", None, True, [("CUSTOMER", "Where is my parcel?")])
    assert fake_platform.calls("graph.pass_thread") == []


def test_an_outsider_gets_a_404_and_nothing_changes(api_client, tenants, lee, fake_platform):
    # given carol, owner of B only
    api_client.force_login(tenants.carol)

    # when she answers A's conversation
    response = api_client.post(f"{URL}{lee.pk}/messages/", {"text": "hi"}, format="json")

    # then it does not exist for her
    assert response.status_code == 404
    assert _state(tenants, lee) == ("bot", None, True, [("CUSTOMER", "Where is my parcel?")])
    assert fake_platform.calls("graph.pass_thread") == []
