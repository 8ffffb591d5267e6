"""Celery tasks of campaign tracking (registered through CELERY_IMPORTS).

- events_flush: writes the queued events in batches (writer.py). The collector
  schedules it when events arrive (at most one pending at a time, see
  stream.enqueue), beat every 15 s as a safety net. Idempotent: a retried batch
  writes nothing twice.
"""

from __future__ import annotations

from celery import shared_task

__all__ = ["events_flush"]


@shared_task(queue="default", ignore_result=True)
def events_flush() -> dict:
    from django.conf import settings

    from .writer import events_flush as flush

    result = flush()
    if result.backlog and result.read:  # more than one run's budget, or some came after its last read
        events_flush.apply_async(countdown=settings.TRACKING_FLUSH_DELAY_SECONDS)
    return {"batches": result.batches, "read": result.read, "events": result.written.events,
            "conversions": result.written.conversions, "backlog": result.backlog}  # fmt: skip
