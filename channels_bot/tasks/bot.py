"""Celery tasks: the bot's answers (see tasks/__init__.py).

Not a tenant_task: the answer waits on the model, which must not hold a
transaction open; the service sets the account's context for each short step.
"""

from __future__ import annotations

from celery import shared_task

__all__ = ["answer_message", "answers_sweep"]


ANSWER_MAX_RETRIES = 3  # provider errors: retried with backoff, then handed to a human


@shared_task(queue="default", bind=True, max_retries=ANSWER_MAX_RETRIES)
def answer_message(self, *, account_id: str, message_id: str) -> None:
    """Answer one stored customer message (idempotent: a second run finds the answer).
    A provider error retries later (nothing was stored or charged); the last try hands over."""
    from channels_bot.services.bot import BotAnswerRetry, bot_answer

    retries_left = 0 if self.request.is_eager else max(0, self.max_retries - self.request.retries)
    try:
        bot_answer(account_id=account_id, message_id=message_id, retries_left=retries_left)
    except BotAnswerRetry as exc:
        raise self.retry(exc=exc, countdown=exc.countdown * 2**self.request.retries) from exc


@shared_task(queue="default")
def answers_sweep() -> int:
    """Enqueue again the answers of customer messages whose task was lost (every minute)."""
    from channels_bot.services.sweeps import unanswered_messages

    found = unanswered_messages()
    for account_id, message_id in found:
        answer_message.delay(account_id=account_id, message_id=message_id)
    return len(found)
