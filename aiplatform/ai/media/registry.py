"""Which media providers exist, which one makes new voices and avatars, the
processing queue's concurrency pool of each, and what media costs.

Prices (settings, per unit; ADR 0009 "Media"):
    speech  credits = characters / 1000 x MEDIA_SPEECH_CREDITS_PER_1K_CHARS
    avatar  credits = billed minutes x MEDIA_AVATAR_CREDITS_PER_MINUTE, where
            billed minutes round the video up to 30-second steps (HeyGen's)
rounded half-up to the ledger's 4 places. Provider cost in USD likewise:
ElevenLabs per 1,000 characters, HeyGen per billed minute, offline nothing.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.utils.translation import gettext as _

from .base import MediaProvider
from .elevenlabs import ElevenLabs
from .heygen import HeyGen
from .offline import Offline

_PROVIDERS: dict[str, MediaProvider] = {p.name: p for p in (Offline(), ElevenLabs(), HeyGen())}
# The processing queue's concurrency pools (CANVAS_PROVIDER_CONCURRENCY).
POOLS = {"offline": "offline_media", "elevenlabs": "elevenlabs", "heygen": "heygen"}
CREDIT_QUANTUM = Decimal("0.0001")
COST_QUANTUM = Decimal("0.000001")
WORDS_PER_SECOND = Decimal("2.6")  # about 160 words a minute, espeak-ng's default rate and a brisk human one


def provider_names() -> list[str]:
    return list(_PROVIDERS)


def media_provider(name: str) -> MediaProvider:
    from .errors import MediaMisconfigured

    try:
        return _PROVIDERS[name]
    except KeyError:
        raise MediaMisconfigured(
            _("There is no media provider '%(name)s'; known: %(known)s.")
            % {"name": name, "known": ", ".join(_PROVIDERS)}
        ) from None


def voice_provider() -> str:
    """The provider that makes new voice models (MEDIA_VOICE_PROVIDER)."""
    return settings.MEDIA_VOICE_PROVIDER


def avatar_provider() -> str:
    """The provider that makes new avatar models (MEDIA_AVATAR_PROVIDER)."""
    return settings.MEDIA_AVATAR_PROVIDER


def pool_for(provider: str) -> str:
    return POOLS.get(provider, provider)


def _credits(value: Decimal) -> Decimal:
    return value.quantize(CREDIT_QUANTUM, rounding=ROUND_HALF_UP)


def billed_minutes(seconds: float) -> Decimal:
    return Decimal(math.ceil(max(seconds, 0.001) / 30)) / 2


def speech_credits(characters: int) -> Decimal:
    return _credits(Decimal(characters) / 1000 * Decimal(str(settings.MEDIA_SPEECH_CREDITS_PER_1K_CHARS)))


def speech_cost(provider: str, characters: int) -> Decimal:
    if provider != "elevenlabs":
        return Decimal("0")
    rate = Decimal(str(settings.MEDIA_ELEVENLABS_USD_PER_1K_CHARS))
    return (Decimal(characters) / 1000 * rate).quantize(COST_QUANTUM, rounding=ROUND_HALF_UP)


def video_credits(seconds: float) -> Decimal:
    return _credits(billed_minutes(seconds) * Decimal(str(settings.MEDIA_AVATAR_CREDITS_PER_MINUTE)))


def video_cost(provider: str, seconds: float) -> Decimal:
    if provider != "heygen":
        return Decimal("0")
    rate = Decimal(str(settings.MEDIA_HEYGEN_USD_PER_MINUTE))
    return (billed_minutes(seconds) * rate).quantize(COST_QUANTUM, rounding=ROUND_HALF_UP)


def spoken_seconds(text: str) -> float:
    """An estimate of how long `text` takes to say (for the credits held before a job runs)."""
    return float(Decimal(len(text.split())) / WORDS_PER_SECOND)
