"""Celery tasks: the bot's answers (see tasks/__init__.py).

Not a tenant_task: the answer waits on the model, which must not hold a
transaction open; the service sets the account's context for each short step.
"""

from __future__ import annotations

from celery import shared_task

__all__ = ["answer_message"]


@shared_task(queue="default")
def answer_message(*, account_id: str, message_id: str) -> None:
    """Answer one stored customer message (idempotent: a second run finds the answer)."""
    from channels_bot.services.bot import bot_answer

    bot_answer(account_id=account_id, message_id=message_id)
