from __future__ import annotations

from celery import shared_task


@shared_task(queue="default")
def orphans_close() -> int:
    """Close answers left streaming by a process that went away (every minute)."""
    from chats.services.orphans import orphans_close as run

    return run()
