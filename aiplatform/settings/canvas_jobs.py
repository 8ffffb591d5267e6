"""Settings of the canvas processing queue and content studio (issue 13). Every
one is read from the environment (`.env`); the defaults suit the embedded setup.

- CANVAS_PROVIDER_CONCURRENCY: jobs that may run at once per provider, across
  all workers, e.g. "elevenlabs=2,heygen=1" (ElevenLabs' plan concurrency).
  A provider not listed runs at most CANVAS_DEFAULT_PROVIDER_CONCURRENCY jobs.
- CANVAS_JOB_HEARTBEAT_SECONDS: a running job refreshes its heartbeat this often;
  a job whose heartbeat is older than three of them is taken for a dead worker
  and repaired by the sweep (requeued while attempts remain, else failed with
  its credits released).
- CANVAS_JOB_HOLD_TTL_MINUTES: how long a job's credit hold lives (longer than a
  job may wait in the queue plus run).
- CANVAS_JOB_RETRY_BACKOFF_SECONDS: the first automatic retry waits this long,
  doubled for each further attempt.
"""

from __future__ import annotations

import environ
from django.core.exceptions import ImproperlyConfigured

_env = environ.Env()


def _concurrency(raw: str) -> dict[str, int]:
    limits: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        name, _, value = part.partition("=")
        try:
            limit = int(value)
        except ValueError:
            limit = 0
        if not name.strip() or limit < 1:
            raise ImproperlyConfigured(
                f"CANVAS_PROVIDER_CONCURRENCY: '{part}' must be provider=N with N >= 1 (e.g. elevenlabs=2)."
            )
        limits[name.strip()] = limit
    return limits


CANVAS_PROVIDER_CONCURRENCY = _concurrency(
    _env("CANVAS_PROVIDER_CONCURRENCY", default="elevenlabs=2,heygen=1,gateway=4,offline_media=2")
)
CANVAS_DEFAULT_PROVIDER_CONCURRENCY = _env.int("CANVAS_DEFAULT_PROVIDER_CONCURRENCY", default=4)
CANVAS_JOB_HEARTBEAT_SECONDS = _env.int("CANVAS_JOB_HEARTBEAT_SECONDS", default=10)
CANVAS_JOB_HOLD_TTL_MINUTES = _env.int("CANVAS_JOB_HOLD_TTL_MINUTES", default=360)
CANVAS_JOB_RETRY_BACKOFF_SECONDS = _env.int("CANVAS_JOB_RETRY_BACKOFF_SECONDS", default=30)
for _name in ("CANVAS_DEFAULT_PROVIDER_CONCURRENCY", "CANVAS_JOB_HEARTBEAT_SECONDS", "CANVAS_JOB_HOLD_TTL_MINUTES"):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be at least 1.")

CANVAS_JOBS_BEAT = {
    "canvas-jobs-sweep": {"task": "canvas.tasks.jobs_sweep", "schedule": 30.0},
}

# Content pieces: the largest upload, and how long uploaded files are kept (then
# `content_expire` deletes the file and keeps the piece with its analyses).
CANVAS_UPLOAD_MAX_BYTES = _env.int("CANVAS_UPLOAD_MAX_BYTES", default=500 * 1024 * 1024)
CANVAS_CONTENT_RETENTION_DAYS = _env.int("CANVAS_CONTENT_RETENTION_DAYS", default=90)
CANVAS_JOBS_BEAT["canvas-content-expire"] = {"task": "canvas.tasks.content_expire", "schedule": 3600.0}

# Content analysis and scripts: the registry model (empty: AI_DEFAULT_CHAT_MODEL) and
# the fixed price in credits of one job (nothing is charged on the offline model).
CANVAS_ANALYSIS_MODEL = _env("CANVAS_ANALYSIS_MODEL", default="")
CANVAS_SCRIPT_MODEL = _env("CANVAS_SCRIPT_MODEL", default="")
CANVAS_ANALYSIS_CREDITS = _env.int("CANVAS_ANALYSIS_CREDITS", default=2)
CANVAS_SCRIPT_CREDITS = _env.int("CANVAS_SCRIPT_CREDITS", default=3)

# Creator scraping (canvas/sources/): how often beat looks for due creators, how many
# creators one sweep sends, posts read per creator, the HTTP timeout, YouTube's feed.
CANVAS_SCRAPE_SWEEP_SECONDS = _env.int("CANVAS_SCRAPE_SWEEP_SECONDS", default=300)
CANVAS_SCRAPE_BATCH = _env.int("CANVAS_SCRAPE_BATCH", default=200)
CANVAS_SCRAPE_MAX_ITEMS = _env.int("CANVAS_SCRAPE_MAX_ITEMS", default=20)
CANVAS_SCRAPE_TIMEOUT = _env.float("CANVAS_SCRAPE_TIMEOUT", default=15.0)
CANVAS_YOUTUBE_FEED_URL = _env("CANVAS_YOUTUBE_FEED_URL", default="https://www.youtube.com/feeds/videos.xml")
# oEmbed endpoints per platform: a post added by URL gets its title, author and thumbnail
# from them (Instagram's needs an app token and LinkedIn has none: those keep what the user typed).
CANVAS_OEMBED_YOUTUBE_URL = _env("CANVAS_OEMBED_YOUTUBE_URL", default="https://www.youtube.com/oembed")
CANVAS_OEMBED_TIKTOK_URL = _env("CANVAS_OEMBED_TIKTOK_URL", default="https://www.tiktok.com/oembed")
CANVAS_OEMBED_X_URL = _env("CANVAS_OEMBED_X_URL", default="https://publish.twitter.com/oembed")
CANVAS_JOBS_BEAT["canvas-creators-scrape"] = {
    "task": "canvas.tasks.creators_scrape_due", "schedule": float(CANVAS_SCRAPE_SWEEP_SECONDS),
}  # fmt: skip
