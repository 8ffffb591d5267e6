"""Creator scraping: beat picks the followed creators that are due; each adapter
reads its source over real HTTP (a fake feed server on loopback) or a file
import; new posts land once in every following account's inbox; last_scraped_at
is recorded, also when the source fails."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from accounts.tenancy.context import account_context
from billing.models import AccountDailyUsage
from canvas.models import ContentPiece, Creator
from canvas.services.scraping import creator_scrape, creators_due
from tests.canvas.factories import CreatorFactory, FollowFactory
from tests.support.fake_feed import FakeFeedServer, rss, youtube_atom

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def _feeds():
    server = FakeFeedServer().start()
    yield server
    server.stop()


@pytest.fixture
def feeds(_feeds, settings):
    _feeds.reset()
    settings.CANVAS_YOUTUBE_FEED_URL = _feeds.url("/feeds/videos.xml")
    return _feeds


def _inbox(account) -> list[ContentPiece]:
    with account_context(account.id):
        return list(ContentPiece.objects.filter(account=account, project__isnull=True).order_by("source_url"))


def test_a_youtube_channel_feed_fills_each_following_accounts_inbox_once(tenants, feeds):
    creator = CreatorFactory(platform="youtube", username="chefmina", metadata={"channel_id": "UC123"})
    FollowFactory(account=tenants.a, creator=creator)
    FollowFactory(account=tenants.b, creator=creator)
    feeds.serve("/feeds/videos.xml", youtube_atom("UC123", [
        ("vid1", "Pasta in 5", "2026-12-01T10:00:00+00:00"), ("vid2", "Knife skills", "2026-12-02T10:00:00+00:00"),
    ]))  # fmt: skip
    result = creator_scrape(creator.pk)
    assert result == {"status": "ok", "items": 2, "accounts": 2, "added": 4}
    assert feeds.requests == ["/feeds/videos.xml?channel_id=UC123"]
    pieces = _inbox(tenants.a)
    assert [p.source_url for p in pieces] == [
        "https://www.youtube.com/watch?v=vid1", "https://www.youtube.com/watch?v=vid2",
    ]  # fmt: skip
    first = pieces[0]
    assert (first.title, first.content_type, first.platform, first.creator) == (
        "Pasta in 5",
        "video",
        "youtube",
        creator,
    )
    assert first.thumbnail_url.endswith("vid1/hqdefault.jpg") and first.metadata["external_id"] == "vid1"
    assert len(_inbox(tenants.b)) == 2
    creator.refresh_from_db()
    assert creator.last_scraped_at is not None and creator.metadata["scrape_source"] == "youtube_feed"
    with account_context(tenants.a.id):
        assert AccountDailyUsage.objects.get(account=tenants.a).content_pieces_added == 2

    # Again, with one new video: only that one is added.
    feeds.serve("/feeds/videos.xml", youtube_atom("UC123", [
        ("vid3", "Sauces", "2026-12-03T10:00:00+00:00"), ("vid2", "Knife skills", "2026-12-02T10:00:00+00:00"),
    ]))  # fmt: skip
    assert creator_scrape(creator.pk)["added"] == 2
    assert len(_inbox(tenants.a)) == 3


def test_an_rss_feed_and_a_file_import(tenants, feeds, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    linked = CreatorFactory(platform="linkedin", username="ceo", metadata={"feed_url": feeds.url("/ceo.rss")})
    FollowFactory(account=tenants.a, creator=linked)
    feeds.serve(
        "/ceo.rss", rss([("https://www.linkedin.com/pulse/one", "Hiring lessons", "Mon, 30 Nov 2026 09:00:00 GMT")])
    )
    assert creator_scrape(linked.pk)["added"] == 1
    path = default_storage.save("imports/tt.json", ContentFile(json.dumps([
        {"url": "https://www.tiktok.com/@dancer/video/1", "title": "Routine", "published_at": "2026-12-01T00:00:00Z"},
        {"title": "no url: skipped"},
    ]).encode()))  # fmt: skip
    tiktok = CreatorFactory(platform="tiktok", username="dancer", metadata={"import_file": path})
    FollowFactory(account=tenants.a, creator=tiktok)
    assert creator_scrape(tiktok.pk)["added"] == 1
    assert {p.platform for p in _inbox(tenants.a)} == {"linkedin", "tiktok"}


@pytest.mark.parametrize("setup", ["404", "not_xml", "no_source"])
def test_a_failing_source_is_recorded_and_adds_nothing(tenants, feeds, setup):
    meta = {"no_source": {}, "404": {"feed_url": feeds.url("/gone.rss")}, "not_xml": {"feed_url": feeds.url("/x")}}
    feeds.serve("/x", "<html><body>hello", content_type="text/html")
    creator = CreatorFactory(platform="twitter", username=f"u{setup}", metadata=meta[setup])
    FollowFactory(account=tenants.a, creator=creator)
    result = creator_scrape(creator.pk)
    assert result["status"] == "source_error"
    creator.refresh_from_db()
    assert creator.last_scraped_at is not None and creator.metadata["scrape_error"]
    assert _inbox(tenants.a) == []


def test_only_followed_active_due_creators_are_scraped(tenants):
    now = timezone.now()
    due = CreatorFactory(scrape_frequency_hours=1, last_scraped_at=now - timedelta(hours=2))
    never = CreatorFactory(last_scraped_at=None)
    fresh = CreatorFactory(scrape_frequency_hours=6, last_scraped_at=now - timedelta(hours=2))
    unfollowed = CreatorFactory(last_scraped_at=None)
    inactive_follow = CreatorFactory(last_scraped_at=None)
    for creator in (due, never, fresh):
        FollowFactory(account=tenants.a, creator=creator)
    FollowFactory(account=tenants.a, creator=inactive_follow, is_active=False)
    assert set(creators_due(now)) == {str(due.pk), str(never.pk)}
    assert str(unfollowed.pk) not in creators_due(now)


def test_the_beat_task_sends_the_due_creators(tenants, feeds):
    from canvas.tasks import creators_scrape_due

    creator = CreatorFactory(platform="youtube", metadata={"channel_id": "UCbeat"})
    FollowFactory(account=tenants.a, creator=creator)
    feeds.serve("/feeds/videos.xml", youtube_atom("UCbeat", [("b1", "Beat", "2026-12-01T10:00:00+00:00")]))
    assert creators_scrape_due() == 1  # eager: the scrape ran
    assert len(_inbox(tenants.a)) == 1
    assert Creator.objects.get(pk=creator.pk).last_scraped_at is not None
    assert creators_scrape_due() == 0  # not due again for an hour
