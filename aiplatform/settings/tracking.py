"""Settings of campaign tracking (canvas/tracking/): the tracker, the collector,
the batch writer and the optional GeoIP lookup. Every one is read from the
environment (`.env`); base.py sets TRACKING_REDIS_URL (its own Redis database)
before importing this module.

- The collector answers 202 to anything that is not a flood: malformed,
  oversized, bot and unknown-campaign events are dropped silently, as the
  trackers it copies do (Plausible, Umami). A flood from one client address is
  a 429 once it passes TRACKING_EVENTS_PER_MINUTE_PER_IP.
- Visitors are a hash of a daily salt + campaign + IP + user agent, the salt kept
  in Redis for TRACKING_SALT_TTL_HOURS and then gone, so yesterday's hashes can
  no longer be recomputed. No cookie, no local storage identifier.
- Country/region/city come from a MaxMind-format database (GeoLite2-City or
  -Country .mmdb) only if TRACKING_GEOIP_DATABASE names one; empty (the default):
  no location is looked up or stored.
- TRACKING_TRUSTED_PROXIES: how many reverse proxies in front of the web process
  append to X-Forwarded-For (0: the socket address is the client's).
- A malformed value (a non-positive limit, a GeoIP path that is not a file)
  stops the boot with ImproperlyConfigured.
"""

from __future__ import annotations

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

env = environ.Env()

# Collector
TRACKING_MAX_BODY_BYTES = env.int("TRACKING_MAX_BODY_BYTES", default=8192)
TRACKING_EVENTS_PER_MINUTE_PER_IP = env.int("TRACKING_EVENTS_PER_MINUTE_PER_IP", default=600)
TRACKING_LEADS_PER_MINUTE_PER_IP = env.int("TRACKING_LEADS_PER_MINUTE_PER_IP", default=10)
TRACKING_TRUSTED_PROXIES = env.int("TRACKING_TRUSTED_PROXIES", default=0)
TRACKING_CAMPAIGN_CACHE_SECONDS = env.float("TRACKING_CAMPAIGN_CACHE_SECONDS", default=30.0)
TRACKING_SALT_TTL_HOURS = env.int("TRACKING_SALT_TTL_HOURS", default=26)
TRACKING_DEFAULT_CURRENCY = env("TRACKING_DEFAULT_CURRENCY", default="USD")
TRACKING_GEOIP_DATABASE = env("TRACKING_GEOIP_DATABASE", default="")
# The tracker skips browsers driven by automation (navigator.webdriver), as Plausible
# does; True lets our own browser tests be counted.
TRACKING_ALLOW_WEBDRIVER = env.bool("TRACKING_ALLOW_WEBDRIVER", default=False)

# Queue and batch writer: events wait in a Redis stream until a Celery task writes them.
TRACKING_STREAM_KEY = env("TRACKING_STREAM_KEY", default="aip:track:events")
TRACKING_STREAM_MAX_LEN = env.int("TRACKING_STREAM_MAX_LEN", default=1_000_000)  # oldest dropped past this
TRACKING_BATCH_SIZE = env.int("TRACKING_BATCH_SIZE", default=5000)  # events per transaction
TRACKING_FLUSH_DELAY_SECONDS = env.float("TRACKING_FLUSH_DELAY_SECONDS", default=1.0)
TRACKING_FLUSH_MAX_SECONDS = env.float("TRACKING_FLUSH_MAX_SECONDS", default=20.0)  # one task's time budget
TRACKING_CLAIM_IDLE_SECONDS = env.int("TRACKING_CLAIM_IDLE_SECONDS", default=60)  # a dead writer's batch retaken

for _name in (
    "TRACKING_MAX_BODY_BYTES", "TRACKING_EVENTS_PER_MINUTE_PER_IP", "TRACKING_SALT_TTL_HOURS",
    "TRACKING_STREAM_MAX_LEN", "TRACKING_BATCH_SIZE", "TRACKING_CLAIM_IDLE_SECONDS",
):  # fmt: skip
    if globals()[_name] <= 0:
        raise ImproperlyConfigured(f"{_name} must be a positive number.")
if TRACKING_TRUSTED_PROXIES < 0:
    raise ImproperlyConfigured("TRACKING_TRUSTED_PROXIES must be 0 or more.")
if TRACKING_GEOIP_DATABASE and not Path(TRACKING_GEOIP_DATABASE).is_file():
    raise ImproperlyConfigured(f"TRACKING_GEOIP_DATABASE={TRACKING_GEOIP_DATABASE} is not a file.")
if len(TRACKING_DEFAULT_CURRENCY) != 3 or not TRACKING_DEFAULT_CURRENCY.isalpha():
    raise ImproperlyConfigured("TRACKING_DEFAULT_CURRENCY must be a three-letter currency code.")
TRACKING_DEFAULT_CURRENCY = TRACKING_DEFAULT_CURRENCY.upper()
