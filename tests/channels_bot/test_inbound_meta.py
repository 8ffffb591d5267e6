"""Messenger and Instagram deliveries through the real endpoint and the processing
task: customers, conversations, messages exactly once, echoes, handoff, receipts,
and the tenant always taken from the stored channel."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tenancy.context import account_context, rls_bypass
from channels_bot.models import ConnectedChannel, Conversation, ConversationMessage, Customer, WebhookDelivery
from channels_bot.models.platforms import Platform
from tests.channels_bot.factories import ChannelFactory, ConversationFactory, ConversationMessageFactory
from tests.support.platform_webhooks import (
    META_APP,
    PAGE_INBOX_APP,
    ig_test_changes,
    meta_delivery,
    meta_delivery_receipt,
    meta_echo,
    meta_entry,
    meta_handover,
    meta_message,
    meta_postback,
    meta_read_receipt,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_platform")]

S, C = ConversationMessage.Sender, Conversation


def rows(account, model, *related: str, **filters) -> list:
    """`model` rows as `account` sees them (with `related` joined, read inside its context)."""
    with account_context(account.id):
        queryset = model.objects.filter(**filters).select_related(*related)
        return list(queryset.order_by(*model._meta.ordering or ["pk"]))


def all_deliveries() -> list[WebhookDelivery]:
    with rls_bypass("test: read every stored delivery"):
        return list(WebhookDelivery.objects.order_by("received_at"))


@pytest.fixture
def page(tenants):
    return ChannelFactory(account=tenants.a, platform_specific_id="111000111", channel_name="Acme Shoes")


def test_several_entries_and_messaging_items_in_one_post_are_all_stored(deliver, answers, tenants, page):
    # given: two entries for the page, three customers, one of them twice
    second = ChannelFactory(account=tenants.a, platform_specific_id="222000222")
    payload = meta_delivery([
        meta_entry(page.platform_specific_id, [
            meta_message(page.platform_specific_id, "PSID-1", "Do you have red ones?", mid="m_1"),
            meta_message(page.platform_specific_id, "PSID-2", "Hello", mid="m_2"),
            meta_message(page.platform_specific_id, "PSID-1", "Size 42", mid="m_3"),
        ]),
        meta_entry(second.platform_specific_id, [meta_message(second.platform_specific_id, "PSID-9", "Hi", mid="m_4")]),
    ])  # fmt: skip
    # when
    response = deliver("meta", payload)
    # then
    assert response.status_code == 200
    messages = rows(tenants.a, ConversationMessage)
    assert sorted((m.platform_message_id, m.content, m.sender_type, m.delivery_state) for m in messages) == [
        ("m_1", "Do you have red ones?", "CUSTOMER", "received"),
        ("m_2", "Hello", "CUSTOMER", "received"),
        ("m_3", "Size 42", "CUSTOMER", "received"),
        ("m_4", "Hi", "CUSTOMER", "received"),
    ]
    customers = rows(tenants.a, Customer)
    assert sorted((c.channel_id == page.pk, c.platform_customer_id) for c in customers) == [
        (False, "PSID-9"), (True, "PSID-1"), (True, "PSID-2"),
    ]  # fmt: skip
    conversations = rows(tenants.a, Conversation, "customer")
    assert sorted((c.customer.platform_customer_id, c.unread_count, c.status) for c in conversations) == [
        ("PSID-1", 2, "OPEN"), ("PSID-2", 1, "OPEN"), ("PSID-9", 1, "OPEN"),
    ]  # fmt: skip
    assert sorted(message_id for _, message_id in answers) == sorted(str(m.pk) for m in messages)
    assert {account_id for account_id, _ in answers} == {str(tenants.a.pk)}
    [delivery] = all_deliveries()
    assert delivery.status == "processed"
    assert delivery.account_id == tenants.a.pk
    assert delivery.channel_id is None  # two channels of one account
    assert delivery.result == "FACEBOOK_PAGE 111000111: 3 new messages; FACEBOOK_PAGE 222000222: 1 new messages"
    with account_context(tenants.a.id):
        assert ConnectedChannel.objects.get(pk=page.pk).last_webhook_at is not None


def test_the_same_delivery_replayed_ten_times_makes_one_message_and_one_answer(deliver, answers, tenants, page):
    # given
    payload = meta_delivery([meta_entry(page.platform_specific_id, [
        meta_message(page.platform_specific_id, "PSID-1", "I want to order", mid="m_once"),
    ])])  # fmt: skip
    # when
    statuses = [deliver("meta", payload).status_code for _ in range(10)]
    # then
    assert statuses == [200] * 10
    [message] = rows(tenants.a, ConversationMessage)
    assert (message.platform_message_id, message.content) == ("m_once", "I want to order")
    assert answers == [(str(tenants.a.pk), str(message.pk))]
    [conversation] = rows(tenants.a, Conversation)
    assert conversation.unread_count == 1
    deliveries = all_deliveries()
    assert len(deliveries) == 10
    assert [d.result for d in deliveries] == ["FACEBOOK_PAGE 111000111: 1 new messages"] + [
        "FACEBOOK_PAGE 111000111: 1 duplicates"
    ] * 9


def test_a_quick_reply_a_postback_and_an_attachment_keep_their_payloads(deliver, answers, tenants, page):
    # given
    pid = page.platform_specific_id
    payload = meta_delivery([meta_entry(pid, [
        meta_message(pid, "PSID-1", "Red", quick_reply="COLOR_RED", mid="m_q"),
        meta_postback(pid, "PSID-1", "Buy", "SKU_1", mid="m_p"),
        meta_message(pid, "PSID-1", "", mid="m_a",
                     attachments=[{"type": "image", "payload": {"url": "https://cdn.example/shoe.jpg"}}]),
    ])])  # fmt: skip
    # when
    deliver("meta", payload)
    # then
    got = {m.platform_message_id: (m.content_type, m.content, m.payload) for m in rows(tenants.a, ConversationMessage)}
    assert got == {
        "m_q": ("TEXT", "Red", {"quick_reply": "COLOR_RED"}),
        "m_p": ("TEXT", "Buy", {"postback": "SKU_1"}),
        "m_a": ("IMAGE", "[image]", {"attachments": [{"type": "image", "url": "https://cdn.example/shoe.jpg"}]}),
    }
    assert len(answers) == 3


def test_the_echo_of_our_own_send_stores_nothing_and_marks_the_send(deliver, answers, tenants, page):
    # given: the bot's answer, sent (the platform's id recorded), still "pending" here
    conversation = ConversationFactory(customer__channel=page, customer__platform_customer_id="PSID-1")
    ours = ConversationMessageFactory(conversation=conversation, sender_type=S.BOT, platform_message_id="m_bot_1",
                                      delivery_state="pending", content="We have red ones.")  # fmt: skip
    pid = page.platform_specific_id
    payload = meta_delivery([meta_entry(pid, [
        meta_echo(pid, "PSID-1", "We have red ones.", mid="m_bot_1", app_id=META_APP),
        meta_echo(pid, "PSID-1", "A send whose id is not recorded yet", mid="m_bot_2", app_id=META_APP),
    ])])  # fmt: skip
    # when
    deliver("meta", payload)
    # then
    messages = rows(tenants.a, ConversationMessage)
    assert [(m.pk, m.delivery_state) for m in messages] == [(ours.pk, "sent")]
    assert answers == []
    with account_context(tenants.a.id):
        assert Conversation.objects.get(pk=conversation.pk).handler == "bot"
    assert all_deliveries()[0].result == "FACEBOOK_PAGE 111000111: 2 echoes of our sends"


def test_an_echo_from_another_app_is_a_human_reply_and_hands_the_conversation_over(deliver, answers, tenants, page):
    # given: a customer talking to the bot
    pid = page.platform_specific_id
    deliver("meta", meta_delivery([meta_entry(pid, [meta_message(pid, "PSID-1", "Can I talk to a person?")])]))
    answers.clear()
    # when: a person answers from the Page Inbox, then the customer writes again
    deliver("meta", meta_delivery([meta_entry(pid, [
        meta_echo(pid, "PSID-1", "Hi, this is Mina from Acme.", mid="m_human", app_id=PAGE_INBOX_APP),
    ])]))  # fmt: skip
    deliver("meta", meta_delivery([meta_entry(pid, [meta_message(pid, "PSID-1", "Thanks Mina", mid="m_after")])]))
    # then
    messages = rows(tenants.a, ConversationMessage)
    assert [(m.sender_type, m.content, m.platform_message_id or "-") for m in messages][1:] == [
        ("AGENT", "Hi, this is Mina from Acme.", "m_human"),
        ("CUSTOMER", "Thanks Mina", "m_after"),
    ]
    agent = messages[1]
    assert agent.payload == {"via": "platform_inbox", "app_id": PAGE_INBOX_APP}
    assert agent.delivery_state == "sent"
    [conversation] = rows(tenants.a, Conversation)
    assert (conversation.handler, conversation.status, conversation.unread_count) == ("human", "OPEN", 2)
    assert answers == []  # neither the echo nor the next message is answered by the bot


def test_the_instagram_test_format_with_changes_is_accepted(deliver, answers, tenants):
    # given
    ig = ChannelFactory(account=tenants.a, platform_type=Platform.INSTAGRAM_BUSINESS,
                        platform_specific_id="17841400000000001")  # fmt: skip
    # when
    response = deliver("meta", ig_test_changes(ig.platform_specific_id, "IGSID-7", "hello from the dashboard",
                                               mid="aWdf_test"))  # fmt: skip
    # then
    assert response.status_code == 200
    [message] = rows(tenants.a, ConversationMessage, "conversation__customer")
    assert (message.channel_id, message.content, message.platform_message_id) == (
        ig.pk, "hello from the dashboard", "aWdf_test",
    )  # fmt: skip
    assert message.conversation.customer.platform_customer_id == "IGSID-7"
    assert len(answers) == 1


@pytest.mark.parametrize("paused", [False, True])
def test_an_unknown_or_paused_channel_is_acknowledged_and_ignored_with_a_reason(deliver, answers, tenants, paused):
    # given
    if paused:
        ChannelFactory(account=tenants.a, platform_specific_id="333", is_active=False)
    payload = meta_delivery([meta_entry("333", [meta_message("333", "PSID-1", "hello"), meta_message("333", "P2")])])
    # when
    response = deliver("meta", payload)
    # then
    assert response.status_code == 200
    [delivery] = all_deliveries()
    assert delivery.status == "ignored"
    reason = "FACEBOOK_PAGE 333 (paused channel)" if paused else "unknown channel FACEBOOK_PAGE 333"
    assert delivery.result == f"{reason}: 2 events ignored"
    with rls_bypass("test: no customer anywhere"):
        assert Customer.objects.count() == 0
        assert ConversationMessage.objects.count() == 0
    assert answers == []


def test_the_tenant_comes_from_the_channel_never_the_payload(deliver, answers, tenants):
    # given: each account has a page; the delivery names B's page (and A's page only as a recipient)
    page_a = ChannelFactory(account=tenants.a, platform_specific_id="500")
    page_b = ChannelFactory(account=tenants.b, platform_specific_id="600")
    item = meta_message("500", "PSID-1", "hello", mid="m_b")
    payload = meta_delivery([meta_entry(page_b.platform_specific_id, [item])])
    # when
    deliver("meta", payload)
    # then
    assert rows(tenants.a, ConversationMessage) == []
    assert rows(tenants.a, Customer) == []
    [message] = rows(tenants.b, ConversationMessage)
    assert (message.account_id, message.channel_id) == (tenants.b.pk, page_b.pk)
    assert answers == [(str(tenants.b.pk), str(message.pk))]
    [delivery] = all_deliveries()
    assert (delivery.account_id, delivery.channel_id) == (tenants.b.pk, page_b.pk)
    assert page_a.pk != page_b.pk


def test_delivery_and_read_receipts_move_our_messages_forward(deliver, answers, tenants, page):
    # given: three answers of ours, the last after the watermark
    now = timezone.now()
    conversation = ConversationFactory(customer__channel=page, customer__platform_customer_id="PSID-1")
    old, mid_named, later = (
        ConversationMessageFactory(conversation=conversation, sender_type=S.BOT, delivery_state="sent",
                                   platform_message_id=f"m_{n}", timestamp=now - timedelta(minutes=m))
        for n, m in (("old", 10), ("named", 5), ("later", -5))
    )  # fmt: skip
    theirs = ConversationMessageFactory(conversation=conversation, timestamp=now - timedelta(minutes=20))
    pid, watermark = page.platform_specific_id, int((now - timedelta(minutes=7)).timestamp() * 1000)
    # when: delivered up to the watermark plus one named message, then read up to the watermark
    deliver("meta", meta_delivery([meta_entry(pid, [
        meta_delivery_receipt(pid, "PSID-1", watermark=watermark, mids=["m_named"]),
    ])]))  # fmt: skip
    states_after_delivery = [m.delivery_state for m in rows(tenants.a, ConversationMessage)]
    deliver("meta", meta_delivery([meta_entry(pid, [meta_read_receipt(pid, "PSID-1", watermark=watermark)])]))
    # then
    assert states_after_delivery == ["received", "delivered", "delivered", "sent"]
    got = {m.pk: m.delivery_state for m in rows(tenants.a, ConversationMessage)}
    assert got == {theirs.pk: "received", old.pk: "read", mid_named.pk: "delivered", later.pk: "sent"}
    assert answers == []


def test_a_closed_conversation_reopens_and_an_archived_one_starts_anew(deliver, answers, tenants, page):
    # given
    closed = ConversationFactory(customer__channel=page, customer__platform_customer_id="PSID-C",
                                 status=C.Status.CLOSED_BY_AGENT, handler=C.Handler.HUMAN)  # fmt: skip
    archived = ConversationFactory(customer__channel=page, customer__platform_customer_id="PSID-A",
                                   status=C.Status.ARCHIVED)  # fmt: skip
    pid = page.platform_specific_id
    # when
    deliver("meta", meta_delivery([meta_entry(pid, [
        meta_message(pid, "PSID-C", "me again"), meta_message(pid, "PSID-A", "me too"),
    ])]))  # fmt: skip
    # then
    conversations = rows(tenants.a, Conversation, "customer")
    by_customer = {}
    for c in conversations:
        by_customer.setdefault(c.customer.platform_customer_id, []).append((c.pk == archived.pk, c.status, c.handler))
    assert by_customer["PSID-C"] == [(False, "OPEN", "bot")]
    assert sorted(by_customer["PSID-A"]) == [(False, "OPEN", "bot"), (True, "ARCHIVED", "bot")]
    with account_context(tenants.a.id):
        assert ConversationMessage.objects.get(content="me again").conversation_id == closed.pk
    assert len(answers) == 2


def test_standby_messages_are_stored_but_not_answered(deliver, answers, tenants, page):
    # given: another app (the Page Inbox) owns the thread
    pid = page.platform_specific_id
    payload = meta_delivery([meta_entry(pid, [meta_message(pid, "PSID-1", "hello?", mid="m_sb")], standby=True)])
    # when
    deliver("meta", payload)
    # then
    [message] = rows(tenants.a, ConversationMessage)
    assert (message.content, message.payload) == ("hello?", {"standby": True})
    assert answers == []


def test_the_inbox_taking_the_thread_from_us_hands_the_conversation_to_humans(deliver, answers, tenants, page):
    # given
    conversation = ConversationFactory(customer__channel=page, customer__platform_customer_id="PSID-1")
    pid = page.platform_specific_id
    # when
    deliver("meta", meta_delivery([meta_entry(pid, [
        meta_handover(pid, "PSID-1", "take_thread_control", previous_owner=META_APP),
    ])]))  # fmt: skip
    # then
    with account_context(tenants.a.id):
        assert Conversation.objects.get(pk=conversation.pk).handler == "human"
    assert all_deliveries()[0].result == (
        "FACEBOOK_PAGE 111000111: 1 handovers (take_thread_control, new owner ?), "
        "1 conversations handed to humans by the handover protocol"
    )


def test_a_new_customer_gets_the_name_and_picture_of_their_profile(deliver, answers, tenants, page, fake_platform):
    # given
    fake_platform.profiles["PSID-77"] = {"name": "Jane Doe", "profile_pic": "https://cdn.example/jane.jpg"}
    pid = page.platform_specific_id
    # when
    deliver("meta", meta_delivery([meta_entry(pid, [meta_message(pid, "PSID-77", "hi")])]))
    # then
    [customer] = rows(tenants.a, Customer)
    assert (customer.full_name, customer.profile_picture_url) == ("Jane Doe", "https://cdn.example/jane.jpg")
    assert customer.profile_fetched_at is not None


def test_an_unsupported_event_is_recorded_and_nothing_else_happens(deliver, answers, tenants, page):
    # given
    pid = page.platform_specific_id
    odd = {"sender": {"id": "PSID-1"}, "recipient": {"id": pid}, "timestamp": 1, "reaction": {"emoji": "x"}}
    # when
    deliver("meta", meta_delivery([meta_entry(pid, [odd, "not an object"])]))
    # then
    [delivery] = all_deliveries()
    assert (delivery.status, delivery.result) == ("processed", "FACEBOOK_PAGE 111000111: 1 unsupported (reaction)")
    assert rows(tenants.a, Customer) == []
