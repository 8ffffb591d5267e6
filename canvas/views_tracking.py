"""Tracking endpoints (public, anonymous) and the campaign analytics page.

Public, under /t/ (canvas/tracking/urls.py), CSRF-exempt, no session needed:

- POST /t/e/      the tracker's collector: 202 for every event, kept or dropped
                  (malformed, oversized, bot, unknown campaign); 429 for a flood
                  from one address; never a 500 (an unexpected error is logged
                  and answered 202: a tracker cannot do anything with it);
- POST /t/f/      a hosted form's lead (canvas/tracking/leads.py), by the same rules;
- GET  /t/o/<token>/  the email open pixel (a GIF whatever the token says);
- GET  /t/l/<token>/  the email click redirect (302 to the signed URL; 404 for a
                  token that is not ours, so it is no open redirect).

Signed in: /canvas/campaigns/<pk>/analytics/ (views, visitors, conversion rate,
revenue, by day and by component, and an A/B comparison of two components).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from accounts.tenancy.views import TenantViewMixin
from aiplatform.api.errors import error_body
from aiplatform.charts import Series, bar_chart, line_chart
from aiplatform.errors import InvalidInput, NotFound

from .tracking import analytics
from .tracking.collect import Visit, email_event_collect, page_event_collect
from .tracking.email import PIXEL, read_token
from .tracking.leads import lead_collect

log = logging.getLogger("canvas.tracking")

CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "POST, OPTIONS",
        "Access-Control-Allow-Headers": "Content-Type", "Access-Control-Max-Age": "86400"}  # fmt: skip


def _read_capped(request: HttpRequest, limit: int) -> bytes | None:
    """The body, or None when it is over `limit` (judged by Content-Length before
    reading, then by reading at most one byte more)."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return None
    data = request.read(limit + 1)
    return None if len(data) > limit else data


def _accepted() -> HttpResponse:
    response = HttpResponse(b"ok", status=202, content_type="text/plain")
    for key, value in CORS.items():
        response[key] = value
    return response


def _public_post(request: HttpRequest, handle, *, what: str) -> HttpResponse:
    """The collector's rules for a public POST endpoint of the tracker: CORS
    preflight, POST only, the body capped, 202 whatever `handle(body=, visit=)`
    decided, 429 for a flood, and an unexpected error logged and answered 202."""
    if request.method == "OPTIONS":
        response = HttpResponse(status=204)
        for key, value in CORS.items():
            response[key] = value
        return response
    if request.method != "POST":
        response = JsonResponse(error_body("method_not_allowed", f"Send {what} with POST."), status=405)
        response["Allow"] = "POST, OPTIONS"
        return response
    try:
        body = _read_capped(request, settings.TRACKING_MAX_BODY_BYTES)
        outcome = handle(body=body, visit=Visit.from_request(request))
    except Exception:  # Redis down, a bug: the event is lost, the page is not told
        log.exception("tracking: %s dropped on an error", what)
        return _accepted()
    if outcome == "rate_limited":
        response = JsonResponse(error_body("rate_limited", f"Too many {what} from this address; slow down."),
                                status=429)  # fmt: skip
        response["Retry-After"] = "60"
        for key, value in CORS.items():
            response[key] = value
        return response
    log.debug("tracking: %s %s", what, outcome)
    return _accepted()


@csrf_exempt
def collect(request: HttpRequest) -> HttpResponse:
    return _public_post(request, page_event_collect, what="events")


@csrf_exempt
def lead(request: HttpRequest) -> HttpResponse:
    """A hosted form's lead, passed on to the account's lead-taking integrations."""
    return _public_post(request, lead_collect, what="leads")


def _email_event(request: HttpRequest, token: str, kind: str):
    link = read_token(token)
    if link is None:
        return None
    try:
        email_event_collect(
            kind=kind, campaign_id=link.campaign_id, component_id=link.component_id, recipient=link.recipient,
            url=link.url, visit=Visit.from_request(request),
        )  # fmt: skip
    except Exception:
        log.exception("tracking: email event dropped on an error")
    return link


@never_cache
def email_open(request: HttpRequest, token: str) -> HttpResponse:
    _email_event(request, token, "email_open")
    return HttpResponse(PIXEL, content_type="image/gif")


@never_cache
def email_click(request: HttpRequest, token: str) -> HttpResponse:
    link = _email_event(request, token, "email_click")
    if link is None or not link.url:
        raise Http404(_("This link is not valid."))
    return HttpResponseRedirect(link.url)


# --- the analytics page ------------------------------------------------------------------

DAY_CHOICES = (7, 30, 90)


def _days(raw: str | None) -> int:
    try:
        days = int(raw or 30)
    except ValueError:
        return 30
    return days if 1 <= days <= analytics.MAX_DAYS else 30


class CampaignAnalyticsView(TenantViewMixin, View):
    def get(self, request, pk):
        campaign = analytics.campaign_for_account(self.account, pk)  # NotFound: the 404 page (TenantViewMixin)
        days = _days(request.GET.get("days"))
        figures = analytics.campaign_analytics(self.account, campaign, days=days)
        series = analytics.by_day_series(figures)
        pair = analytics.default_ab_pair(figures.by_component)
        a_id = request.GET.get("a") or (pair[0] if pair else "")
        b_id = request.GET.get("b") or (pair[1] if pair else "")
        ab, ab_error = None, ""
        if a_id and b_id:
            try:
                ab = analytics.ab_compare(self.account, campaign, a_id=a_id, b_id=b_id, days=days)
            except (NotFound, InvalidInput) as exc:
                ab_error = exc.message
        named = figures.by_component
        context = {
            "campaign": campaign,
            "days": days,
            "day_choices": DAY_CHOICES,
            "figures": figures,
            "conversion_rate_pct": round(100 * figures.conversion_rate, 2),
            "traffic_chart": line_chart(
                title=_("Views and visitors per day, last %(n)s days") % {"n": days},
                desc=_("Page views and unique visitors each day (UTC)."),
                labels=series["labels"],
                series=[Series(_("Views"), series["views"]), Series(_("Visitors"), series["visitors"])],
                y_label=_("Count"),
                chart_id="campaign-traffic",
            ),
            "conversion_chart": line_chart(
                title=_("Conversions and revenue per day, last %(n)s days") % {"n": days},
                desc=_("Conversions each day and the value they brought."),
                labels=series["labels"],
                series=[
                    Series(_("Conversions"), series["conversions"]),
                    Series(_("Revenue"), series["revenue"], axis="right"),
                ],
                y_label=_("Conversions"),
                chart_id="campaign-conversions",
            ),
            "component_views_chart": bar_chart(
                title=_("Views per component, last %(n)s days") % {"n": days},
                labels=[f"{c.name} v{c.version}" for c in named],
                values=[c.views for c in named],
                value_label=_("Views"),
                chart_id="component-views",
            ),
            "component_conversions_chart": bar_chart(
                title=_("Clicks and conversions per component, last %(n)s days") % {"n": days},
                labels=[f"{c.name} v{c.version} · {label}" for c in named for label in (_("clicks"), _("conv."))],
                values=[v for c in named for v in (c.clicks, c.conversions)],
                value_label=_("Events"),
                chart_id="component-actions",
            ),
            "components": named,
            "ab": ab,
            "ab_error": ab_error,
            "ab_rates": (round(100 * ab.test.a.rate, 2), round(100 * ab.test.b.rate, 2)) if ab else None,
            "ab_a": str(a_id),
            "ab_b": str(b_id),
        }
        return render(request, "canvas/tracking/analytics.html", context)
