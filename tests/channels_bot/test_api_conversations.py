"""/api/v1/conversations/: the inbox over the API (list with filters, thread,
send as agent, read) and who may do what."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Role
from accounts.tenancy.context import account_context
from channels_bot.models import Conversation, ConversationMessage
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
def inbox(tenants):
    """A's page with two conversations: Kim's (bot, read, older) and Lee's
    (needs a human, 2 unread, newest), and a foreign conversation of B."""
    now = timezone.now()
    channel = ChannelFactory(account=tenants.a, channel_name="Acme Page")
    other_channel = ChannelFactory(account=tenants.a, channel_name="Acme IG")
    kim = ConversationFactory(
        customer=CustomerFactory(channel=channel, full_name="Kim"), last_message_at=now - timedelta(hours=2),
        last_customer_message_at=now - timedelta(hours=2),
    )  # fmt: skip
    lee = ConversationFactory(
        customer=CustomerFactory(channel=other_channel, full_name="Lee"), last_message_at=now - timedelta(minutes=5),
        last_customer_message_at=now - timedelta(minutes=5), needs_human=True, unread_count=2,
    )  # fmt: skip
    ConversationMessageFactory(conversation=kim, content="Hello?", timestamp=now - timedelta(hours=2))
    ConversationMessageFactory(conversation=lee, content="Where is my parcel", timestamp=now - timedelta(minutes=6))
    ConversationMessageFactory(conversation=lee, content="Anyone?", timestamp=now - timedelta(minutes=5))
    foreign = ConversationFactory(customer=CustomerFactory(channel=ChannelFactory(account=tenants.b)))
    return {"channel": channel, "other_channel": other_channel, "kim": kim, "lee": lee, "foreign": foreign}


def test_list_is_newest_first_with_customer_channel_and_last_message(api_client, tenants, inbox):
    # given alice of A
    api_client.force_login(tenants.alice)

    # when she lists conversations
    body = api_client.get(URL).json()

    # then she sees A's two, newest first, with a preview of the last message
    assert body["count"] == 2
    first, second = body["results"]
    assert first["id"] == str(inbox["lee"].pk)
    assert first["customer"]["full_name"] == "Lee"
    assert first["channel"] == {"id": str(inbox["other_channel"].pk), "channel_name": "Acme IG",
                                "platform": "FACEBOOK_PAGE"}  # fmt: skip
    assert first["last_message"] == {"content": "Anyone?", "sender_type": "CUSTOMER", "delivery_state": "received"}
    assert (first["needs_human"], first["unread_count"], first["handler"]) == (True, 2, "bot")
    assert second["id"] == str(inbox["kim"].pk)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("needs_human=true", ["lee"]),
        ("needs_human=false", ["kim"]),
        ("unread=true", ["lee"]),
        ("unread=false", ["kim"]),
        ("status=OPEN", ["lee", "kim"]),
        ("status=ARCHIVED", []),
        ("handler=human", []),
    ],
)
def test_list_filters(api_client, tenants, inbox, query, expected):
    api_client.force_login(tenants.alice)
    body = api_client.get(f"{URL}?{query}").json()
    assert [r["id"] for r in body["results"]] == [str(inbox[name].pk) for name in expected]


def test_list_filters_by_channel(api_client, tenants, inbox):
    api_client.force_login(tenants.alice)
    body = api_client.get(f"{URL}?channel={inbox['channel'].pk}").json()
    assert [r["id"] for r in body["results"]] == [str(inbox["kim"].pk)]


def test_a_bad_filter_is_a_400_naming_it(api_client, tenants, inbox):
    api_client.force_login(tenants.alice)
    response = api_client.get(f"{URL}?status=SLEEPING&channel=nope")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert set(error["fields"]) == {"status", "channel"}


def test_messages_are_the_thread_first_to_last(api_client, tenants, inbox):
    api_client.force_login(tenants.bob)
    body = api_client.get(f"{URL}{inbox['lee'].pk}/messages/").json()
    assert [m["content"] for m in body["results"]] == ["Where is my parcel", "Anyone?"]
    assert body["results"][0]["sender_type"] == "CUSTOMER"


def test_a_member_answers_as_an_agent(api_client, tenants, inbox, fake_platform):
    # given bob, a member, and Lee who wrote 5 minutes ago
    api_client.force_login(tenants.bob)

    # when he answers
    response = api_client.post(f"{URL}{inbox['lee'].pk}/messages/", {"text": "  On its way!  "}, format="json")

    # then the answer is stored as his agent message, waiting to be sent
    assert response.status_code == 201
    body = response.json()
    assert (body["sender_type"], body["content"], body["delivery_state"]) == ("AGENT", "On its way!", "pending")
    assert body["sent_by"]["email"] == "bob@example.com"
    with account_context(tenants.a.id):
        stored = ConversationMessage.objects.get(pk=body["id"])
        assert (stored.sender_type, stored.sent_by_id, stored.conversation_id) == ("AGENT", tenants.bob.pk,
                                                                                  inbox["lee"].pk)  # fmt: skip


def test_an_answer_outside_the_window_is_a_409_window_closed_and_stores_nothing(api_client, tenants, inbox, settings):
    # given Kim last wrote 30 hours ago and the human-agent tag is off
    settings.META_HUMAN_AGENT_TAG = False
    with account_context(tenants.a.id):
        Conversation.objects.filter(pk=inbox["kim"].pk).update(
            last_customer_message_at=timezone.now() - timedelta(hours=30)
        )
    api_client.force_login(tenants.alice)

    # when alice answers
    response = api_client.post(f"{URL}{inbox['kim'].pk}/messages/", {"text": "Still there?"}, format="json")

    # then the platform window is closed: a 409 saying so, and no message stored
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "window_closed"
    with account_context(tenants.a.id):
        assert ConversationMessage.objects.filter(conversation=inbox["kim"]).count() == 1


@pytest.mark.parametrize("text", ["", "   ", "x" * 2001])
def test_an_empty_or_too_long_answer_is_a_400(api_client, tenants, inbox, text):
    api_client.force_login(tenants.alice)
    response = api_client.post(f"{URL}{inbox['lee'].pk}/messages/", {"text": text}, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["text"]
    with account_context(tenants.a.id):
        assert ConversationMessage.objects.filter(conversation=inbox["lee"]).count() == 2


def test_a_viewer_reads_but_cannot_answer(api_client, tenants, inbox):
    # given a viewer of A
    viewer = MembershipFactory(account=tenants.a, role=Role.VIEWER).user
    api_client.force_login(viewer)

    # when they read and then try to answer
    assert api_client.get(f"{URL}{inbox['lee'].pk}/").status_code == 200
    response = api_client.post(f"{URL}{inbox['lee'].pk}/messages/", {"text": "hi"}, format="json")

    # then the answer is refused and nothing is stored
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    with account_context(tenants.a.id):
        assert ConversationMessage.objects.filter(conversation=inbox["lee"]).count() == 2


def test_read_sets_the_unread_count_to_zero_even_for_a_viewer(api_client, tenants, inbox):
    viewer = MembershipFactory(account=tenants.a, role=Role.VIEWER).user
    api_client.force_login(viewer)
    response = api_client.post(f"{URL}{inbox['lee'].pk}/read/")
    assert response.status_code == 200
    assert response.json()["unread_count"] == 0
    with account_context(tenants.a.id):
        assert Conversation.objects.get(pk=inbox["lee"].pk).unread_count == 0


def test_close_and_archive(api_client, tenants, inbox):
    api_client.force_login(tenants.bob)
    closed = api_client.post(f"{URL}{inbox['lee'].pk}/close/").json()
    assert (closed["status"], closed["needs_human"]) == ("CLOSED_BY_AGENT", False)
    archived = api_client.post(f"{URL}{inbox['lee'].pk}/archive/").json()
    assert archived["status"] == "ARCHIVED"
    # an archived conversation cannot be closed or answered
    assert api_client.post(f"{URL}{inbox['lee'].pk}/close/").status_code == 409
    answer = api_client.post(f"{URL}{inbox['lee'].pk}/messages/", {"text": "hi"}, format="json")
    assert answer.status_code == 409
    with account_context(tenants.a.id):
        assert Conversation.objects.get(pk=inbox["lee"].pk).status == "ARCHIVED"


def test_a_viewer_cannot_close(api_client, tenants, inbox):
    viewer = MembershipFactory(account=tenants.a, role=Role.VIEWER).user
    api_client.force_login(viewer)
    assert api_client.post(f"{URL}{inbox['lee'].pk}/close/").status_code == 403
    with account_context(tenants.a.id):
        assert Conversation.objects.get(pk=inbox["lee"].pk).status == "OPEN"


@pytest.mark.parametrize("suffix", ["", "messages/", "read/", "close/", "archive/", "take-over/", "give-back/"])
def test_another_accounts_conversation_is_a_404(api_client, tenants, inbox, suffix):
    api_client.force_login(tenants.alice)
    url = f"{URL}{inbox['foreign'].pk}/{suffix}"
    response = api_client.post(url) if suffix else api_client.get(url)
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not found."}}
    with account_context(tenants.b.id):
        foreign = Conversation.objects.get(pk=inbox["foreign"].pk)
    assert (foreign.status, foreign.handler) == ("OPEN", "bot")
