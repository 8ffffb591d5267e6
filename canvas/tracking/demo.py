"""Demo traffic for a launched campaign (idempotent): two weeks of visitors
through the collector's own row builder and the real batch writer, so the
analytics page has days, components and an A/B comparison to show.

`tracking_demo_seed(campaign)` does nothing when the campaign already has
events. Visitors are made-up documentation addresses (198.51.100.0/24,
203.0.113.0/24); if the campaign has a component with a parent version, the two
versions are shown to alternate visitors, the newer converting more often.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

from accounts.tenancy.context import account_context

from . import targets, writer
from .collect import Visit, page_row
from .payload import parse

USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
)
SOURCES = ({"source": "newsletter", "medium": "email"}, {"source": "google", "medium": "cpc"}, {})


def tracking_demo_seed(campaign, *, days: int = 14, seed: int = 14) -> int:
    """Write demo events for `campaign`; how many (0 when it already has some)."""
    from canvas.models.campaigns import CampaignComponent
    from canvas.models.tracking import CampaignEvent

    with account_context(campaign.account_id):
        if CampaignEvent.objects.filter(campaign=campaign).exists():
            return 0
        components = list(CampaignComponent.objects.filter(campaign=campaign).order_by("sort_order", "version"))
    if not components:
        return 0
    targets.targets_forget()
    target = targets.target_for(str(campaign.pk))
    if target is None:  # not launched
        return 0
    by_id = {c.pk: c for c in components}
    newer = next((c for c in reversed(components) if c.parent_component_id in by_id), None)
    variants = [by_id[newer.parent_component_id], newer] if newer else []
    shared = [c for c in components if c not in variants]
    form = next((c for c in components if c.component_type == "form"), components[-1])
    rng = random.Random(seed)
    rows, today = [], datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    n = 0
    for back in range(days - 1, -1, -1):
        day = today - timedelta(days=back)
        for _ in range(rng.randint(25, 60)):
            n += 1
            visit = Visit(
                ip=f"{'198.51.100' if n % 2 else '203.0.113'}.{n % 250 + 1}", user_agent=rng.choice(USER_AGENTS)
            )
            variant = variants[n % 2] if variants else None
            shown = [str(c.pk) for c in shared] + ([str(variant.pk)] if variant else [])
            utm = rng.choice(SOURCES)
            when = day + timedelta(minutes=rng.randint(0, 600))
            events = [{"t": "view", "cs": shown}]
            rate = 0.12 if variant is None or variant is variants[0] else 0.22
            if rng.random() < 0.4:
                events.append({"t": "click", "n": "cta", "cp": str((variant or components[0]).pk)})
            if rng.random() < rate:
                events.append({"t": "form_submit", "n": "quote", "cp": str(form.pk)})
                events.append({"t": "conversion", "n": "lead", "cp": str(form.pk), "v": 50, "cur": "USD"})
            for i, event in enumerate(events):
                body = {"c": str(campaign.pk), "u": f"https://demo.example/p/{campaign.slug}/", "utm": utm, **event}
                parsed = parse(json.dumps(body).encode())
                rows.append(page_row(parsed, target=target, visit=visit, now=when + timedelta(seconds=20 * i)))
    writer.rows_write(rows)
    return len(rows)
