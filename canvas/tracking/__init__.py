"""Campaign tracking: the tracker's collector, email pixel and redirect, the
batch writer and the campaign analytics (see docs/adr/0011-campaign-tracking.md).

Flow: `tracker.js` POSTs one event as `text/plain` JSON (no CORS preflight,
`keepalive`) to `/t/e/`; the collector (`collect.py`) rate-limits the client
address, checks size, shape, user agent and campaign, hashes the visitor with the
day's salt and appends the event to a Redis stream (`stream.py`), answering 202;
a Celery task (`tasks.py`) takes the stream in batches and `writer.py` COPYs them
into `campaign_events` and `conversions` and bumps the campaign and component
counters, once per event even when a batch is retried.
"""
