"""Settings of the gateway's media interface (aiplatform/ai/media/): speech, voice
clones and avatar video. Every one is read from the environment (`.env`).

- `MEDIA_VOICE_PROVIDER` / `MEDIA_AVATAR_PROVIDER` choose who makes new voice and
  avatar models: `offline` (espeak-ng + ffmpeg on this machine, the default),
  `elevenlabs` (voices) and `heygen` (avatars). A model keeps the provider it
  was made with.
- The hosted providers' URLs are settings, so the tests point them at a fake on
  loopback (tests/support/fake_media.py); the defaults are production.
- Concurrency is the processing queue's (CANVAS_PROVIDER_CONCURRENCY, pools
  `elevenlabs`, `heygen`, `offline_media`): ElevenLabs limits concurrent
  requests per plan (Free 2, Starter 3, Creator 5, Pro 10, Scale/Business 15),
  so set its pool to your plan's figure.
- Prices are what we charge (credits) and what it costs us (USD), per unit:
  1,000 characters of speech, one minute of avatar video.
"""

from __future__ import annotations

import re

import environ
from django.core.exceptions import ImproperlyConfigured

env = environ.Env()

MEDIA_VOICE_PROVIDER = env("MEDIA_VOICE_PROVIDER", default="offline")
MEDIA_AVATAR_PROVIDER = env("MEDIA_AVATAR_PROVIDER", default="offline")

# --- ElevenLabs (instant voice clone, text to speech) ------------------------------
MEDIA_ELEVENLABS_BASE_URL = env("MEDIA_ELEVENLABS_BASE_URL", default="https://api.elevenlabs.io")
MEDIA_ELEVENLABS_API_KEY = env("MEDIA_ELEVENLABS_API_KEY", default="")
MEDIA_ELEVENLABS_MODEL = env("MEDIA_ELEVENLABS_MODEL", default="eleven_multilingual_v2")
MEDIA_ELEVENLABS_OUTPUT_FORMAT = env("MEDIA_ELEVENLABS_OUTPUT_FORMAT", default="mp3_44100_128")
MEDIA_ELEVENLABS_USD_PER_1K_CHARS = env.float("MEDIA_ELEVENLABS_USD_PER_1K_CHARS", default=0.30)

# --- HeyGen (photo avatar, avatar video) -------------------------------------------
MEDIA_HEYGEN_BASE_URL = env("MEDIA_HEYGEN_BASE_URL", default="https://api.heygen.com")
MEDIA_HEYGEN_UPLOAD_URL = env("MEDIA_HEYGEN_UPLOAD_URL", default="https://upload.heygen.com")
MEDIA_HEYGEN_API_KEY = env("MEDIA_HEYGEN_API_KEY", default="")
MEDIA_HEYGEN_POLL_SECONDS = env.float("MEDIA_HEYGEN_POLL_SECONDS", default=15.0)  # between status checks
MEDIA_HEYGEN_MAX_WAIT_SECONDS = env.float("MEDIA_HEYGEN_MAX_WAIT_SECONDS", default=3600.0)  # then the job fails
MEDIA_HEYGEN_USD_PER_MINUTE = env.float("MEDIA_HEYGEN_USD_PER_MINUTE", default=0.99)  # Pro: $99 / 100 credits

# --- Offline (espeak-ng + ffmpeg from imageio-ffmpeg) -------------------------------
MEDIA_ESPEAK_BINARY = env("MEDIA_ESPEAK_BINARY", default="espeak-ng")
MEDIA_ESPEAK_VOICE = env("MEDIA_ESPEAK_VOICE", default="en-us")
MEDIA_ESPEAK_RATE = env.int("MEDIA_ESPEAK_RATE", default=160)  # words per minute
MEDIA_OFFLINE_VIDEO_SIZE = env("MEDIA_OFFLINE_VIDEO_SIZE", default="720x1280")  # portrait, as short videos are

# --- Shared ---------------------------------------------------------------------------
MEDIA_HTTP_TIMEOUT = env.float("MEDIA_HTTP_TIMEOUT", default=120.0)  # seconds per provider request
MEDIA_TOOL_TIMEOUT = env.float("MEDIA_TOOL_TIMEOUT", default=300.0)  # seconds per espeak-ng / ffmpeg run
MEDIA_MAX_SCRIPT_CHARS = env.int("MEDIA_MAX_SCRIPT_CHARS", default=10_000)  # Multilingual v2's per-request limit
MEDIA_FILE_TTL_DAYS = env.int("MEDIA_FILE_TTL_DAYS", default=30)  # generated files are deleted after this
MEDIA_SPEECH_CREDITS_PER_1K_CHARS = env.float("MEDIA_SPEECH_CREDITS_PER_1K_CHARS", default=2.0)
MEDIA_AVATAR_CREDITS_PER_MINUTE = env.float("MEDIA_AVATAR_CREDITS_PER_MINUTE", default=20.0)


def _problems() -> list[str]:
    found = []
    if MEDIA_VOICE_PROVIDER not in ("offline", "elevenlabs"):
        found.append(f"MEDIA_VOICE_PROVIDER must be offline or elevenlabs, not {MEDIA_VOICE_PROVIDER!r}")
    if MEDIA_AVATAR_PROVIDER not in ("offline", "heygen"):
        found.append(f"MEDIA_AVATAR_PROVIDER must be offline or heygen, not {MEDIA_AVATAR_PROVIDER!r}")
    urls = {
        "MEDIA_ELEVENLABS_BASE_URL": MEDIA_ELEVENLABS_BASE_URL, "MEDIA_HEYGEN_BASE_URL": MEDIA_HEYGEN_BASE_URL,
        "MEDIA_HEYGEN_UPLOAD_URL": MEDIA_HEYGEN_UPLOAD_URL,
    }  # fmt: skip
    found += [f"{name} must be an http(s) URL, not {value!r}" for name, value in urls.items()
              if not re.match(r"^https?://[^/\s]+", value)]  # fmt: skip
    positive = {
        "MEDIA_HEYGEN_POLL_SECONDS": MEDIA_HEYGEN_POLL_SECONDS,
        "MEDIA_HEYGEN_MAX_WAIT_SECONDS": MEDIA_HEYGEN_MAX_WAIT_SECONDS, "MEDIA_HTTP_TIMEOUT": MEDIA_HTTP_TIMEOUT,
        "MEDIA_TOOL_TIMEOUT": MEDIA_TOOL_TIMEOUT, "MEDIA_MAX_SCRIPT_CHARS": MEDIA_MAX_SCRIPT_CHARS,
        "MEDIA_FILE_TTL_DAYS": MEDIA_FILE_TTL_DAYS, "MEDIA_ESPEAK_RATE": MEDIA_ESPEAK_RATE,
    }  # fmt: skip
    found += [f"{name} must be positive, not {value}" for name, value in positive.items() if value <= 0]
    prices = {
        "MEDIA_SPEECH_CREDITS_PER_1K_CHARS": MEDIA_SPEECH_CREDITS_PER_1K_CHARS,
        "MEDIA_AVATAR_CREDITS_PER_MINUTE": MEDIA_AVATAR_CREDITS_PER_MINUTE,
        "MEDIA_ELEVENLABS_USD_PER_1K_CHARS": MEDIA_ELEVENLABS_USD_PER_1K_CHARS,
        "MEDIA_HEYGEN_USD_PER_MINUTE": MEDIA_HEYGEN_USD_PER_MINUTE,
    }  # fmt: skip
    found += [f"{name} cannot be negative, not {value}" for name, value in prices.items() if value < 0]
    if not re.fullmatch(r"\d{2,4}x\d{2,4}", MEDIA_OFFLINE_VIDEO_SIZE):
        found.append(
            f"MEDIA_OFFLINE_VIDEO_SIZE must be WIDTHxHEIGHT (such as 720x1280), not {MEDIA_OFFLINE_VIDEO_SIZE!r}"
        )
    return found


if _problems():
    raise ImproperlyConfigured("Media settings: " + "; ".join(_problems()))
