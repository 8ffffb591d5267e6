"""The batch writer puts queued events into campaign_events and conversions,
bumps the counters by what it really inserted, and writes nothing twice."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from accounts.tenancy.context import account_context, rls_bypass
from canvas.models.campaigns import Campaign, CampaignComponent
from canvas.models.tracking import CampaignEvent, Conversion
from canvas.tracking import stream, writer
from canvas.tracking.tasks import events_flush
from tests.canvas.tracking.conftest import post_event, queued_lines

pytestmark = pytest.mark.django_db


def _visit(client, launched):
    hero, form = str(launched.hero.pk), str(launched.form.pk)
    post_event(client, {"c": launched.id, "t": "view", "cs": [hero, form], "u": "https://p.example/p/spring-sale/",
                        "utm": {"source": "news", "medium": "email"}})  # fmt: skip
    post_event(client, {"c": launched.id, "t": "click", "n": "cta", "cp": hero})
    post_event(client, {"c": launched.id, "t": "form_submit", "n": "signup", "cp": form})
    post_event(client, {"c": launched.id, "t": "conversion", "n": "signup", "cp": form, "v": 25, "cur": "EUR"})


def _counters(launched):
    with rls_bypass("test: read counters"):
        c = Campaign.objects.get(pk=launched.campaign.pk)
        comps = {x.pk: (x.views, x.clicks, x.conversions, x.engagement_score)
                 for x in CampaignComponent.objects.filter(campaign=c)}  # fmt: skip
    return (c.views, c.conversions, c.revenue_generated), comps


def test_a_flush_writes_events_conversions_and_counters(launched, visitor):
    # given a visit: a page view, a click on the hero, a form submit and a paid conversion
    _visit(visitor, launched)

    # when the writer runs
    result = writer.events_flush()

    # then every event is a row, the conversion has its own row, and the counters moved
    assert (result.read, result.written.events, result.written.conversions, result.backlog) == (4, 4, 1, 0)
    with account_context(launched.campaign.account_id):
        events = list(CampaignEvent.objects.filter(campaign=launched.campaign).order_by("created_at"))
        [conversion] = Conversion.objects.filter(campaign=launched.campaign)
    assert [e.event_type for e in events] == ["view", "click", "form_submit", "conversion"]
    assert {e.session_id for e in events} == {events[0].session_id}
    assert events[0].ip_address == "203.0.113.0" and events[0].utm_source == "news"
    assert events[1].component_id == launched.hero.pk
    assert (conversion.value, conversion.currency, conversion.conversion_type) == (Decimal("25.00"), "EUR", "signup")
    assert (conversion.source, conversion.medium, conversion.event_id) == ("(direct)", "(none)", events[3].id)
    assert conversion.component_id == launched.form.pk
    campaign, comps = _counters(launched)
    assert campaign == (1, 1, Decimal("25.00"))
    assert comps[launched.hero.pk] == (1, 1, 0, Decimal("100.00"))
    assert comps[launched.form.pk] == (1, 0, 1, Decimal("100.00"))
    assert comps[launched.hero_v2.pk] == (0, 0, 0, Decimal("0.00"))
    assert stream.backlog() == 0


def test_a_retried_batch_writes_nothing_twice(launched, visitor):
    _visit(visitor, launched)
    lines = queued_lines()
    first = writer.lines_write(lines)
    again = writer.lines_write(lines)  # a writer that died after its commit, before its acknowledgement
    assert (first.events, first.conversions) == (4, 1)
    assert again == writer.Written()
    with account_context(launched.campaign.account_id):
        assert CampaignEvent.objects.filter(campaign=launched.campaign).count() == 4
        assert Conversion.objects.count() == 1
    assert _counters(launched)[0] == (1, 1, Decimal("25.00"))


def test_an_unacknowledged_batch_is_taken_over_by_the_next_writer(launched, visitor, settings):
    # given a writer that read a batch and died before writing it
    post_event(visitor, {"c": launched.id, "t": "view"})
    taken = stream.read_batch(100, consumer="dead-writer")
    assert len(taken) == 1
    assert len(stream.read_batch(100, consumer="live-writer")) == 0  # not idle long enough yet
    # when it has been idle past the claim time
    settings.TRACKING_CLAIM_IDLE_SECONDS = 1
    time.sleep(1.1)
    result = writer.events_flush()
    # then the next writer wrote it
    assert result.written.events == 1
    assert _counters(launched)[0][0] == 1


def test_each_account_s_events_are_written_under_its_own_account(launched, foreign_launched, visitor):
    post_event(visitor, {"c": launched.id, "t": "view"})
    post_event(visitor, {"c": foreign_launched.id, "t": "view"})
    post_event(visitor, {"c": foreign_launched.id, "t": "view"})
    assert writer.events_flush().written.events == 3
    with account_context(launched.campaign.account_id):
        assert CampaignEvent.objects.count() == 1  # row-level security shows A only its own
    with account_context(foreign_launched.campaign.account_id):
        assert CampaignEvent.objects.count() == 2


def test_events_of_a_campaign_deleted_before_the_flush_are_skipped(launched, visitor):
    post_event(visitor, {"c": launched.id, "t": "view", "cs": [str(launched.hero.pk)]})
    post_event(visitor, {"c": launched.id, "t": "click", "cp": str(launched.form.pk)})
    with account_context(launched.campaign.account_id):
        launched.form.delete()
    result = writer.events_flush()
    assert result.written.events == 2
    with account_context(launched.campaign.account_id):
        assert CampaignEvent.objects.get(event_type="click").component_id is None  # the component is gone
        campaign_id = launched.id
        launched.campaign.delete()
    post_event(visitor, {"c": campaign_id, "t": "view"})  # still in the collector's cache
    result = writer.events_flush()
    assert (result.read, result.written.events) == (1, 0)
    assert stream.backlog() == 0


def test_the_celery_task_flushes_the_stream(launched, visitor):
    _visit(visitor, launched)
    outcome = events_flush.delay().get()
    assert outcome == {"batches": 1, "read": 4, "events": 4, "conversions": 1, "backlog": 0}


def test_batches_are_read_in_the_configured_size(launched, visitor):
    for _ in range(5):
        post_event(visitor, {"c": launched.id, "t": "view"})
    result = writer.events_flush(batch_size=2)
    assert (result.batches, result.read, result.written.events) == (3, 5, 5)
    assert _counters(launched)[0][0] == 5


def test_junk_in_the_stream_is_acknowledged_and_skipped(launched, visitor):
    stream.redis_client().xadd(stream._key(), {"e": b"not json"})
    stream.redis_client().xadd(stream._key(), {"x": b"no field"})
    stream.redis_client().xadd(stream._key(), {"a": str(launched.campaign.account_id).encode(), "l": b"short\tline\n"})
    stream.redis_client().xadd(stream._key(), {"a": b"not-an-account", "l": b"\t" * 24 + b"\n"})
    post_event(visitor, {"c": launched.id, "t": "view"})
    result = writer.events_flush()
    assert (result.read, result.written.events, result.backlog) == (5, 1, 0)


def test_a_line_survives_tabs_newlines_backslashes_and_quotes(launched, visitor):
    tricky = 'tab\there\nnew "quoted" back\\slash \\N é 한국어'
    post_event(visitor, {"c": launched.id, "t": "click", "n": tricky, "p": {"k\t": tricky}, "u": "https://x/\t"})
    assert writer.events_flush().written.events == 1
    with account_context(launched.campaign.account_id):
        event = CampaignEvent.objects.get()
    assert event.event_data == {"name": tricky, "props": {"k\t": tricky}}
    assert event.url == "https://x/\t"
