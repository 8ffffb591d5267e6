"""REST API of campaign analytics (paths gathered by canvas/api_urls.py).

- GET /api/v1/campaigns/<id>/analytics/?days=30: views, unique visitors,
  conversions, conversion rate, revenue per currency, by day and by component;
- GET /api/v1/campaigns/<id>/analytics/ab/?a=<component>&b=<component>&days=30:
  visitors shown each version, conversions, the two-proportion z-test (z,
  p-value, 95 % interval of the difference) and the winner, named only when the
  difference is significant at `alpha` (default 0.05) with enough data.

Any member (viewer up) reads them. Another account's campaign or component is a
404; a malformed parameter a 400 naming it.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from accounts.tenancy.drf import TenantAPIView

from .tracking import analytics


class AnalyticsQuery(serializers.Serializer):
    days = serializers.IntegerField(required=False, default=30, min_value=1, max_value=analytics.MAX_DAYS)


class ABQuery(AnalyticsQuery):
    a = serializers.UUIDField()
    b = serializers.UUIDField()
    alpha = serializers.FloatField(required=False, default=0.05, min_value=0.001, max_value=0.2)


def _query(serializer_class, request) -> dict:
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data


def _money(value) -> str:
    return format(value, "f")


_DAYS = OpenApiParameter("days", OpenApiTypes.INT, description="Days back from today (UTC), 1-366; default 30.")


class CampaignAnalyticsAPIView(TenantAPIView):
    @extend_schema(parameters=[_DAYS], responses=OpenApiTypes.OBJECT, summary="A campaign's traffic and conversions")
    def get(self, request, pk):
        campaign = analytics.campaign_for_account(self.account, pk)
        days = _query(AnalyticsQuery, request)["days"]
        f = analytics.campaign_analytics(self.account, campaign, days=days)
        return Response({
            "campaign": str(campaign.pk), "days": f.days, "since": f.since.isoformat(),
            "views": f.views, "visitors": f.visitors, "conversions": f.conversions,
            "converted_visitors": f.converted_visitors, "conversion_rate": round(f.conversion_rate, 6),
            "revenue": [{"currency": c, "total": _money(v)} for c, v in f.revenue.items()],
            "lifetime": {"views": campaign.views, "conversions": campaign.conversions,
                         "revenue": _money(campaign.revenue_generated)},
            "by_day": [{"date": d.day.isoformat(), "views": d.views, "visitors": d.visitors,
                        "conversions": d.conversions, "converted_visitors": d.converted_visitors,
                        "revenue": _money(d.revenue)} for d in f.by_day],
            "by_component": [{"id": c.component_id, "name": c.name, "version": c.version, "type": c.component_type,
                              "parent": c.parent_id, "views": c.views, "clicks": c.clicks,
                              "conversions": c.conversions, "revenue": _money(c.revenue)} for c in f.by_component],
        })  # fmt: skip


class CampaignABAPIView(TenantAPIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("a", OpenApiTypes.UUID, required=True, description="Component shown to group A."),
            OpenApiParameter("b", OpenApiTypes.UUID, required=True, description="Component shown to group B."),
            OpenApiParameter("alpha", OpenApiTypes.FLOAT, description="Significance level; default 0.05."),
            _DAYS,
        ],
        responses=OpenApiTypes.OBJECT,
        summary="A/B comparison of two components of a campaign",
    )
    def get(self, request, pk):
        campaign = analytics.campaign_for_account(self.account, pk)  # another account's: 404 before any 400
        q = _query(ABQuery, request)
        r = analytics.ab_compare(self.account, campaign, a_id=q["a"], b_id=q["b"], days=q["days"], alpha=q["alpha"])
        t = r.test
        return Response({
            "campaign": str(campaign.pk), "days": q["days"], "alpha": t.alpha,
            "a": {"id": r.a_id, "name": r.a_name, "visitors": t.a.visitors, "conversions": t.a.conversions,
                  "rate": round(t.a.rate, 6)},
            "b": {"id": r.b_id, "name": r.b_name, "visitors": t.b.visitors, "conversions": t.b.conversions,
                  "rate": round(t.b.rate, 6)},
            "visitors_in_both": r.both, "difference": round(t.difference, 6), "z": round(t.z, 4),
            "p_value": round(t.p_value, 6), "ci95": [round(t.ci_low, 6), round(t.ci_high, 6)],
            "enough_data": t.enough_data, "significant": t.significant, "winner": t.winner,
        })  # fmt: skip
