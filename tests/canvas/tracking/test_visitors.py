"""The visitor hash: the same browser is one visitor a day per campaign; the salt
changes every day and expires, so hashes cannot be tied to an address later."""

from __future__ import annotations

from datetime import date

import pytest

from canvas.tracking import bots, stream, visitors

DAY = date(2026, 12, 3)
UA = "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"


def _hash(day=DAY, campaign="c1", ip="203.0.113.5", ua=UA):
    return visitors.visitor_hash(campaign_id=campaign, ip=ip, user_agent=ua, day=day)


@pytest.fixture(autouse=True)
def _salts(settings):
    settings.TRACKING_SALT_TTL_HOURS = 26
    client = stream.redis_client()
    for day in ("2026-12-03", "2026-12-04"):
        client.delete(visitors.SALT_KEY.format(day=day))
    visitors.salts_forget()
    yield
    visitors.salts_forget()


def test_one_browser_is_one_visitor_a_day_per_campaign():
    assert _hash() == _hash()
    assert _hash() != _hash(ip="203.0.113.6")
    assert _hash() != _hash(ua=UA + " extra")
    assert _hash() != _hash(campaign="c2")
    assert len(_hash()) == 32 and "203.0.113" not in _hash()


def test_the_salt_rotates_daily_so_the_next_day_is_a_new_visitor():
    today, tomorrow = _hash(), _hash(day=date(2026, 12, 4))
    assert today != tomorrow
    assert visitors.daily_salt(DAY) != visitors.daily_salt(date(2026, 12, 4))


def test_the_salt_is_shared_between_processes_and_expires():
    first = _hash()
    visitors.salts_forget()  # another web process
    assert _hash() == first
    ttl = stream.redis_client().ttl(visitors.SALT_KEY.format(day="2026-12-03"))
    assert 25 * 3600 < ttl <= 26 * 3600


def test_once_the_salt_is_gone_yesterday_s_hash_cannot_be_made_again():
    before = _hash()
    stream.redis_client().delete(visitors.SALT_KEY.format(day="2026-12-03"))  # expired
    visitors.salts_forget()
    assert _hash() != before


@pytest.mark.parametrize(
    ("ip", "stored"),
    [
        ("203.0.113.57", "203.0.113.0"),
        ("2001:db8:abcd:12:1:2:3:4", "2001:db8:abcd::"),
        ("::ffff:198.51.100.7", "198.51.100.0"),
        ("not an ip", None),
    ],
)
def test_only_a_truncated_address_is_kept(ip, stored):
    assert visitors.truncate_ip(ip) == stored


def test_browsers_are_not_bots_and_crawlers_are():
    assert not bots.is_bot("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148")
    assert not bots.is_bot(UA)
    assert bots.is_bot("Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)")
    assert bots.is_bot("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)")
    assert bots.is_bot("x" * 600)
    assert bots.is_bot("   ")
