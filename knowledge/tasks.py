"""Celery tasks of the knowledge app. They take ids, and return quietly when the
object is gone or the run is no longer current."""

from __future__ import annotations

from celery import shared_task

BUSY_RETRY_SECONDS = 5
BUSY_RETRIES = 120  # ten minutes of waiting for another worker to let go
PROVIDER_RETRIES = 3


@shared_task(bind=True, queue="default", acks_late=True, reject_on_worker_lost=True, max_retries=None)
def document_ingest(self, *, account_id: str, document_id: str, run_id: str) -> str:
    """Not a tenant_task: the pipeline commits each step in the account's context
    itself, so that progress shows while it runs."""
    from knowledge.services.ingestion import Busy, ProviderTrouble
    from knowledge.services.ingestion import document_ingest as run

    try:
        return run(
            account_id=account_id, document_id=document_id, run_id=run_id,
            last_attempt=self.request.retries >= PROVIDER_RETRIES,
        )  # fmt: skip
    except Busy:
        if self.request.retries >= BUSY_RETRIES:
            return "busy"  # the sweep re-queues it if its holder died
        raise self.retry(countdown=BUSY_RETRY_SECONDS)
    except ProviderTrouble:
        raise self.retry(countdown=30 * 2**self.request.retries)


@shared_task(queue="default")
def ingestion_sweep() -> int:
    from knowledge.services.ingestion import ingestion_sweep as run

    return run()
