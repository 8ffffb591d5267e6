"""`manage.py seed_channels_demo`: the channel bot demo of the two demo accounts,
idempotent, and sending nothing to a platform."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from accounts.models import Account
from accounts.tenancy.context import account_context, rls_bypass
from channels_bot.models import ConnectedChannel, Conversation, ConversationMessage, Customer, Order, Product

pytestmark = pytest.mark.django_db


def _counts(account: Account) -> dict:
    with account_context(account.id):
        return {
            "channels": ConnectedChannel.objects.filter(account=account).count(),
            "products": Product.objects.filter(account=account).count(),
            "customers": Customer.objects.filter(account=account).count(),
            "conversations": Conversation.objects.filter(account=account).count(),
            "messages": ConversationMessage.objects.filter(account=account).count(),
            "orders": Order.objects.filter(account=account).count(),
        }


def test_the_demo_seeds_both_accounts_once(django_capture_on_commit_callbacks):
    # given the demo accounts
    call_command("seed_demo")
    with rls_bypass("test: the demo accounts"):
        acme = Account.objects.get(name="Acme Logistics")
        globex = Account.objects.get(name="Globex Media")

    # when the channel demo is seeded twice
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        call_command("seed_channels_demo")
    first = (_counts(acme), _counts(globex))
    call_command("seed_channels_demo")

    # then Acme has its page, 8 products, 3 customers and conversations, 2 orders; Globex a smaller set
    assert first == (_counts(acme), _counts(globex))
    assert {k: v for k, v in first[0].items() if k != "messages"} == {
        "channels": 1, "products": 8, "customers": 3, "conversations": 3, "orders": 2,
    }  # fmt: skip
    assert {k: v for k, v in first[1].items() if k != "messages"} == {
        "channels": 2, "products": 3, "customers": 1, "conversations": 1, "orders": 0,
    }  # fmt: skip
    with account_context(acme.id):
        page = ConnectedChannel.objects.get(account=acme)
        messages = ConversationMessage.objects.filter(account=acme)
        assert page.platform_type == "FACEBOOK_PAGE"
        assert set(messages.values_list("sender_type", flat=True)) == {"CUSTOMER", "BOT", "AGENT"}
        assert messages.filter(content_type="CAROUSEL").count() == 1
        assert messages.filter(content_type="QUICK_REPLY").count() == 2
        assert messages.filter(delivery_state="failed", error_code="window_closed").count() == 1
        # nothing waits to be sent: the demo tokens are not real
        assert messages.filter(delivery_state="pending").count() == 0
        orders = {o.order_status: o for o in Order.objects.filter(account=acme).prefetch_related("status_changes")}
        assert set(orders) == {"PENDING", "PROCESSING"}
        history = [(c.from_status, c.to_status) for c in orders["PROCESSING"].status_changes.all()]
        assert history[-2:] == [("PENDING", "CONFIRMED"), ("CONFIRMED", "PROCESSING")]
        assert str(orders["PENDING"].total_amount) == "39.80"
    # and seeding published events only (no send task was scheduled)
    assert all("message_send" not in repr(c) for c in callbacks)
