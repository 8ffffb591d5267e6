"""The batch writer: queued events into `campaign_events` and `conversions`, and
the campaign and component counters, a batch at a time.

One transaction per batch (one commit); per account of the batch, under that
account's row-level security context:

1. COPY the batch's lines (formatted by the collector, copyline.py) into a
   session-temporary staging table (no WAL, no indexes);
2. one statement: INSERT the events (`ON CONFLICT (id) DO NOTHING`: a retried
   batch inserts nothing twice; rows whose campaign is gone are skipped, a gone
   component becomes NULL), INSERT a conversion for each new conversion event,
   and add what was really inserted to the counters: campaign views,
   conversions and revenue; component views (each component on a viewed page),
   clicks, conversions and engagement score (clicks + conversions per 100
   views, at most 100).

An advisory lock per account serialises two writers on the same account's
counters (taken in sorted account order, so writers cannot deadlock). Revenue adds
conversion values whatever their currency (a campaign sells in one); the
analytics page splits revenue by currency from the conversions themselves.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction

from accounts.tenancy.context import account_context

from . import stream
from .copyline import EVENT_COLUMNS, STAGING_COLUMNS, encode_line

log = logging.getLogger("canvas.tracking")

STAGING = "canvas_tracking_staging"

_CREATE_STAGING = f"""
CREATE TEMP TABLE IF NOT EXISTS {STAGING} (
    id uuid, account_id uuid, campaign_id uuid, component_id uuid, event_type text, event_data jsonb,
    session_id text, user_agent text, ip_address inet, referrer text, url text, utm_source text, utm_medium text,
    utm_campaign text, click_id text, country text, region text, city text, created_at timestamptz,
    components uuid[], conv_type text, conv_value numeric(12, 2), conv_currency text, conv_source text,
    conv_medium text
) ON COMMIT DELETE ROWS
"""


def _tables() -> dict[str, str]:
    from canvas.models.campaigns import Campaign, CampaignComponent
    from canvas.models.tracking import CampaignEvent, Conversion

    return {
        "events": CampaignEvent._meta.db_table,
        "conversions": Conversion._meta.db_table,
        "campaigns": Campaign._meta.db_table,
        "components": CampaignComponent._meta.db_table,
    }


def _write_sql() -> str:
    t = _tables()
    cols = ", ".join(EVENT_COLUMNS)
    picked = ", ".join("cc.id" if c == "component_id" else f"s.{c}" for c in EVENT_COLUMNS)
    return f"""
WITH ins AS (
    INSERT INTO {t["events"]} ({cols})
    SELECT {picked}
    FROM {STAGING} s
    JOIN {t["campaigns"]} c ON c.id = s.campaign_id AND c.account_id = s.account_id
    LEFT JOIN {t["components"]} cc ON cc.id = s.component_id AND cc.campaign_id = s.campaign_id
    ON CONFLICT (id) DO NOTHING
    RETURNING id, campaign_id, component_id, event_type
), conv AS (
    INSERT INTO {t["conversions"]}
        (id, account_id, campaign_id, component_id, event_id, conversion_type, value, currency, session_id,
         source, medium, created_at)
    SELECT s.id, s.account_id, s.campaign_id, ins.component_id, s.id, s.conv_type, s.conv_value,
           s.conv_currency, s.session_id, s.conv_source, s.conv_medium, s.created_at
    FROM ins JOIN {STAGING} s ON s.id = ins.id
    WHERE ins.event_type = 'conversion'
    ON CONFLICT DO NOTHING
    RETURNING campaign_id, component_id, value
), campaign_delta AS (
    SELECT campaign_id, sum(views) AS views, sum(convs) AS convs, sum(revenue) AS revenue FROM (
        SELECT campaign_id, count(*) AS views, 0 AS convs, 0::numeric AS revenue
        FROM ins WHERE event_type = 'view' GROUP BY campaign_id
        UNION ALL
        SELECT campaign_id, 0, count(*), sum(value) FROM conv GROUP BY campaign_id
    ) d GROUP BY campaign_id
), campaigns_bumped AS (
    UPDATE {t["campaigns"]} c
    SET views = c.views + d.views, conversions = c.conversions + d.convs,
        revenue_generated = LEAST(c.revenue_generated + d.revenue, 9999999999.99)
    FROM campaign_delta d WHERE c.id = d.campaign_id
    RETURNING c.id
), component_delta AS (
    SELECT component_id, sum(views) AS views, sum(clicks) AS clicks, sum(convs) AS convs FROM (
        SELECT unnest(s.components) AS component_id, 1 AS views, 0 AS clicks, 0 AS convs
        FROM ins JOIN {STAGING} s ON s.id = ins.id WHERE ins.event_type = 'view'
        UNION ALL
        SELECT component_id, 0, 1, 0 FROM ins WHERE event_type = 'click' AND component_id IS NOT NULL
        UNION ALL
        SELECT component_id, 0, 0, 1 FROM conv WHERE component_id IS NOT NULL
    ) d GROUP BY component_id
), components_bumped AS (
    UPDATE {t["components"]} cc
    SET views = cc.views + d.views, clicks = cc.clicks + d.clicks, conversions = cc.conversions + d.convs,
        engagement_score = LEAST(100, round(100.0 * (cc.clicks + d.clicks + cc.conversions + d.convs)
                                            / GREATEST(cc.views + d.views, 1), 2))
    FROM component_delta d WHERE cc.id = d.component_id
    RETURNING cc.id
)
SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM conv),
       (SELECT count(*) FROM campaigns_bumped), (SELECT count(*) FROM components_bumped)
"""


@dataclass(frozen=True)
class Written:
    events: int = 0
    conversions: int = 0
    campaigns: int = 0
    components: int = 0

    def __add__(self, other: Written) -> Written:
        return Written(*(a + b for a, b in zip(self.astuple(), other.astuple(), strict=True)))

    def astuple(self) -> tuple[int, int, int, int]:
        return (self.events, self.conversions, self.campaigns, self.components)


_sql_cache: list[str] = []


def _account_write(cur, account_id: str, lines: list[bytes]) -> Written:
    with account_context(account_id):
        cur.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"tracking:{account_id}"])
        with cur.copy(f"COPY {STAGING} ({', '.join(STAGING_COLUMNS)}) FROM STDIN") as copy:
            copy.write(b"".join(lines))
        cur.execute(_sql_cache[0])
        written = Written(*cur.fetchone())
        cur.execute(f"DELETE FROM {STAGING}")
    return written


def lines_write(lines) -> Written:
    """Write queued (account id, COPY line) pairs in one transaction (one commit per
    batch), each account's share under its own row-level security context; accounts
    in sorted order, so two writers take their advisory locks in the same order."""
    by_account: dict[str, list[bytes]] = defaultdict(list)
    for account_id, line in lines:
        by_account[account_id].append(line)
    if not by_account:
        return Written()
    if not _sql_cache:
        _sql_cache.append(_write_sql())
    total = Written()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(_CREATE_STAGING)
        cur.execute(f"DELETE FROM {STAGING}")  # ON COMMIT empties it, but a caller's transaction may be open
        for account_id in sorted(by_account):
            total += _account_write(cur, account_id, by_account[account_id])
    return total


def rows_write(rows) -> Written:
    """Write queued rows given as dicts (tests, tools): the collector's lines of them."""
    return lines_write((str(row["account_id"]), encode_line(row)) for row in rows)


@dataclass(frozen=True)
class FlushResult:
    batches: int
    read: int
    written: Written
    backlog: int


def events_flush(*, max_seconds: float | None = None, batch_size: int | None = None) -> FlushResult:
    """Write the stream's events until it is empty or the time budget is spent.

    A batch is acknowledged only after its rows are committed, so a writer that
    dies mid-batch leaves it pending for the next one (stream.py)."""
    budget = settings.TRACKING_FLUSH_MAX_SECONDS if max_seconds is None else max_seconds
    size = batch_size or settings.TRACKING_BATCH_SIZE
    deadline = time.monotonic() + budget
    batches = read = 0
    total = Written()
    while True:
        batch = stream.read_batch(size)
        if not len(batch):
            break
        total += lines_write(batch.lines)
        stream.ack(batch)
        batches += 1
        read += len(batch)
        if time.monotonic() >= deadline:
            break
    stream.flush_done()
    return FlushResult(batches=batches, read=read, written=total, backlog=stream.backlog())
