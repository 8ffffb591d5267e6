"""User preferences take effect: dates in the user's time zone, spend alerts only to
owners who want emails, the chosen theme on every page, the default persona preselected."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.accounts.factories import ApiKeyFactory, UserPreferencesFactory

pytestmark = pytest.mark.django_db

USED_AT = datetime(2026, 1, 1, 23, 30, tzinfo=UTC)
# The dashboard's count before preferences were read: reading them adds nothing.
DASHBOARD_QUERIES = 11


def _key_page(client, tenants, zone: str | None) -> str:
    if zone is not None:
        UserPreferencesFactory(user=tenants.alice, timezone=zone)
    ApiKeyFactory(account=tenants.a, created_by=tenants.alice, name="ci", last_used_at=USED_AT)
    client.force_login(tenants.alice)
    response = client.get("/settings/api-keys/")
    assert response.status_code == 200
    return response.content.decode()


def test_dates_on_a_page_are_shown_in_the_users_time_zone(client, tenants):
    # given alice prefers Asia/Seoul (UTC+9) and her key was last used at 23:30 UTC
    # when she opens the API key page
    html = _key_page(client, tenants, "Asia/Seoul")

    # then the date is the next morning, Seoul time
    assert "<td>2026-01-02 08:30</td>" in html
    assert "2026-01-01 23:30" not in html


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "../../etc/passwd", None])
def test_an_unknown_or_missing_time_zone_falls_back_to_utc(client, tenants, zone):
    # given alice's zone is not a known zone name (or she has no preferences at all)
    # when she opens the API key page
    html = _key_page(client, tenants, zone)

    # then the date is shown in UTC
    assert "<td>2026-01-01 23:30</td>" in html


def test_the_time_zone_does_not_leak_into_the_next_request(client, tenants):
    # given alice in Seoul has just opened a page
    _key_page(client, tenants, "Asia/Seoul")

    # when an anonymous visitor asks for a page on the same thread
    client.logout()
    client.get("/accounts/login/")

    # then the zone is UTC again
    assert timezone.get_current_timezone_name() == "UTC"


def test_api_responses_stay_in_utc(api_client, tenants):
    # given alice prefers Asia/Seoul and has a key last used at 23:30 UTC
    UserPreferencesFactory(user=tenants.alice, timezone="Asia/Seoul")
    ApiKeyFactory(account=tenants.a, created_by=tenants.alice, name="ci", last_used_at=USED_AT)
    api_client.force_login(tenants.alice)

    # when she lists keys through the API
    response = api_client.get("/api/v1/api-keys/")

    # then the time is given in UTC
    assert response.status_code == 200
    assert [k["last_used_at"] for k in response.json()["results"]] == ["2026-01-01T23:30:00Z"]


def test_reading_the_time_zone_costs_no_query(client, tenants):
    # given alice prefers Asia/Seoul and has opened the dashboard once (last activity recorded)
    UserPreferencesFactory(user=tenants.alice, timezone="Asia/Seoul")
    client.force_login(tenants.alice)
    client.get("/dashboard/")

    # when she opens it again
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/dashboard/")

    # then her preferences came with the query that loads her, and the count is the pinned one
    assert response.status_code == 200
    sql = [q["sql"] for q in captured.captured_queries]
    with_prefs = [s for s in sql if "accounts_userpreferences" in s]
    assert len(with_prefs) == 1
    assert 'FROM "accounts_user" LEFT OUTER JOIN "accounts_userpreferences"' in with_prefs[0]
    assert len(sql) == DASHBOARD_QUERIES, sql


def _html_tag(html: str) -> str:
    return html[html.index("<html") : html.index(">", html.index("<html")) + 1]


@pytest.mark.parametrize("theme", ["light", "dark", "system"])
def test_every_page_carries_the_users_theme(client, tenants, theme):
    # given alice chose `theme`
    UserPreferencesFactory(user=tenants.alice, theme=theme)
    client.force_login(tenants.alice)

    # when she opens the dashboard
    html = client.get("/dashboard/").content.decode()

    # then <html> carries it
    assert _html_tag(html) == f'<html lang="en" data-theme="{theme}">'


def test_without_a_choice_the_page_follows_the_system_theme(client, tenants):
    # given an anonymous visitor, and bob who has no preferences
    # when each opens a page
    anonymous = client.get("/accounts/login/").content.decode()
    client.force_login(tenants.bob)
    bob = client.get("/dashboard/").content.decode()

    # then both follow the system's theme
    assert _html_tag(anonymous) == '<html lang="en" data-theme="system">'
    assert _html_tag(bob) == '<html lang="en" data-theme="system">'


def test_the_stylesheet_honours_an_explicit_theme_and_the_system_one():
    # given the app stylesheet
    css = (settings.BASE_DIR / "aiplatform" / "static" / "css" / "app.css").read_text()

    # then it has the system rule and one rule per explicit theme
    assert "@media (prefers-color-scheme: dark)" in css
    assert ":root[data-theme=light] { color-scheme:light;" in css
    assert ":root[data-theme=dark] { color-scheme:dark;" in css
