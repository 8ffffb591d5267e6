"""Publish account events to the account's websocket group after commit."""

from __future__ import annotations

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction


def group_name(account_id) -> str:
    return f"account-{account_id}"


def publish_on_commit(account_id, event: str, data: dict) -> None:
    def send():
        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(
                group_name(account_id), {"type": "account.event", "event": event, "data": data}
            )

    transaction.on_commit(send)
