"""Seed 004: connected social channels, their customers, the account's product
catalog, orders taken in conversations, and the conversations themselves.

Split by sub-domain: channels (and the raw webhook deliveries), customers,
catalog, orders, conversations.
"""

from .catalog import Product
from .channels import ConnectedChannel, WebhookDelivery
from .conversations import Conversation, ConversationMessage
from .customers import Customer
from .orders import Order, OrderItem, OrderStatusChange

__all__ = [
    "ConnectedChannel",
    "Conversation",
    "ConversationMessage",
    "Customer",
    "Order",
    "OrderItem",
    "OrderStatusChange",
    "Product",
    "WebhookDelivery",
]
