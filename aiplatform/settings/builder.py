"""Settings of the web builder's publishing integrations, platform analyses and
component marketplace (seed 002). Every one is read from the environment (`.env`).

- Every platform base URL is a setting (tests point them at the fake publishers on
  loopback, tests/support/fake_publishers.py). WordPress and Simvoly sites are the
  user's own addresses, typed when connecting.
- Outgoing calls to user-given addresses (a WordPress site, a Simvoly domain, a
  custom webhook, a page to import) must be https and resolve to a public address,
  unless BUILDER_INTEGRATIONS_ALLOW_HTTP / _ALLOW_PRIVATE_HOSTS say otherwise
  (development against a local WordPress, the test suite).
- GoHighLevel's connect button is disabled until GHL_CLIENT_ID and
  GHL_CLIENT_SECRET are set (a marketplace app's credentials).
- A malformed value (a URL that is not http(s), a fee outside 0-100) stops the
  boot with ImproperlyConfigured.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import environ
from django.core.exceptions import ImproperlyConfigured

env = environ.Env()

# --- GoHighLevel v2 (marketplace app, OAuth) -----------------------------------------
GHL_API_URL = env("GHL_API_URL", default="https://services.leadconnectorhq.com")
GHL_OAUTH_AUTHORIZE_URL = env(
    "GHL_OAUTH_AUTHORIZE_URL", default="https://marketplace.gohighlevel.com/v2/oauth/chooselocation"
)
GHL_CLIENT_ID = env("GHL_CLIENT_ID", default="")
GHL_CLIENT_SECRET = env("GHL_CLIENT_SECRET", default="")
GHL_API_VERSION = env("GHL_API_VERSION", default="2021-07-28")
GHL_SCOPES = env(
    "GHL_SCOPES",
    default="locations.readonly contacts.write emails/builder.write emails/builder.readonly "
    "funnels/redirect.write funnels/redirect.readonly funnels/funnel.readonly funnels/page.readonly",
)
# Refresh the access token (1 day) this many seconds before it expires.
GHL_REFRESH_MARGIN_SECONDS = env.int("GHL_REFRESH_MARGIN_SECONDS", default=300)

# --- Outgoing HTTP -----------------------------------------------------------------------
BUILDER_INTEGRATIONS_TIMEOUT = env.float("BUILDER_INTEGRATIONS_TIMEOUT", default=15.0)
BUILDER_INTEGRATIONS_ALLOW_HTTP = env.bool("BUILDER_INTEGRATIONS_ALLOW_HTTP", default=False)
BUILDER_INTEGRATIONS_ALLOW_PRIVATE_HOSTS = env.bool("BUILDER_INTEGRATIONS_ALLOW_PRIVATE_HOSTS", default=False)
# A page fetched for analysis is read up to this many bytes.
BUILDER_IMPORT_MAX_BYTES = env.int("BUILDER_IMPORT_MAX_BYTES", default=2_000_000)
# Attempts of a queued publish before it is failed (a reconnect puts it back in line).
BUILDER_PUBLISH_MAX_ATTEMPTS = env.int("BUILDER_PUBLISH_MAX_ATTEMPTS", default=5)

# --- Platform analyses -------------------------------------------------------------------
# The registry model of platform analyses (empty: AI_DEFAULT_CHAT_MODEL).
BUILDER_ANALYSIS_MODEL = env("BUILDER_ANALYSIS_MODEL", default="")
# Credits held before an analysis runs; the actual price is settled after.
BUILDER_ANALYSIS_HOLD = env("BUILDER_ANALYSIS_HOLD", default="5")

# --- AI generation of campaigns and components ---------------------------------------
# The registry model that generates pages (empty: AI_DEFAULT_CHAT_MODEL).
BUILDER_GENERATION_MODEL = env("BUILDER_GENERATION_MODEL", default="")
# Credits held before a generation runs; the registry's price of the tokens is settled after.
BUILDER_GENERATION_HOLD = env("BUILDER_GENERATION_HOLD", default="20")

# --- Component marketplace ---------------------------------------------------------------
# Percent of each sale the platform keeps (the seller gets the rest); operators may
# override it at run time with the app setting "marketplace.fee_percent".
MARKETPLACE_FEE_PERCENT = env("MARKETPLACE_FEE_PERCENT", default="20")
MARKETPLACE_MAX_PRICE = env("MARKETPLACE_MAX_PRICE", default="10000")
# Feature flags (app_settings) are cached in-process this many seconds.
FEATURE_FLAGS_CACHE_SECONDS = env.int("FEATURE_FLAGS_CACHE_SECONDS", default=30)


def _check() -> None:
    for name in ("GHL_API_URL", "GHL_OAUTH_AUTHORIZE_URL"):
        value = globals()[name]
        if not value.startswith(("http://", "https://")):
            raise ImproperlyConfigured(f"{name} must be an http(s) URL, not {value!r}.")
    for name in (
        "MARKETPLACE_FEE_PERCENT",
        "MARKETPLACE_MAX_PRICE",
        "BUILDER_ANALYSIS_HOLD",
        "BUILDER_GENERATION_HOLD",
    ):
        try:
            value = Decimal(globals()[name])
        except InvalidOperation as exc:
            raise ImproperlyConfigured(f"{name} must be a number, not {globals()[name]!r}.") from exc
        if value < 0 or (name == "MARKETPLACE_FEE_PERCENT" and value > 100):
            raise ImproperlyConfigured(f"{name} is out of range: {value}.")
    for name in ("BUILDER_IMPORT_MAX_BYTES", "BUILDER_PUBLISH_MAX_ATTEMPTS", "FEATURE_FLAGS_CACHE_SECONDS"):
        if globals()[name] <= 0:
            raise ImproperlyConfigured(f"{name} must be positive.")
    if BUILDER_INTEGRATIONS_TIMEOUT <= 0:
        raise ImproperlyConfigured("BUILDER_INTEGRATIONS_TIMEOUT must be positive.")


_check()
