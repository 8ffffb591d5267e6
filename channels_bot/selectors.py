"""Reads of the channel bot. Every function takes the account first; an id the
account does not own (missing, malformed, another account's) is NotFound (404).

The list selectors join or prefetch what their pages and API lists show, so a
list costs the same number of queries for 3 rows as for 300.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.contrib.postgres.search import SearchQuery
from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils.translation import gettext

from accounts.models import Account
from aiplatform.errors import NotFound

from .models import (
    ConnectedChannel,
    Conversation,
    ConversationMessage,
    Customer,
    Order,
    OrderItem,
    OrderStatusChange,
    Product,
)
from .models.catalog import TEXT_SEARCH_CONFIG

PREVIEW_CHARS = 140


def _uuid(value: Any, what: str) -> UUID:
    try:
        return value if isinstance(value, UUID) else UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        raise NotFound(gettext("There is no such %(what)s.") % {"what": what})


def _one(queryset: QuerySet, pk: Any, what: str):
    found = queryset.filter(pk=_uuid(pk, what)).first()
    if found is None:
        raise NotFound(gettext("There is no such %(what)s.") % {"what": what})
    return found


# Channels


def channels_for_account(account: Account) -> QuerySet[ConnectedChannel]:
    return (
        ConnectedChannel.objects.filter(account=account)
        .select_related("persona")
        .order_by("platform_type", "channel_name", "id")
    )


def channel_get_for_account(account: Account, channel_id: Any) -> ConnectedChannel:
    return _one(channels_for_account(account), channel_id, "channel")


def channels_needing_reconnect(account: Account) -> list[ConnectedChannel]:
    """What the reconnect banner of the inbox and channel pages names."""
    return list(
        ConnectedChannel.objects.filter(account=account, auth_state=ConnectedChannel.AuthState.NEEDS_RECONNECT)
        .only("id", "channel_name", "platform_type", "auth_error")
        .order_by("channel_name")
    )


# Customers


def customers_for_account(account: Account, *, search: str = "", channel: Any = None) -> QuerySet[Customer]:
    """The account's customers with their order count, most recently seen first."""
    queryset = (
        Customer.objects.filter(account=account)
        .select_related("channel")
        .annotate(order_count=Count("orders"))
        .order_by("-last_seen_at", "-id")
    )
    if search:
        queryset = queryset.filter(Q(full_name__icontains=search) | Q(platform_customer_id__icontains=search))
    if channel:
        queryset = queryset.filter(channel_id=channel)
    return queryset


def customer_get_for_account(account: Account, customer_id: Any) -> Customer:
    return _one(customers_for_account(account), customer_id, "customer")


# Catalog


def products_for_account(account: Account, *, search: str = "", available: bool | None = None) -> QuerySet[Product]:
    """The catalog by name; `search` matches words (full text on name, SKU and
    description) or any part of the name or SKU."""
    queryset = Product.objects.filter(account=account).defer("search_vector", "embedding").order_by("name", "id")
    if search:
        words = SearchQuery(search, config=TEXT_SEARCH_CONFIG, search_type="websearch")
        queryset = queryset.filter(Q(search_vector=words) | Q(name__icontains=search) | Q(sku__icontains=search))
    if available is not None:
        queryset = queryset.filter(is_available=available)
    return queryset


def product_get_for_account(account: Account, product_id: Any) -> Product:
    return _one(products_for_account(account), product_id, "product")


# Orders


@dataclass(frozen=True)
class OrderFilters:
    status: str = ""
    channel: UUID | None = None
    customer: UUID | None = None


def orders_for_account(account: Account, filters: OrderFilters | None = None) -> QuerySet[Order]:
    """The account's orders, newest first, with their customer, channel and item count."""
    filters = filters or OrderFilters()
    queryset = (
        Order.objects.filter(account=account)
        .select_related("customer", "channel")
        .annotate(item_count=Count("items"))
        .order_by("-created_at", "-id")
    )
    if filters.status:
        queryset = queryset.filter(order_status=filters.status)
    if filters.channel:
        queryset = queryset.filter(channel_id=filters.channel)
    if filters.customer:
        queryset = queryset.filter(customer_id=filters.customer)
    return queryset


def order_detail_queryset(account: Account) -> QuerySet[Order]:
    return orders_for_account(account).prefetch_related(
        Prefetch("items", queryset=OrderItem.objects.filter(account=account).select_related("product").order_by("id")),
        Prefetch(
            "status_changes",
            queryset=OrderStatusChange.objects.filter(account=account).select_related("actor").order_by("created_at"),
        ),
    )


def order_get_for_account(account: Account, order_id: Any) -> Order:
    """One order with its items (and products) and its status history."""
    return _one(order_detail_queryset(account), order_id, "order")


def customer_orders(account: Account, customer: Customer) -> list[Order]:
    """The customer panel of the inbox: their orders with items, newest first."""
    return list(order_detail_queryset(account).filter(customer=customer)[:20])


# Conversations


@dataclass(frozen=True)
class ConversationFilters:
    channel: UUID | None = None
    status: str = ""
    handler: str = ""
    needs_human: bool | None = None
    unread: bool | None = None
    customer: UUID | None = None


def _last(field: str) -> Subquery:
    latest = ConversationMessage.objects.filter(conversation=OuterRef("pk")).order_by("-timestamp", "-id")
    return Subquery(latest.values(field)[:1])


def conversations_for_account(account: Account, filters: ConversationFilters | None = None) -> QuerySet[Conversation]:
    """The inbox list: most recent activity first, with the customer, channel,
    assignee and a preview of the last message (one query for the page)."""
    filters = filters or ConversationFilters()
    queryset = (
        Conversation.objects.filter(account=account)
        .select_related("customer", "channel", "assigned_to")
        .defer("order_state", "channel__access_token", "channel__refresh_token")
        .annotate(
            last_message_content=_last("content"),
            last_message_sender=_last("sender_type"),
            last_message_state=_last("delivery_state"),
        )
        .order_by("-last_message_at", "-id")
    )
    if filters.channel:
        queryset = queryset.filter(channel_id=filters.channel)
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.handler:
        queryset = queryset.filter(handler=filters.handler)
    if filters.needs_human is not None:
        queryset = queryset.filter(needs_human=filters.needs_human)
    if filters.unread is True:
        queryset = queryset.filter(unread_count__gt=0)
    elif filters.unread is False:
        queryset = queryset.filter(unread_count=0)
    if filters.customer:
        queryset = queryset.filter(customer_id=filters.customer)
    return queryset


def conversation_get_for_account(account: Account, conversation_id: Any) -> Conversation:
    return _one(conversations_for_account(account), conversation_id, "conversation")


def messages_of_conversation(account: Account, conversation: Conversation) -> QuerySet[ConversationMessage]:
    """The thread, first to last, with who sent each agent message."""
    return (
        ConversationMessage.objects.filter(account=account, conversation=conversation)
        .select_related("sent_by")
        .order_by("timestamp", "id")
    )


@dataclass(frozen=True)
class InboxCounts:
    open: int
    needs_human: int
    unread: int


def inbox_counts(account: Account) -> InboxCounts:
    """The badges of the inbox filters, in one query."""
    counts = Conversation.objects.filter(account=account).aggregate(
        open=Count("id", filter=Q(status=Conversation.Status.OPEN)),
        needs_human=Count("id", filter=Q(needs_human=True) & ~Q(status=Conversation.Status.ARCHIVED)),
        unread=Count("id", filter=Q(unread_count__gt=0) & ~Q(status=Conversation.Status.ARCHIVED)),
    )
    return InboxCounts(**counts)
