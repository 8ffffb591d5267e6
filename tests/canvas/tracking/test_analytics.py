"""The campaign analytics page and API: views, visitors, conversion rate,
revenue, by day and by component, and the A/B comparison."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from canvas.tracking import writer
from tests.canvas.tracking.conftest import BROWSER_UA, post_event

pytestmark = pytest.mark.django_db


def _visitor(n: int) -> Client:
    return Client(REMOTE_ADDR=f"198.51.{n // 250}.{n % 250 + 1}", HTTP_USER_AGENT=BROWSER_UA)


def _traffic(launched, *, a_views: int, a_conv: int, b_views: int, b_conv: int) -> None:
    """Visitors shown hero v1 (A) or hero v2 (B), some of whom sign up."""
    n = 0
    for hero, views, conversions in ((launched.hero, a_views, a_conv), (launched.hero_v2, b_views, b_conv)):
        for i in range(views):
            client = _visitor(n)
            n += 1
            post_event(client, {"c": launched.id, "t": "view", "cs": [str(hero.pk), str(launched.form.pk)]})
            if i < conversions:
                post_event(client, {"c": launched.id, "t": "click", "n": "cta", "cp": str(hero.pk)})
                post_event(client, {"c": launched.id, "t": "conversion", "n": "signup", "cp": str(launched.form.pk),
                                    "v": 10, "cur": "USD"})  # fmt: skip
    writer.events_flush()


@pytest.fixture
def alice_client(tenants):
    client = Client()
    client.force_login(tenants.alice)
    return client


def test_the_api_reports_totals_by_day_and_by_component(launched, alice_client, settings):
    settings.TRACKING_EVENTS_PER_MINUTE_PER_IP = 10_000
    _traffic(launched, a_views=6, a_conv=2, b_views=4, b_conv=3)
    body = alice_client.get(f"/api/v1/campaigns/{launched.id}/analytics/?days=7").json()
    assert (body["views"], body["visitors"], body["conversions"], body["converted_visitors"]) == (10, 10, 5, 5)
    assert body["conversion_rate"] == 0.5
    assert body["revenue"] == [{"currency": "USD", "total": "50.00"}]
    assert body["lifetime"] == {"views": 10, "conversions": 5, "revenue": "50.00"}
    assert len(body["by_day"]) == 7 and body["by_day"][-1]["views"] == 10 and body["by_day"][0]["views"] == 0
    components = {c["id"]: c for c in body["by_component"]}
    assert (components[str(launched.hero.pk)]["views"], components[str(launched.hero.pk)]["clicks"]) == (6, 2)
    assert (components[str(launched.hero_v2.pk)]["views"], components[str(launched.hero_v2.pk)]["clicks"]) == (4, 3)
    form = components[str(launched.form.pk)]
    assert (form["views"], form["conversions"], form["revenue"]) == (10, 5, "50.00")
    assert components[str(launched.hero_v2.pk)]["parent"] == str(launched.hero.pk)


def test_the_ab_api_names_no_winner_on_little_data(launched, alice_client, settings):
    settings.TRACKING_EVENTS_PER_MINUTE_PER_IP = 10_000
    _traffic(launched, a_views=6, a_conv=2, b_views=4, b_conv=3)
    url = f"/api/v1/campaigns/{launched.id}/analytics/ab/?a={launched.hero.pk}&b={launched.hero_v2.pk}"
    body = alice_client.get(url).json()
    assert (body["a"]["visitors"], body["a"]["conversions"], body["b"]["visitors"], body["b"]["conversions"]) == (
        6, 2, 4, 3
    )  # fmt: skip
    assert body["winner"] is None and body["enough_data"] is False and 0 < body["p_value"] < 1


def test_the_ab_api_names_the_better_version_when_significant(launched, alice_client, settings):
    settings.TRACKING_EVENTS_PER_MINUTE_PER_IP = 10_000
    _traffic(launched, a_views=40, a_conv=6, b_views=40, b_conv=24)
    url = f"/api/v1/campaigns/{launched.id}/analytics/ab/?a={launched.hero.pk}&b={launched.hero_v2.pk}"
    body = alice_client.get(url).json()
    assert (body["a"]["rate"], body["b"]["rate"]) == (0.15, 0.6)
    assert body["significant"] is True and body["winner"] == "b" and body["p_value"] < 0.001


def test_the_page_shows_the_figures_charts_and_verdict(launched, alice_client, settings):
    settings.TRACKING_EVENTS_PER_MINUTE_PER_IP = 10_000
    _traffic(launched, a_views=40, a_conv=6, b_views=40, b_conv=24)
    page = alice_client.get(f"/canvas/campaigns/{launched.id}/analytics/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="views">80<' in html and 'data-testid="conversion-rate">37.5%<' in html
    assert 'data-testid="revenue">300.00 USD<' in html
    for chart in ("campaign-traffic", "campaign-conversions", "component-views", "component-actions"):
        assert f'id="{chart}"' in html
    assert "B (Hero v2) converts better" in html


@pytest.mark.parametrize("query", ["days=0", "days=400", "days=x"])
def test_a_bad_period_is_a_400_naming_it(launched, alice_client, query):
    response = alice_client.get(f"/api/v1/campaigns/{launched.id}/analytics/?{query}")
    assert response.status_code == 400 and "days" in response.json()["error"]["fields"]


def test_bad_ab_parameters_are_400(launched, alice_client):
    base = f"/api/v1/campaigns/{launched.id}/analytics/ab/"
    assert alice_client.get(f"{base}?a=x&b={launched.hero.pk}").status_code == 400
    assert alice_client.get(f"{base}?a={launched.hero.pk}").status_code == 400
    same = alice_client.get(f"{base}?a={launched.hero.pk}&b={launched.hero.pk}")
    assert same.status_code == 400


def test_another_account_s_campaign_or_component_is_a_404(launched, foreign_launched, alice_client):
    assert alice_client.get(f"/api/v1/campaigns/{foreign_launched.id}/analytics/").status_code == 404
    assert alice_client.get(f"/canvas/campaigns/{foreign_launched.id}/analytics/").status_code == 404
    url = f"/api/v1/campaigns/{launched.id}/analytics/ab/?a={launched.hero.pk}&b={foreign_launched.hero.pk}"
    response = alice_client.get(url)
    assert response.status_code == 404 and "Globex" not in response.content.decode()
    foreign_url = f"/api/v1/campaigns/{foreign_launched.id}/analytics/ab/?a={foreign_launched.hero.pk}&b={foreign_launched.hero_v2.pk}"  # noqa: E501
    assert alice_client.get(foreign_url).status_code == 404
    no_query = f"/api/v1/campaigns/{foreign_launched.id}/analytics/ab/"  # 404 comes before the 400 of a missing a/b
    assert alice_client.get(no_query).status_code == 404


def test_signed_out_visitors_are_sent_away(launched):
    assert Client().get(f"/api/v1/campaigns/{launched.id}/analytics/").status_code in (401, 403)
    assert Client().get(f"/canvas/campaigns/{launched.id}/analytics/").status_code == 302


def test_the_analytics_api_costs_the_same_queries_for_more_traffic(launched, alice_client, settings):
    settings.TRACKING_EVENTS_PER_MINUTE_PER_IP = 10_000
    url = f"/api/v1/campaigns/{launched.id}/analytics/?days=30"
    _traffic(launched, a_views=2, a_conv=1, b_views=1, b_conv=0)
    with CaptureQueriesContext(connection) as small:
        assert alice_client.get(url).status_code == 200
    _traffic(launched, a_views=20, a_conv=5, b_views=20, b_conv=5)
    with CaptureQueriesContext(connection) as large:
        assert alice_client.get(url).status_code == 200
    assert len(large) == len(small) <= 16
    assert Decimal(alice_client.get(url).json()["lifetime"]["revenue"]) == Decimal("110.00")
