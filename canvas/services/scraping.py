"""Scraping the new posts of followed creators into each following account's inbox.

Beat (`creators_scrape_due`, every CANVAS_SCRAPE_SWEEP_SECONDS) sends one task per
creator that is active, followed by at least one account, and due: never scraped,
or scraped more than its `scrape_frequency_hours` ago. The task (`creator_scrape`)
reads the creator's source through its adapter (canvas/sources/, no transaction
open while the network answers), then, for every account following it, adds the
posts it does not have yet as content pieces without a project (the account's
inbox), each account in its own tenant context; and records `last_scraped_at`
(also when the source failed, with `metadata.scrape_error`, so a broken source is
retried at its frequency and not every sweep).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import DurationField, ExpressionWrapper, F, Q
from django.utils import timezone

from accounts.tenancy.context import account_context, rls_bypass
from canvas.models import AccountFollowedCreator, ContentPiece, ContentType, Creator
from canvas.models.common import WorkStatus
from canvas.sources import SourceError, adapter_for

log = logging.getLogger("canvas.scraping")


def creators_due(now=None) -> list[str]:
    now = now or timezone.now()
    with rls_bypass("creator scraping: which creators some account follows"):
        followed = AccountFollowedCreator.objects.filter(is_active=True).values("creator_id")
        due = (
            Creator.objects.filter(is_active=True, pk__in=followed)
            .annotate(
                every=ExpressionWrapper(F("scrape_frequency_hours") * timedelta(hours=1), output_field=DurationField())
            )  # fmt: skip
            .filter(Q(last_scraped_at__isnull=True) | Q(last_scraped_at__lte=now - F("every")))
            .order_by(F("last_scraped_at").asc(nulls_first=True))
            .values_list("pk", flat=True)[: settings.CANVAS_SCRAPE_BATCH]
        )
        return [str(pk) for pk in due]


def creator_scrape(creator_id) -> dict:
    """Read one creator's source and fill the inboxes of the accounts following it."""
    creator = Creator.objects.filter(pk=creator_id, is_active=True).first()
    if creator is None:
        return {"status": "missing"}
    adapter = adapter_for(creator)
    now = timezone.now()
    try:
        items = adapter.fetch(creator, limit=settings.CANVAS_SCRAPE_MAX_ITEMS)
    except SourceError as exc:
        meta = {**(creator.metadata or {}), "scrape_error": exc.message, "scrape_source": adapter.name}
        Creator.objects.filter(pk=creator.pk).update(last_scraped_at=now, metadata=meta, updated_at=now)
        log.info("creator %s: source failed: %s", creator.pk, exc.message)
        return {"status": "source_error", "error": exc.message}
    with rls_bypass("creator scraping: the accounts following a creator"):
        accounts = list(
            AccountFollowedCreator.objects.filter(creator=creator, is_active=True).values_list("account_id", flat=True)
        )
    added = 0
    for account_id in accounts:
        added += _deliver(account_id, creator, items)
    meta = {k: v for k, v in (creator.metadata or {}).items() if k != "scrape_error"}
    meta.update(scrape_source=adapter.name, last_scrape_items=len(items))
    Creator.objects.filter(pk=creator.pk).update(last_scraped_at=now, metadata=meta, updated_at=now)
    return {"status": "ok", "items": len(items), "accounts": len(accounts), "added": added}


def _deliver(account_id, creator: Creator, items) -> int:
    from billing.services.usage import count

    with account_context(account_id):
        known = set(
            ContentPiece.objects.filter(account_id=account_id, creator=creator, source_url__in=[i.url for i in items])
            .values_list("source_url", flat=True)
        )  # fmt: skip
        fresh = [i for i in items if i.url not in known]
        for item in fresh:
            ContentPiece.objects.create(
                account_id=account_id, project=None, creator=creator, source_url=item.url, platform=creator.platform,
                content_type=item.content_type if item.content_type in ContentType.values else ContentType.VIDEO,
                title=item.title[:500], description=item.description, thumbnail_url=item.thumbnail_url,
                processing_status=WorkStatus.COMPLETED,
                metadata={"scraped": True, "external_id": item.external_id,
                          "published_at": item.published_at.isoformat() if item.published_at else None,
                          **item.metadata},
            )  # fmt: skip
        if fresh:
            count(account_id, content_pieces_added=len(fresh))
    return len(fresh)
