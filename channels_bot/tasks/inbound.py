"""Celery tasks: inbound (see tasks/__init__.py).

Plain shared_tasks: `delivery_process` finds its tenant in the delivery (the
service sets each channel's account context itself), and the profile fetch
waits on a platform API, which must not hold a transaction.
"""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

__all__ = ["customer_profile_fetch", "deliveries_sweep", "delivery_process"]

STUCK_AFTER = timedelta(minutes=1)
SWEEP_BATCH = 500


@shared_task(queue="default", acks_late=True, reject_on_worker_lost=True)
def delivery_process(*, delivery_id: str) -> str | None:
    """Process one stored webhook delivery (idempotent: a second run finds it done)."""
    from channels_bot.services.inbound import delivery_process as run

    outcome = run(delivery_id=delivery_id)
    return outcome.status if outcome else None


@shared_task(queue="default")
def deliveries_sweep() -> int:
    """Re-enqueue deliveries still `received` a minute after they arrived (their
    task was lost: a killed worker, a broker outage at receive time)."""
    from accounts.tenancy.context import rls_bypass
    from channels_bot.models import WebhookDelivery

    with rls_bypass("webhook: sweep deliveries stuck before processing"):
        stuck = list(
            WebhookDelivery.objects.filter(
                status=WebhookDelivery.Status.RECEIVED, received_at__lt=timezone.now() - STUCK_AFTER
            )
            .order_by("received_at")
            .values_list("pk", flat=True)[:SWEEP_BATCH]
        )
    for pk in stuck:
        delivery_process.delay(delivery_id=str(pk))
    return len(stuck)


@shared_task(queue="default")
def customer_profile_fetch(*, account_id: str, customer_id: str) -> bool:
    from channels_bot.services.customers import customer_profile_fetch as run

    return run(account_id=account_id, customer_id=customer_id)
