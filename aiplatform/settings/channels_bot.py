"""Settings of the channel bot (channels_bot): platform endpoints, app credentials,
webhooks, limits and timing. Every one is read from the environment (`.env`).

- Every platform URL is a setting, so the tests point them at the fake platform
  server on loopback (tests/support/fake_platform.py); the defaults are the
  platforms' production endpoints.
- A connect flow whose credentials are empty is shown with its "Connect" button
  disabled and the variables to set (`services/connect.py` FLOWS): Facebook and
  Instagram through a Page need META_APP_ID and META_APP_SECRET; Instagram Login
  INSTAGRAM_APP_ID and INSTAGRAM_APP_SECRET; X (only with CHANNELS_X_ENABLED)
  X_CLIENT_ID, X_CONSUMER_KEY and X_CONSUMER_SECRET; LinkedIn
  LINKEDIN_CLIENT_ID, LINKEDIN_CLIENT_SECRET and LINKEDIN_APP_ID.
- A webhook endpoint whose secret is empty (META_APP_SECRET, X_CONSUMER_SECRET,
  LINKEDIN_CLIENT_SECRET; META_VERIFY_TOKEN for Meta's handshake) answers 403
  and stores nothing.
- X and LinkedIn are told our webhook address when a channel connects:
  CHANNELS_WEBHOOK_BASE_URL (empty: SITE_URL) + /webhooks/<x|linkedin>/; Meta's
  address is set once in the app's dashboard.
- A malformed value (a URL that is not http(s), a non-positive limit, a
  LinkedIn version that is not YYYYMM) stops the boot with ImproperlyConfigured.
"""

from __future__ import annotations

import re

import environ
from django.core.exceptions import ImproperlyConfigured

env = environ.Env()

# --- Meta (Facebook Pages, Instagram through a Page) ------------------------------
META_APP_ID = env("META_APP_ID", default="")  # Facebook Login; an echo with another app_id is a human (handoff)
META_APP_SECRET = env("META_APP_SECRET", default="")  # Facebook Login, and X-Hub-Signature-256 of the webhooks
META_VERIFY_TOKEN = env("META_VERIFY_TOKEN", default="")  # the hub.verify_token of the webhook handshake
META_GRAPH_URL = env("META_GRAPH_URL", default="https://graph.facebook.com/v25.0")
META_OAUTH_DIALOG_URL = env("META_OAUTH_DIALOG_URL", default="https://www.facebook.com/v25.0/dialog/oauth")
# The Page Inbox app: where the Messenger handover protocol passes a thread for a human.
META_PAGE_INBOX_APP_ID = env("META_PAGE_INBOX_APP_ID", default="263902037430900")
# Outside the 24 h window an agent may still answer for 7 days with the HUMAN_AGENT tag
# (needs Meta's Human Agent permission): off until the app has it.
META_HUMAN_AGENT_TAG = env.bool("META_HUMAN_AGENT_TAG", default=False)

# --- Instagram Login (Instagram business account without a Page) -----------------
INSTAGRAM_APP_ID = env("INSTAGRAM_APP_ID", default="")
INSTAGRAM_APP_SECRET = env("INSTAGRAM_APP_SECRET", default="")  # the code and 60-day token exchanges
INSTAGRAM_AUTHORIZE_URL = env("INSTAGRAM_AUTHORIZE_URL", default="https://api.instagram.com/oauth/authorize")
INSTAGRAM_TOKEN_URL = env("INSTAGRAM_TOKEN_URL", default="https://api.instagram.com/oauth/access_token")
INSTAGRAM_GRAPH_URL = env("INSTAGRAM_GRAPH_URL", default="https://graph.instagram.com/v22.0")
# Long-lived Instagram tokens last 60 days; beat refreshes those expiring within this many days.
INSTAGRAM_REFRESH_BEFORE_DAYS = env.int("INSTAGRAM_REFRESH_BEFORE_DAYS", default=10)

# --- X (behind a flag: its API access is paid and its DM webhooks are changing) ---
CHANNELS_X_ENABLED = env.bool("CHANNELS_X_ENABLED", default=False)
X_CLIENT_ID = env("X_CLIENT_ID", default="")
X_CLIENT_SECRET = env("X_CLIENT_SECRET", default="")  # empty: a public OAuth 2.0 client (PKCE alone)
X_CONSUMER_KEY = env("X_CONSUMER_KEY", default="")  # the app's API key: its bearer token registers the webhook
X_CONSUMER_SECRET = env("X_CONSUMER_SECRET", default="")  # CRC answers and x-twitter-webhooks-signature
X_AUTHORIZE_URL = env("X_AUTHORIZE_URL", default="https://x.com/i/oauth2/authorize")
X_API_URL = env("X_API_URL", default="https://api.x.com")

# --- LinkedIn Pages (Community Management API: comments and mentions only) --------
LINKEDIN_CLIENT_ID = env("LINKEDIN_CLIENT_ID", default="")
LINKEDIN_CLIENT_SECRET = env("LINKEDIN_CLIENT_SECRET", default="")  # webhook challenge and X-LI-Signature
LINKEDIN_APP_ID = env("LINKEDIN_APP_ID", default="")  # the developer application's id (event subscriptions)
LINKEDIN_OAUTH_URL = env("LINKEDIN_OAUTH_URL", default="https://www.linkedin.com/oauth/v2")
LINKEDIN_API_URL = env("LINKEDIN_API_URL", default="https://api.linkedin.com")
LINKEDIN_VERSION = env("LINKEDIN_VERSION", default="202511")  # the LinkedIn-Version header (YYYYMM)

# --- Webhooks ---------------------------------------------------------------------
# Where the platforms push events: this origin + /webhooks/<meta|x|linkedin>/ (empty: SITE_URL).
# X and LinkedIn are told it when a channel connects (X requires https).
CHANNELS_WEBHOOK_BASE_URL = env("CHANNELS_WEBHOOK_BASE_URL", default="")

# --- Limits and timing ------------------------------------------------------------
CHANNELS_WEBHOOK_MAX_BYTES = env.int("CHANNELS_WEBHOOK_MAX_BYTES", default=1_048_576)  # larger deliveries: 413
CHANNELS_HTTP_TIMEOUT = env.float("CHANNELS_HTTP_TIMEOUT", default=10.0)  # seconds per platform API call
CHANNELS_SEND_MAX_RETRIES = env.int("CHANNELS_SEND_MAX_RETRIES", default=5)  # throttled or transient sends
CHANNELS_SEND_RETRY_BACKOFF = env.float("CHANNELS_SEND_RETRY_BACKOFF", default=2.0)  # first wait, doubling
CHANNELS_BOT_WINDOW_HOURS = env.int("CHANNELS_BOT_WINDOW_HOURS", default=24)  # the bot answers within this
CHANNELS_AGENT_WINDOW_DAYS = env.int("CHANNELS_AGENT_WINDOW_DAYS", default=7)  # HUMAN_AGENT tag window
# The registry chat model of every bot answer, over the persona's; empty: the persona's, else AI_DEFAULT_CHAT_MODEL.
CHANNELS_BOT_MODEL = env("CHANNELS_BOT_MODEL", default="")
# Meaning search of the catalog: the largest cosine distance between a customer's message and
# a product (default embedding model) that still counts as a match; 0 turns it off. With
# all-MiniLM-L6-v2, "something to drink tea from" is 0.59 from a mug, chit-chat 0.75 and more.
CHANNELS_PRODUCT_MAX_DISTANCE = env.float("CHANNELS_PRODUCT_MAX_DISTANCE", default=0.65)


def _problems() -> list[str]:
    found = []
    urls = {
        "META_GRAPH_URL": META_GRAPH_URL, "META_OAUTH_DIALOG_URL": META_OAUTH_DIALOG_URL,
        "INSTAGRAM_AUTHORIZE_URL": INSTAGRAM_AUTHORIZE_URL, "INSTAGRAM_TOKEN_URL": INSTAGRAM_TOKEN_URL,
        "INSTAGRAM_GRAPH_URL": INSTAGRAM_GRAPH_URL, "X_AUTHORIZE_URL": X_AUTHORIZE_URL, "X_API_URL": X_API_URL,
        "LINKEDIN_OAUTH_URL": LINKEDIN_OAUTH_URL, "LINKEDIN_API_URL": LINKEDIN_API_URL,
    }  # fmt: skip
    if CHANNELS_WEBHOOK_BASE_URL:
        urls["CHANNELS_WEBHOOK_BASE_URL"] = CHANNELS_WEBHOOK_BASE_URL
    found += [f"{name} must be an http(s) URL, not {value!r}" for name, value in urls.items()
              if not re.match(r"^https?://[^/\s]+", value)]  # fmt: skip
    if not re.fullmatch(r"\d{6}", LINKEDIN_VERSION):
        found.append(f"LINKEDIN_VERSION must be YYYYMM (such as 202511), not {LINKEDIN_VERSION!r}")
    positive = {
        "CHANNELS_WEBHOOK_MAX_BYTES": CHANNELS_WEBHOOK_MAX_BYTES, "CHANNELS_HTTP_TIMEOUT": CHANNELS_HTTP_TIMEOUT,
        "CHANNELS_SEND_RETRY_BACKOFF": CHANNELS_SEND_RETRY_BACKOFF,
        "CHANNELS_BOT_WINDOW_HOURS": CHANNELS_BOT_WINDOW_HOURS,
        "CHANNELS_AGENT_WINDOW_DAYS": CHANNELS_AGENT_WINDOW_DAYS,
        "INSTAGRAM_REFRESH_BEFORE_DAYS": INSTAGRAM_REFRESH_BEFORE_DAYS,
    }  # fmt: skip
    found += [f"{name} must be positive, not {value}" for name, value in positive.items() if value <= 0]
    if CHANNELS_SEND_MAX_RETRIES < 0:
        found.append(f"CHANNELS_SEND_MAX_RETRIES must be 0 or more, not {CHANNELS_SEND_MAX_RETRIES}")
    if not 0 <= CHANNELS_PRODUCT_MAX_DISTANCE <= 2:
        found.append(f"CHANNELS_PRODUCT_MAX_DISTANCE is a cosine distance, 0 to 2, not {CHANNELS_PRODUCT_MAX_DISTANCE}")
    return found


if _problems():
    raise ImproperlyConfigured("Channel bot settings: " + "; ".join(_problems()))
