"""Celery tasks: sending to the platforms (see tasks/__init__.py).

Not tenant_tasks: a send waits on a platform API and must not hold a
transaction (and its locks) open meanwhile. The service sets the account's
context for each short step itself, from the id given by the code that
enqueued it (never from a client).
"""

from __future__ import annotations

from celery import shared_task

__all__ = ["message_send", "sends_sweep", "tokens_refresh"]


@shared_task(queue="default", bind=True)
def message_send(self, *, account_id: str, message_id: str) -> None:
    from channels_bot.services.delivery import message_deliver

    message_deliver(account_id=account_id, message_id=message_id, task=self)


@shared_task(queue="default")
def tokens_refresh() -> dict:
    """Beat: refresh the platform tokens that expire soon (Instagram Login, X, LinkedIn);
    a refresh the platform refuses marks its channel "needs reconnecting"."""
    from channels_bot.services.connect import tokens_refresh as refresh

    report = refresh()
    return {"refreshed": report.refreshed, "failed": report.failed, "needs_reconnect": report.needs_reconnect}


@shared_task(queue="default")
def sends_sweep() -> int:
    """Enqueue again the sends of outbound messages whose task was lost (every few minutes)."""
    from channels_bot.services.sweeps import pending_sends

    found = pending_sends()
    for account_id, message_id in found:
        message_send.delay(account_id=account_id, message_id=message_id)
    return len(found)
