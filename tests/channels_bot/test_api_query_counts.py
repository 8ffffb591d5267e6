"""The channel bot's list endpoints and the inbox page cost the same number of
queries for 3 rows as for 30 (no N+1), pinned at their current count."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.channels_bot.factories import (
    ChannelFactory,
    ConversationFactory,
    ConversationMessageFactory,
    CustomerFactory,
    OrderFactory,
    OrderItemFactory,
    ProductFactory,
)

pytestmark = pytest.mark.django_db

# User (session), savepoint, user context, active membership, tenant context,
# COUNT, the page, release; + the api_usage_logs row.
CONVERSATIONS_QUERIES = 9
ORDERS_QUERIES = 9
PRODUCTS_QUERIES = 9
CUSTOMERS_QUERIES = 9


def _queries(client, url: str, expected_rows: int) -> int:
    client.get(url)  # warm up: the first request of a user also records its last activity
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    if url.startswith("/api/"):
        assert response.json()["count"] == expected_rows
    return len(captured)


def _fill(account, rows: int) -> None:
    channel = ChannelFactory(account=account)
    for _ in range(rows):
        customer = CustomerFactory(channel=channel)
        conversation = ConversationFactory(customer=customer)
        ConversationMessageFactory(conversation=conversation)
        ConversationMessageFactory(conversation=conversation)
        OrderItemFactory(order=OrderFactory(customer=customer, conversation=conversation))
        ProductFactory(account=account)


@pytest.mark.parametrize("rows", [3, 30])
@pytest.mark.parametrize(
    ("url", "pinned", "per_row_products"),
    [
        ("/api/v1/conversations/", CONVERSATIONS_QUERIES, 0),
        ("/api/v1/orders/", ORDERS_QUERIES, 0),
        ("/api/v1/products/", PRODUCTS_QUERIES, 2),  # each order item made its own product too
        ("/api/v1/customers/", CUSTOMERS_QUERIES, 0),
    ],
)
def test_list_query_count_does_not_grow_with_rows(api_client, tenants, rows, url, pinned, per_row_products):
    # given A with `rows` customers, each with a conversation of two messages, an order and a product
    _fill(tenants.a, rows)
    api_client.force_login(tenants.bob)

    # when bob lists
    count = _queries(api_client, url, rows * (per_row_products or 1))

    # then the query count is the pinned constant
    assert count == pinned


def test_the_inbox_page_query_count_does_not_grow_with_conversations(client, tenants):
    # given 3 conversations measured, then 27 more
    _fill(tenants.a, 3)
    client.force_login(tenants.bob)
    three = _queries(client, "/inbox/", 3)
    _fill(tenants.a, 27)

    # when the inbox is opened again
    thirty = _queries(client, "/inbox/", 30)

    # then the count did not move
    assert thirty == three
