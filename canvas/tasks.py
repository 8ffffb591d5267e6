"""Celery tasks of the canvas studio.

- job_run: runs one processing-queue job (any store, any registered type); the
  row is the source of truth, the task only carries it (canvas/services/queue.py)
- jobs_sweep: beat; repairs jobs whose worker died and sends due jobs again
- piece_describe: a post added by URL described by its platform's oEmbed

Not tenant_tasks: a job's handler waits on providers and must not hold a
transaction open; the queue sets the account's context for each short step.
"""

from __future__ import annotations

from celery import shared_task

__all__ = ["job_run", "jobs_sweep", "content_expire", "creators_scrape_due", "creator_scrape", "piece_describe"]


@shared_task(queue="default", bind=True, acks_late=True, reject_on_worker_lost=True)
def job_run(self, *, store: str, job_id: str, account_id: str) -> str:
    from canvas.services.queue import job_execute

    return job_execute(store=store, job_id=job_id, account_id=account_id, task_id=self.request.id or "")


@shared_task(queue="default")
def jobs_sweep() -> dict:
    from canvas.services.queue import _STORES
    from canvas.services.queue import jobs_sweep as sweep

    return {name: sweep(store=name) for name in list(_STORES)}


@shared_task(queue="default")
def content_expire() -> int:
    """Delete uploaded files past their storage expiry (hourly)."""
    from canvas.services.content import content_expire as expire

    return expire()


@shared_task(queue="default")
def creators_scrape_due() -> int:
    """Send one scrape task per followed creator that is due (beat)."""
    from canvas.services.scraping import creators_due

    due = creators_due()
    for creator_id in due:
        creator_scrape.delay(creator_id=creator_id)
    return len(due)


@shared_task(queue="default", acks_late=True)
def creator_scrape(*, creator_id: str) -> dict:
    """Read one creator's source into the inboxes of the accounts that follow it."""
    from canvas.services.scraping import creator_scrape as scrape

    return scrape(creator_id)


@shared_task(queue="default")
def generated_media_expire() -> int:
    """Beat: delete the files of generated media past their storage expiry (the rows stay)."""
    from canvas.services.media import generated_media_expire as expire

    return expire()


@shared_task(queue="default", acks_late=True)
def piece_describe(*, account_id: str, piece_id: str, membership_id: str | None = None) -> str:
    """A post added by URL gets its title, author and thumbnail from oEmbed."""
    from .services.content import piece_describe as describe

    return describe(account_id=account_id, piece_id=piece_id, membership_id=membership_id)
