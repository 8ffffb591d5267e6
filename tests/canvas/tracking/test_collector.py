"""The collector answers 202 to every event it keeps or drops, keeps only well
formed events of launched campaigns from browsers, and rate-limits a flood."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from canvas.tracking import stream
from tests.canvas.tracking.conftest import BROWSER_UA, VISITOR_IP, launch, post_event, queued

pytestmark = pytest.mark.django_db


def test_a_page_view_is_queued_with_a_hashed_visitor_and_a_truncated_address(launched, visitor):
    # given a page view as the tracker sends it
    payload = {
        "c": launched.id, "t": "view", "u": "https://pages.example/p/spring-sale/?utm_source=news",
        "r": "https://news.example/today", "cs": [str(launched.hero.pk), str(launched.form.pk)], "w": 1280,
        "utm": {"source": "news", "medium": "email", "campaign": "spring"}, "ck": {"gclid": "Cj0KCQ"},
    }  # fmt: skip

    # when it is posted
    response = post_event(visitor, payload)

    # then the answer is a 202 and one row waits for the writer
    assert response.status_code == 202
    assert response["Access-Control-Allow-Origin"] == "*"
    [row] = queued()
    assert row["campaign_id"] == launched.id
    assert row["account_id"] == str(launched.campaign.account_id)
    assert row["event_type"] == "view"
    assert row["components"] == [str(launched.hero.pk), str(launched.form.pk)]
    assert row["ip_address"] == "203.0.113.0"
    assert len(row["session_id"]) == 32 and VISITOR_IP not in row["session_id"]
    assert VISITOR_IP not in json.dumps(row)
    assert (row["utm_source"], row["utm_medium"], row["utm_campaign"]) == ("news", "email", "spring")
    assert row["click_id"] == "Cj0KCQ" and row["event_data"]["click_id_type"] == "gclid"
    assert row["referrer"] == "https://news.example/today"
    assert (row["country"], row["region"], row["city"]) == ("", "", "")  # no GeoIP database configured


def test_the_same_browser_is_the_same_visitor_and_another_browser_is_not(launched, visitor):
    other = Client(REMOTE_ADDR="198.51.100.9", HTTP_USER_AGENT=BROWSER_UA)
    post_event(visitor, {"c": launched.id, "t": "view"})
    post_event(visitor, {"c": launched.id, "t": "click", "n": "cta"})
    post_event(other, {"c": launched.id, "t": "view"})
    first, second, third = queued()
    assert first["session_id"] == second["session_id"] != third["session_id"]


def test_a_conversion_carries_its_value_currency_and_where_the_visitor_came_from(launched, visitor):
    payload = {"c": launched.id, "t": "conversion", "n": "purchase", "v": "49.5", "cur": "eur",
               "cp": str(launched.form.pk), "u": "https://pages.example/p/x", "ck": {"fbclid": "IwAR"}}  # fmt: skip
    post_event(visitor, payload)
    [row] = queued()
    assert row["component_id"] == str(launched.form.pk)
    assert row["conversion"] == {"type": "purchase", "value": "49.50", "currency": "EUR", "source": "facebook",
                                 "medium": "paid_social"}  # fmt: skip


def test_a_conversion_without_a_currency_takes_the_default_and_one_without_a_value_none(launched, visitor, settings):
    settings.TRACKING_DEFAULT_CURRENCY = "KRW"
    post_event(visitor, {"c": launched.id, "t": "conversion", "v": 12000})
    post_event(visitor, {"c": launched.id, "t": "conversion", "n": "signup", "r": "https://www.search.example/q"})
    paid, free = queued()
    assert (paid["conversion"]["value"], paid["conversion"]["currency"], paid["conversion"]["type"]) == (
        "12000.00", "KRW", "conversion"
    )  # fmt: skip
    assert (free["conversion"]["value"], free["conversion"]["currency"]) == ("0", "")
    assert (free["conversion"]["source"], free["conversion"]["medium"]) == ("search.example", "referral")


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2, 3]",
        b'"a string"',
        b"{}",
        b'{"c": "not-a-uuid", "t": "view"}',
        b'{"c": "%(c)s", "t": "purchase"}',
        b'{"c": "%(c)s", "t": "view", "p": {"k": {"nested": 1}}}',
        b'{"c": "%(c)s", "t": "conversion", "v": -5}',
        b'{"c": "%(c)s", "t": "conversion", "v": "NaN"}',
        b'{"c": "%(c)s", "t": "conversion", "v": 1e40}',
        b'{"c": "%(c)s", "t": "conversion", "v": 10, "cur": "EURO"}',
        b'{"c": "%(c)s", "t": "view", "cs": "not a list"}',
        b'{"c": "%(c)s", "t": "view", "n": "' + b"x" * 121 + b'"}',
        b"\xff\xfe\x00garbage",
        b"[" * 5000 + b"]" * 5000,
        b'{"c": "%(c)s", "t": "click", "n": "nul\\u0000"}',
        b'{"c": "%(c)s", "t": "click", "n": "lone \\ud800 surrogate"}',
    ],
    ids=[
        "text",
        "array",
        "string",
        "empty",
        "bad-id",
        "bad-type",
        "nested-prop",
        "negative",
        "nan",
        "huge",
        "currency",
        "components",
        "long-name",
        "bytes",
        "deep",
        "nul",
        "surrogate",
    ],  # fmt: skip
)
def test_malformed_events_get_a_202_and_are_dropped(launched, visitor, body):
    response = post_event(visitor, body.replace(b"%(c)s", launched.id.encode()))
    assert response.status_code == 202
    assert queued() == []


def test_thirty_one_properties_are_refused_and_thirty_kept(launched, visitor):
    post_event(visitor, {"c": launched.id, "t": "click", "p": {f"k{i}": i for i in range(31)}})
    assert queued() == []
    post_event(visitor, {"c": launched.id, "t": "click", "p": {f"k{i}": i for i in range(30)}})
    assert len(queued()[0]["event_data"]["props"]) == 30


def test_an_oversized_body_gets_a_202_and_is_dropped(launched, visitor, settings):
    settings.TRACKING_MAX_BODY_BYTES = 512
    payload = json.dumps({"c": launched.id, "t": "view", "u": "https://x.example/" + "a" * 600})
    assert post_event(visitor, payload).status_code == 202
    assert queued() == []


@pytest.mark.parametrize(
    "user_agent",
    [
        "Googlebot/2.1 (+http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "curl/8.5.0",
        "python-requests/2.32.3",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36",
        "",
    ],
)
def test_bots_get_a_202_and_are_dropped(launched, user_agent):
    client = Client(REMOTE_ADDR=VISITOR_IP, HTTP_USER_AGENT=user_agent)
    assert post_event(client, {"c": launched.id, "t": "view"}).status_code == 202
    assert queued() == []


def test_events_of_unknown_or_not_launched_campaigns_get_a_202_and_are_dropped(tenants, visitor):
    paused = launch(tenants.a, tenants.alice, "Paused", "paused", status="paused")
    draft = launch(tenants.a, tenants.alice, "Draft", "draft", status="draft")
    for campaign_id in ("6f1c1f0e-0000-4000-8000-000000000000", paused.id, draft.id):
        assert post_event(visitor, {"c": campaign_id, "t": "view"}).status_code == 202
    assert queued() == []


def test_a_component_of_another_campaign_is_not_credited(launched, foreign_launched, visitor):
    foreign = str(foreign_launched.form.pk)
    post_event(visitor, {"c": launched.id, "t": "click", "n": "cta", "cp": foreign, "cs": [foreign]})
    [row] = queued()
    assert row["component_id"] is None
    assert "components" not in row["event_data"]


def test_a_flood_from_one_address_is_rate_limited_and_others_still_pass(launched, visitor, settings):
    settings.TRACKING_EVENTS_PER_MINUTE_PER_IP = 3
    statuses = [post_event(visitor, {"c": launched.id, "t": "view"}).status_code for _ in range(5)]
    assert statuses == [202, 202, 202, 429, 429]
    other = Client(REMOTE_ADDR="198.51.100.20", HTTP_USER_AGENT=BROWSER_UA)
    limited = post_event(visitor, {"c": launched.id, "t": "view"})
    assert limited["Retry-After"] == "60" and limited.json()["error"]["code"] == "rate_limited"
    assert post_event(other, {"c": launched.id, "t": "view"}).status_code == 202
    assert len(queued()) == 4


def test_a_forwarded_for_header_is_ignored_unless_a_proxy_is_trusted(launched, settings):
    client = Client(REMOTE_ADDR="10.0.0.2", HTTP_USER_AGENT=BROWSER_UA, HTTP_X_FORWARDED_FOR="192.0.2.77, 10.0.0.1")
    post_event(client, {"c": launched.id, "t": "view"})
    settings.TRACKING_TRUSTED_PROXIES = 1
    post_event(client, {"c": launched.id, "t": "view"})
    settings.TRACKING_TRUSTED_PROXIES = 2
    post_event(client, {"c": launched.id, "t": "view"})
    assert [r["ip_address"] for r in queued()] == ["10.0.0.0", "10.0.0.0", "192.0.2.0"]


def test_a_broken_queue_is_still_a_202(launched, visitor, monkeypatch):
    def down(row):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(stream, "enqueue", down)
    assert post_event(visitor, {"c": launched.id, "t": "view"}).status_code == 202


def test_other_methods_are_refused_and_preflight_is_answered(visitor):
    assert visitor.get("/t/e/").status_code == 405
    preflight = visitor.options("/t/e/")
    assert preflight.status_code == 204 and preflight["Access-Control-Allow-Methods"] == "POST, OPTIONS"


def test_the_first_event_schedules_one_flush_and_the_next_ones_none(
    launched, visitor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        for _ in range(3):
            post_event(visitor, {"c": launched.id, "t": "view"})
    assert len(callbacks) == 1
    assert stream.backlog() == 3
