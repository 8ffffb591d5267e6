"""Errors of the media providers, in the gateway's error classes (so the queue
retries what may pass: ProviderError and its subclasses are retried, see
canvas/services/queue.py) and with codes that say what happened.

`retryable` is False where another attempt cannot help (a bad key, a voice the
provider no longer has, text over the model's limit, a quota used up): the job
fails at once with its credits released and a message saying what to do.
"""

from __future__ import annotations

from aiplatform.ai.errors import ProviderError, ProviderMisconfigured, ProviderUnavailable
from aiplatform.errors import InvalidInput


class MediaProviderError(ProviderError):
    """The provider refused or failed; `retryable` says whether trying again may help."""

    retryable = True

    def __init__(self, message: str, *, retryable: bool | None = None, **kwargs):
        super().__init__(message, **kwargs)
        if retryable is not None:
            self.retryable = retryable


class MediaBusy(ProviderUnavailable):
    """429 after our retries (ElevenLabs too_many_concurrent_requests / system_busy,
    HeyGen's rate limit): try again later. `extra["retry_after"]` when it said."""

    code = "provider_busy"
    retryable = True


class MediaMisconfigured(ProviderMisconfigured):
    """A key, URL or local tool is missing or wrong: an operator must act."""

    retryable = False


class MediaToolMissing(MediaMisconfigured):
    """espeak-ng or ffmpeg is not installed here."""

    code = "media_tool_missing"


class MediaRejected(MediaProviderError):
    """The provider said no to this request (validation, quota, a missing voice)."""

    retryable = False


class MediaInputInvalid(InvalidInput):
    """Our own check of the input before any provider is asked (400)."""

    retryable = False


def is_retryable(exc: BaseException) -> bool:
    return bool(getattr(exc, "retryable", isinstance(exc, ProviderUnavailable)))
