"""Reads behind the campaign analytics page and API.

Days are UTC. A visitor is a (day, visitor hash) pair: the hash's salt changes
every day, so the same person on two days counts twice, by design (no
identifier outlives a day). Conversion rate = visitors who converted / visitors.
Every figure comes from `campaign_events` and `conversions` in the period; the
lifetime counters on the campaign and its components are shown beside them.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.utils.translation import gettext

from aiplatform.errors import InvalidInput, NotFound

from .abtest import Arm, ZTest, two_proportion_z_test

MAX_DAYS = 366


@dataclass(frozen=True)
class DayFigures:
    day: date
    views: int
    visitors: int
    conversions: int
    converted_visitors: int
    revenue: Decimal


@dataclass(frozen=True)
class ComponentFigures:
    component_id: str
    name: str
    version: int
    component_type: str
    parent_id: str | None
    views: int
    clicks: int
    conversions: int
    revenue: Decimal


@dataclass(frozen=True)
class CampaignAnalytics:
    days: int
    since: date
    views: int
    visitors: int
    conversions: int
    converted_visitors: int
    conversion_rate: float
    revenue: dict[str, Decimal]  # per currency, largest first
    by_day: list[DayFigures]
    by_component: list[ComponentFigures]


def _since(days: int) -> tuple[date, datetime]:
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(
            gettext("days must be between 1 and %(MAX_DAYS)s.") % {"MAX_DAYS": MAX_DAYS},
            fields={"days": ["Out of range."]},
        )
    first = datetime.now(UTC).date() - timedelta(days=days - 1)
    return first, datetime.combine(first, time.min, tzinfo=UTC)


def campaign_for_account(account, pk):
    """The account's campaign `pk`; NotFound for another account's or a missing one."""
    from canvas.models.campaigns import Campaign

    campaign = Campaign.objects.filter(account=account, pk=pk).first()
    if campaign is None:
        raise NotFound(gettext("No such campaign."))
    return campaign


def campaign_analytics(account, campaign, *, days: int = 30) -> CampaignAnalytics:
    from canvas.models.campaigns import CampaignComponent
    from canvas.models.tracking import CampaignEvent, Conversion

    first, since = _since(days)
    events = CampaignEvent.objects.filter(account=account, campaign=campaign, created_at__gte=since)
    conversions = Conversion.objects.filter(account=account, campaign=campaign, created_at__gte=since)
    day = TruncDate("created_at", tzinfo=UTC)
    views = {
        r["day"]: r
        for r in events.filter(event_type="view")
        .annotate(day=day).values("day").annotate(n=Count("id"), visitors=Count("session_id", distinct=True))
    }  # fmt: skip
    converted = {
        r["day"]: r
        for r in conversions.annotate(day=day)
        .values("day")
        .annotate(n=Count("id"), visitors=Count("session_id", distinct=True), revenue=Sum("value"))
    }
    by_day = []
    for i in range(days):
        d = first + timedelta(days=i)
        v, c = views.get(d, {}), converted.get(d, {})
        by_day.append(DayFigures(d, v.get("n", 0), v.get("visitors", 0), c.get("n", 0), c.get("visitors", 0),
                                 c.get("revenue") or Decimal("0")))  # fmt: skip
    revenue = {
        r["currency"] or "": r["total"]
        for r in conversions.exclude(value=0).values("currency").annotate(total=Sum("value")).order_by("-total")
    }

    component_views: dict[str, int] = {}
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT c.value, count(*) FROM {CampaignEvent._meta.db_table} e, "
            "jsonb_array_elements_text(e.event_data -> 'components') c "
            "WHERE e.account_id = %s AND e.campaign_id = %s AND e.event_type = 'view' AND e.created_at >= %s "
            "GROUP BY c.value",
            [account.pk, campaign.pk, since],
        )
        component_views = {str(cid): n for cid, n in cur.fetchall()}
    clicks = dict(
        events.filter(event_type="click", component__isnull=False)
        .values_list("component_id").annotate(n=Count("id")).values_list("component_id", "n")
    )  # fmt: skip
    conv_by_component = {
        r["component_id"]: r
        for r in conversions.filter(component__isnull=False)
        .values("component_id").annotate(n=Count("id"), revenue=Sum("value"))
    }  # fmt: skip
    components = []
    for comp in CampaignComponent.objects.filter(account=account, campaign=campaign).order_by("sort_order", "version"):
        conv = conv_by_component.get(comp.pk, {})
        components.append(
            ComponentFigures(
                component_id=str(comp.pk),
                name=comp.name,
                version=comp.version,
                component_type=comp.component_type,
                parent_id=str(comp.parent_component_id or "") or None,
                views=component_views.get(str(comp.pk), 0),
                clicks=clicks.get(comp.pk, 0),
                conversions=conv.get("n", 0),
                revenue=conv.get("revenue") or Decimal("0"),
            )  # fmt: skip
        )
    total_visitors = sum(d.visitors for d in by_day)
    total_converted = sum(d.converted_visitors for d in by_day)
    return CampaignAnalytics(
        days=days, since=first, views=sum(d.views for d in by_day), visitors=total_visitors,
        conversions=sum(d.conversions for d in by_day), converted_visitors=total_converted,
        conversion_rate=(total_converted / total_visitors) if total_visitors else 0.0,
        revenue=revenue, by_day=by_day, by_component=components,
    )  # fmt: skip


@dataclass(frozen=True)
class ABResult:
    a_id: str
    b_id: str
    a_name: str
    b_name: str
    both: int  # visitors who saw both versions: left out of either group
    test: ZTest


def ab_compare(account, campaign, *, a_id, b_id, days: int = 30, alpha: float = 0.05) -> ABResult:
    """Visitors shown version A (and not B) against visitors shown B (and not A),
    and how many of each converted on the campaign that day."""
    from canvas.models.campaigns import CampaignComponent
    from canvas.models.tracking import CampaignEvent, Conversion

    try:
        a_id, b_id = uuid.UUID(str(a_id)), uuid.UUID(str(b_id))
    except ValueError:
        raise InvalidInput(gettext("a and b must be component ids."), fields={"a": ["Not an id."]}) from None
    if a_id == b_id:
        raise InvalidInput(gettext("Pick two different components."), fields={"b": ["Same as a."]})
    found = {
        str(c.pk): c for c in CampaignComponent.objects.filter(account=account, campaign=campaign, pk__in=[a_id, b_id])
    }
    for key, value in (("a", a_id), ("b", b_id)):
        if str(value) not in found:
            raise NotFound(gettext("Component %(key)s is not part of this campaign.") % {"key": key})
    _, since = _since(days)
    events, conversions = CampaignEvent._meta.db_table, Conversion._meta.db_table
    a, b = str(a_id), str(b_id)
    sql = f"""
WITH exposure AS (
    SELECT e.session_id, (e.created_at AT TIME ZONE 'UTC')::date AS day,
           bool_or(e.event_data -> 'components' ? %s) AS saw_a, bool_or(e.event_data -> 'components' ? %s) AS saw_b
    FROM {events} e
    WHERE e.account_id = %s AND e.campaign_id = %s AND e.event_type = 'view' AND e.created_at >= %s
      AND (e.event_data -> 'components' ? %s OR e.event_data -> 'components' ? %s)
    GROUP BY 1, 2
), converted AS (
    SELECT DISTINCT session_id, (created_at AT TIME ZONE 'UTC')::date AS day
    FROM {conversions} WHERE account_id = %s AND campaign_id = %s AND created_at >= %s
)
SELECT count(*) FILTER (WHERE saw_a AND NOT saw_b), count(c.session_id) FILTER (WHERE saw_a AND NOT saw_b),
       count(*) FILTER (WHERE saw_b AND NOT saw_a), count(c.session_id) FILTER (WHERE saw_b AND NOT saw_a),
       count(*) FILTER (WHERE saw_a AND saw_b)
FROM exposure x LEFT JOIN converted c ON c.session_id = x.session_id AND c.day = x.day
"""
    with connection.cursor() as cur:
        cur.execute(sql, [a, b, account.pk, campaign.pk, since, a, b, account.pk, campaign.pk, since])
        na, ca, nb, cb, both = cur.fetchone()
    return ABResult(
        a_id=a, b_id=b, a_name=f"{found[a].name} v{found[a].version}", b_name=f"{found[b].name} v{found[b].version}",
        both=both, test=two_proportion_z_test(Arm(na, ca), Arm(nb, cb), alpha=alpha),
    )  # fmt: skip


def default_ab_pair(components: list[ComponentFigures]) -> tuple[str, str] | None:
    """The newest version that has a parent, against that parent (both on the campaign)."""
    ids = {c.component_id for c in components}
    for comp in sorted(components, key=lambda c: -c.version):
        if comp.parent_id and comp.parent_id in ids:
            return comp.parent_id, comp.component_id
    return None


def by_day_series(figures: CampaignAnalytics) -> dict[str, list]:
    out: dict[str, list] = defaultdict(list)
    for d in figures.by_day:
        out["labels"].append(d.day.isoformat())
        out["views"].append(d.views)
        out["visitors"].append(d.visitors)
        out["conversions"].append(d.conversions)
        out["revenue"].append(d.revenue)
    return out
