"""Factories of the channel bot. Rows are written inside their account's context,
as the application writes them (row-level security's WITH CHECK applies)."""

from __future__ import annotations

from decimal import Decimal

import factory

from channels_bot.models import (
    ConnectedChannel,
    Conversation,
    ConversationMessage,
    Customer,
    Order,
    OrderItem,
    OrderStatusChange,
    Product,
)
from channels_bot.models.platforms import Platform
from tests.accounts.factories import AccountFactory, TenantFactory


class ChannelFactory(TenantFactory):
    class Meta:
        model = ConnectedChannel

    account = factory.SubFactory(AccountFactory)
    platform_type = Platform.FACEBOOK_PAGE
    platform_specific_id = factory.Sequence(lambda n: f"{100200300 + n}")
    channel_name = factory.Sequence(lambda n: f"Page {n}")
    route = ConnectedChannel.Route.FACEBOOK_LOGIN
    access_token = factory.Sequence(lambda n: f"PAGE-TOKEN-{n}")


class CustomerFactory(TenantFactory):
    class Meta:
        model = Customer

    channel = factory.SubFactory(ChannelFactory)
    account = factory.LazyAttribute(lambda o: o.channel.account)
    platform_customer_id = factory.Sequence(lambda n: f"PSID{5000 + n}")
    full_name = factory.Faker("name")


class ProductFactory(TenantFactory):
    class Meta:
        model = Product

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"Product {n}")
    description = "A fine product."
    price = Decimal("19.90")
    currency = "USD"
    sku = factory.Sequence(lambda n: f"SKU-{n}")


class ConversationFactory(TenantFactory):
    class Meta:
        model = Conversation

    customer = factory.SubFactory(CustomerFactory)
    channel = factory.LazyAttribute(lambda o: o.customer.channel)
    account = factory.LazyAttribute(lambda o: o.customer.account)


class ConversationMessageFactory(TenantFactory):
    class Meta:
        model = ConversationMessage

    conversation = factory.SubFactory(ConversationFactory)
    channel = factory.LazyAttribute(lambda o: o.conversation.channel)
    account = factory.LazyAttribute(lambda o: o.conversation.account)
    sender_type = ConversationMessage.Sender.CUSTOMER
    content = factory.Sequence(lambda n: f"customer message {n}")
    platform_message_id = factory.Sequence(lambda n: f"m_{n}")
    delivery_state = ConversationMessage.Delivery.RECEIVED


class OrderFactory(TenantFactory):
    class Meta:
        model = Order

    customer = factory.SubFactory(CustomerFactory)
    channel = factory.LazyAttribute(lambda o: o.customer.channel)
    account = factory.LazyAttribute(lambda o: o.customer.account)
    total_amount = Decimal("0")
    currency = "USD"


class OrderItemFactory(TenantFactory):
    class Meta:
        model = OrderItem

    order = factory.SubFactory(OrderFactory)
    account = factory.LazyAttribute(lambda o: o.order.account)
    product = factory.LazyAttribute(lambda o: ProductFactory(account=o.order.account))
    quantity = 1
    price_at_purchase = factory.LazyAttribute(lambda o: o.product.price)
    currency_at_purchase = factory.LazyAttribute(lambda o: o.product.currency)


class OrderStatusChangeFactory(TenantFactory):
    class Meta:
        model = OrderStatusChange

    order = factory.SubFactory(OrderFactory)
    account = factory.LazyAttribute(lambda o: o.order.account)
    from_status = ""
    to_status = Order.Status.PENDING
    actor_kind = OrderStatusChange.Actor.BOT


def channel_bot_rows(account, owner) -> None:
    """One row in every channel-bot table of `account` (the tenancy registries use it)."""
    from accounts.tenancy.context import account_context
    from channels_bot.models import WebhookDelivery
    from channels_bot.models.platforms import WebhookSource

    channel = ChannelFactory(account=account, channel_name=f"Channel {account.name}")
    message = ConversationMessageFactory(conversation=ConversationFactory(customer=CustomerFactory(channel=channel)))
    item = OrderItemFactory(order=OrderFactory(customer=message.conversation.customer))
    OrderStatusChangeFactory(order=item.order)
    with account_context(account.id):
        WebhookDelivery.objects.create(
            source=WebhookSource.META, body=b"{}", account=account, channel=channel,
            status=WebhookDelivery.Status.PROCESSED,
        )  # fmt: skip


def record_sends(monkeypatch) -> list:
    """Keep outbound messages from the platform (the true boundary): the ids of the
    messages `outgoing_create` would have sent, in order."""
    from channels_bot.services import outbound

    sent: list = []
    monkeypatch.setattr(outbound, "message_enqueue", lambda message: sent.append(message.pk))
    return sent


def open_conversation(account, platform=None, **kwargs):
    """A bot-handled conversation whose customer wrote just now (the 24-hour window is open)."""
    from django.utils import timezone

    channel_kwargs = {"account": account}
    if platform is not None:
        from channels_bot.models import ConnectedChannel

        routes = {
            "TWITTER_PROFILE": ConnectedChannel.Route.X_OAUTH2,
            "LINKEDIN_PAGE": ConnectedChannel.Route.LINKEDIN_OAUTH,
        }
        channel_kwargs.update(platform_type=platform, route=routes.get(platform, ConnectedChannel.Route.FACEBOOK_LOGIN))
    channel = kwargs.pop("channel", None) or ChannelFactory(**channel_kwargs)
    return ConversationFactory(
        customer=CustomerFactory(channel=channel), last_customer_message_at=timezone.now(), **kwargs
    )
