"""order_transition: the status machine, who and when, and the customer told."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Role
from accounts.tenancy.context import account_context
from aiplatform.errors import Conflict, Forbidden
from channels_bot.models import Conversation, ConversationMessage, Order
from channels_bot.services.orders import order_create, order_number, order_transition
from tests.accounts.factories import MembershipFactory
from tests.channels_bot.factories import ProductFactory, open_conversation, record_sends

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    return record_sends(monkeypatch)


def _order(account, conversation):
    mug = ProductFactory(account=account, price=Decimal("10.00"))
    return order_create(account=account, customer=conversation.customer, conversation=conversation,
                        items=[(mug.pk, 1)], shipping_address={"text": "1 Main St, Springfield"},
                        actor_kind="customer")  # fmt: skip


def _history(order):
    with account_context(order.account_id):
        return list(order.status_changes.values_list("from_status", "to_status", "actor_kind", "actor__email", "note"))


def _bot_texts(conversation):
    with account_context(conversation.account_id):
        return list(
            ConversationMessage.objects.filter(conversation=conversation, sender_type="BOT")
            .order_by("timestamp")
            .values_list("content", flat=True)
        )


def test_the_allowed_path_to_shipped_is_recorded_and_the_customer_told_each_time(tenants, sent):
    # given
    conversation = open_conversation(tenants.a)
    order = _order(tenants.a, conversation)
    number = order_number(order)

    # when
    order_transition(order=order, to_status="CONFIRMED", actor_kind="agent", actor=tenants.bob_membership)
    order_transition(order=order, to_status="PROCESSING", actor_kind="agent", actor=tenants.alice_membership,
                     note="packing")  # fmt: skip
    order_transition(order=order, to_status="SHIPPED", actor_kind="system")

    # then
    with account_context(tenants.a.id):
        order.refresh_from_db()
    assert order.order_status == "SHIPPED"
    assert _history(order) == [
        ("", "PENDING", "customer", None, "Order placed."),
        ("PENDING", "CONFIRMED", "agent", "bob@example.com", ""),
        ("CONFIRMED", "PROCESSING", "agent", "alice@example.com", "packing"),
        ("PROCESSING", "SHIPPED", "system", None, ""),
    ]
    assert _bot_texts(conversation) == [
        f"Good news: your order {number} is confirmed.",
        f"Your order {number} is being prepared.",
        f"Your order {number} has shipped. Thank you for shopping with us!",
    ]
    assert len(sent) == 3


@pytest.mark.parametrize(
    ("path", "to", "message"),
    [
        ([], "SHIPPED", "An order that is PENDING cannot move to SHIPPED; allowed: CANCELLED, CONFIRMED."),
        (["CONFIRMED", "PROCESSING", "SHIPPED"], "CANCELLED",
         "An order that is SHIPPED cannot move to CANCELLED; it cannot change any more."),
        (["CANCELLED"], "CONFIRMED", "An order that is CANCELLED cannot move to CONFIRMED; it cannot change any more."),
    ],
)  # fmt: skip
def test_a_move_outside_the_machine_is_a_conflict_and_changes_nothing(tenants, sent, path, to, message):
    # given
    conversation = open_conversation(tenants.a)
    order = _order(tenants.a, conversation)
    for status in path:
        order_transition(order=order, to_status=status, actor_kind="system")
    before = _history(order)
    sent.clear()

    # when
    with pytest.raises(Conflict) as err:
        order_transition(order=order, to_status=to, actor_kind="agent", actor=tenants.bob_membership)

    # then
    assert (err.value.status, err.value.code, err.value.message) == (409, "invalid_transition", message)
    assert _history(order) == before
    assert sent == []


def test_cancel_is_allowed_from_processing(tenants, sent):
    # given
    conversation = open_conversation(tenants.a)
    order = _order(tenants.a, conversation)
    order_transition(order=order, to_status="CONFIRMED", actor_kind="system")
    order_transition(order=order, to_status="PROCESSING", actor_kind="system")

    # when
    order_transition(order=order, to_status="CANCELLED", actor_kind="agent", actor=tenants.bob_membership)

    # then
    assert order.order_status == "CANCELLED"
    assert _history(order)[-1] == ("PROCESSING", "CANCELLED", "agent", "bob@example.com", "")


def test_a_viewer_cannot_move_an_order(tenants, sent):
    # given
    conversation = open_conversation(tenants.a)
    order = _order(tenants.a, conversation)
    viewer = MembershipFactory(account=tenants.a, role=Role.VIEWER)

    # when
    with pytest.raises(Forbidden):
        order_transition(order=order, to_status="CONFIRMED", actor_kind="agent", actor=viewer)
    with pytest.raises(Forbidden):
        order_transition(order=order, to_status="CONFIRMED", actor_kind="agent", actor=tenants.carol_membership)

    # then
    with account_context(tenants.a.id):
        assert Order.objects.get(pk=order.pk).order_status == "PENDING"
    assert _history(order) == [("", "PENDING", "customer", None, "Order placed.")]
    assert sent == []


def test_a_closed_window_does_not_stop_the_move_but_is_noted_and_flagged(tenants, sent):
    # given
    conversation = open_conversation(tenants.a)
    order = _order(tenants.a, conversation)
    with account_context(tenants.a.id):
        Conversation.objects.filter(pk=conversation.pk).update(
            last_customer_message_at=timezone.now() - timedelta(hours=30)
        )

    # when
    order_transition(order=order, to_status="CONFIRMED", actor_kind="agent", actor=tenants.bob_membership)

    # then
    with account_context(tenants.a.id):
        conversation.refresh_from_db()
    assert order.order_status == "CONFIRMED"
    assert _history(order)[-1][:4] == ("PENDING", "CONFIRMED", "agent", "bob@example.com")
    assert _history(order)[-1][4].startswith("Customer not told: The customer last wrote more than 24 hours ago")
    assert conversation.needs_human is True
    assert _bot_texts(conversation) == []
    assert sent == []
