"""The metered entry points of the media interface. Apps call these, never a
provider directly.

    voice_clone(account=, provider=, request=, user=None, reference=) -> VoiceCloneResult
    speech(account=, provider=, request=, user=None, reference=) -> Spoken
    avatar_create(account=, provider=, request=, user=None, reference=) -> AvatarCreateResult
    video_render(account=, provider=, request=, user=None, reference=, progress=None,
                 wake=None) -> Rendered

Each call checks the account's emergency shut-off first (403, like every AI
call), then that the provider can work here (a missing key or tool is a 503
that says what to set or install), then calls the provider and writes one
billing usage record, ok or failed: feature `voice_clone`, `speech`,
`avatar_create` or `avatar` (speech and avatar count as the account's daily
voice and avatar generations), model `<provider>:<model>`, the provider's cost
in USD, latency. The record carries 0 credits: the caller charges (the
processing queue settles its hold with `price` and adds it to this record with
billing.services.usage.usage_charge_add, in one transaction).

`video_render` waits for a hosted render: it polls `video_status` every
MEDIA_HEYGEN_POLL_SECONDS (sooner when `wake()` says a webhook arrived), calls
`progress()` between polls (which raises to stop: a cancelled job), gives up
after MEDIA_HEYGEN_MAX_WAIT_SECONDS, and downloads the result (its URL expires).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from accounts.models import Account
from billing.services.ledger import NO_REFERENCE, Reference
from billing.services.usage import usage_record

from ..guard import call_guard
from .base import (
    AudioResult,
    AvatarCreateRequest,
    AvatarCreateResult,
    SpeechRequest,
    VideoJob,
    VideoRequest,
    VideoState,
    VoiceCloneRequest,
    VoiceCloneResult,
)
from .errors import MediaMisconfigured, MediaProviderError, MediaToolMissing
from .registry import media_provider, speech_cost, speech_credits, video_cost, video_credits

OK, ERROR = "ok", "error"


@dataclass(frozen=True)
class Spoken:
    audio: AudioResult
    price: Decimal  # credits the speech is priced at (the caller charges)
    provider_cost: Decimal
    usage_record_id: Any


@dataclass(frozen=True)
class Rendered:
    path: Path
    duration_seconds: float
    video_id: str
    price: Decimal
    provider_cost: Decimal
    usage_record_id: Any


def _ready(name: str, *, speaks: bool = False, renders: bool = False):
    provider = media_provider(name)
    if (speaks and not provider.speaks) or (renders and not provider.renders):
        raise MediaMisconfigured(
            (_("%(provider)s does not speak.") if speaks else _("%(provider)s does not render video."))
            % {"provider": provider.label}
        )
    reason = provider.unavailable_reason()
    if reason:
        error = MediaToolMissing if name == "offline" else MediaMisconfigured
        raise error(reason)
    return provider


def _meter(
    *, account: Account, user, provider: str, model: str, feature: str, reference: Reference, started: float,
    status: str, error: str = "", cost: Decimal = Decimal("0"), generation: bool = False,
):  # fmt: skip
    record = usage_record(
        account=account, user=user, feature=feature, model=f"{provider}:{model}"[:100], provider=provider,
        provider_cost=cost, credits=0, latency_ms=int((time.perf_counter() - started) * 1000),
        status=status, error=error[:2000], reference=reference, generation=generation,
    )  # fmt: skip
    return record.id


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {getattr(exc, 'message', exc)}"


def voice_clone(
    *, account: Account, provider: str, request: VoiceCloneRequest, user=None, reference: Reference = NO_REFERENCE
) -> VoiceCloneResult:
    call_guard(account=account)
    engine, started = _ready(provider, speaks=True), time.perf_counter()
    try:
        result = engine.voice_clone(request)
    except Exception as exc:
        _meter(account=account, user=user, provider=provider, model="voice-clone", feature="voice_clone",
               reference=reference, started=started, status=ERROR, error=_error_text(exc))  # fmt: skip
        raise
    _meter(account=account, user=user, provider=provider, model="voice-clone", feature="voice_clone",
           reference=reference, started=started, status=OK)  # fmt: skip
    return result


def speech(
    *, account: Account, provider: str, request: SpeechRequest, user=None, reference: Reference = NO_REFERENCE
) -> Spoken:
    call_guard(account=account)
    engine, started = _ready(provider, speaks=True), time.perf_counter()
    try:
        audio = engine.speech(request)
    except Exception as exc:
        _meter(account=account, user=user, provider=provider, model=request.model or "default", feature="speech",
               reference=reference, started=started, status=ERROR, error=_error_text(exc))  # fmt: skip
        raise
    cost = speech_cost(provider, audio.characters)
    record_id = _meter(
        account=account, user=user, provider=provider, model=audio.model, feature="speech", reference=reference,
        started=started, status=OK, cost=cost, generation=True,
    )  # fmt: skip
    return Spoken(audio=audio, price=speech_credits(audio.characters), provider_cost=cost, usage_record_id=record_id)


def avatar_create(
    *, account: Account, provider: str, request: AvatarCreateRequest, user=None, reference: Reference = NO_REFERENCE
) -> AvatarCreateResult:
    call_guard(account=account)
    engine, started = _ready(provider, renders=True), time.perf_counter()
    try:
        result = engine.avatar_create(request)
    except Exception as exc:
        _meter(account=account, user=user, provider=provider, model="photo-avatar", feature="avatar_create",
               reference=reference, started=started, status=ERROR, error=_error_text(exc))  # fmt: skip
        raise
    _meter(account=account, user=user, provider=provider, model="photo-avatar", feature="avatar_create",
           reference=reference, started=started, status=OK)  # fmt: skip
    return result


def _wait(engine, job: VideoJob, progress: Callable[[], None] | None, wake: Callable[[], bool] | None) -> VideoJob:
    deadline = time.monotonic() + settings.MEDIA_HEYGEN_MAX_WAIT_SECONDS
    while not job.done:
        next_poll = time.monotonic() + settings.MEDIA_HEYGEN_POLL_SECONDS
        while time.monotonic() < next_poll:
            if progress is not None:
                progress()
            if wake is not None and wake():
                break
            time.sleep(min(1.0, settings.MEDIA_HEYGEN_POLL_SECONDS))
        if time.monotonic() > deadline:
            raise MediaProviderError(
                _(
                    "%(engine)s did not finish the video within %(seconds)s s "
                    "(MEDIA_HEYGEN_MAX_WAIT_SECONDS); video %(video)s."
                )
                % {
                    "engine": engine.label,
                    "seconds": format(settings.MEDIA_HEYGEN_MAX_WAIT_SECONDS, "g"),
                    "video": job.video_id,
                },
                retryable=False,
            )
        job = engine.video_status(job.video_id)
    return job


def video_render(
    *,
    account: Account,
    provider: str,
    request: VideoRequest,
    user=None,
    reference: Reference = NO_REFERENCE,
    progress: Callable[[], None] | None = None,
    wake: Callable[[], bool] | None = None,
    on_started: Callable[[VideoJob], None] | None = None,
) -> Rendered:
    call_guard(account=account)
    engine, started = _ready(provider, renders=True), time.perf_counter()
    model = "mouth-flap" if provider == "offline" else "talking-photo-v2"
    try:
        job = engine.video_start(request)
        if on_started is not None:
            on_started(job)
        job = _wait(engine, job, progress, wake)
        if job.status == VideoState.FAILED:
            raise MediaProviderError(
                _("%(engine)s could not render the video (%(code)s: %(reason)s).")
                % {
                    "engine": engine.label,
                    "code": job.failure_code or "failed",
                    "reason": job.failure_message or _("no reason given"),
                },
                retryable=False,
            )
        path = engine.video_download(job, request.workdir)
    except Exception as exc:
        _meter(account=account, user=user, provider=provider, model=model, feature="avatar", reference=reference,
               started=started, status=ERROR, error=_error_text(exc))  # fmt: skip
        raise
    seconds = job.duration_seconds or 0.0
    cost = video_cost(provider, seconds)
    record_id = _meter(
        account=account, user=user, provider=provider, model=model, feature="avatar", reference=reference,
        started=started, status=OK, cost=cost, generation=True,
    )  # fmt: skip
    return Rendered(
        path=path, duration_seconds=seconds, video_id=job.video_id, price=video_credits(seconds),
        provider_cost=cost, usage_record_id=record_id,
    )  # fmt: skip
