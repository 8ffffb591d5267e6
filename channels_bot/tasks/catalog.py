"""Celery tasks: the catalog's vectors (see tasks/__init__.py).

Plain shared_tasks: embedding waits on the model, which must not hold a
transaction open; the service sets the account's context for each short step,
from the id the enqueuing code gave (never a client's).
"""

from __future__ import annotations

from celery import shared_task

__all__ = ["products_embed", "products_embed_sweep"]

EMBED_MAX_RETRIES = 3


@shared_task(queue="default", bind=True, max_retries=EMBED_MAX_RETRIES, acks_late=True)
def products_embed(self, *, account_id: str, product_ids: list[str]) -> int:
    """Embed these products where their vector is missing or stale (idempotent:
    a second run stores nothing). A provider error retries with backoff; after the
    last try the beat sweep finds the products again."""
    from aiplatform.ai.errors import ProviderError
    from channels_bot.services.products import products_embed as run

    try:
        return run(account_id=account_id, product_ids=product_ids)
    except ProviderError as exc:
        if self.request.is_eager or self.request.retries >= self.max_retries:
            return 0
        raise self.retry(exc=exc, countdown=10 * 2**self.request.retries) from exc


@shared_task(queue="default")
def products_embed_sweep() -> int:
    """Beat: enqueue the products whose vector is missing or not of their current
    text and model (admin edits, a lost task, a new default embedding model)."""
    from channels_bot.services.products import EMBED_TASK_BATCH, products_embedding_stale

    found = products_embedding_stale()
    for account_id, ids in found:
        for at in range(0, len(ids), EMBED_TASK_BATCH):
            products_embed.delay(account_id=account_id, product_ids=ids[at : at + EMBED_TASK_BATCH])
    return sum(len(ids) for _account, ids in found)
