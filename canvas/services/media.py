"""Generated media: speech from a voice model and avatar video from an avatar
model plus a voice, each a `generated_content` row made by a processing-queue
job (`voice_generation`, `avatar_generation`; canvas/services/queue.py).

* `speech_generate` / `avatar_video_generate` check the models and the script,
  then in one transaction write the content row (pending) and enqueue the job,
  which holds the estimated credits (402 and nothing written when the account
  cannot cover them).
* The job's handler (outside any transaction) marks the row processing, asks
  the media gateway (aiplatform.ai.media.gateway) for the audio and, for video,
  the render (HeyGen is polled; its webhook only wakes the poller), stores the
  file in storage with an expiry (MEDIA_FILE_TTL_DAYS) and completes the row.
  It returns the price, which the queue settles against the hold and adds to
  the gateway's usage record in one transaction.
* A provider failure: the row records the error and the job is retried while
  attempts remain if the error is retryable (busy, 5xx, unreachable), else it
  fails at once; the queue releases the hold either way (nothing charged).
  Cancelled: the row says so; the queue released the hold.
* Concurrency: a job type runs in the queue's pool of the configured provider
  (`elevenlabs`, `heygen`, `offline_media` in CANVAS_PROVIDER_CONCURRENCY). An
  avatar job whose voice is ElevenLabs' also takes an ElevenLabs slot for its
  speech, so ElevenLabs never sees more requests than its pool allows.
* `generated_media_expire` (beat) deletes files past their expiry; the row stays.
"""

from __future__ import annotations

import logging
import tempfile
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Account, Membership
from accounts.tenancy.context import account_context, rls_bypass
from aiplatform.ai.media import gateway
from aiplatform.ai.media.base import SpeechRequest, VideoRequest
from aiplatform.ai.media.errors import MediaBusy, is_retryable
from aiplatform.ai.media.registry import (
    avatar_provider,
    pool_for,
    speech_credits,
    spoken_seconds,
    video_credits,
    voice_provider,
)
from aiplatform.errors import InvalidInput, NotFound, ServiceError
from billing.services.usage import count
from canvas.models import (
    AvatarModel,
    GeneratedContent,
    GeneratedMediaType,
    GeneratedScript,
    JobType,
    Project,
    ProjectPermission,
    TrainingStatus,
    VoiceModel,
    WorkStatus,
)

from ..access import project_require
from . import queue
from .avatar import avatar_photo_path
from .voice import require_member

log = logging.getLogger("canvas.media")
WAKE_KEY = "aip:media:heygen:done:{video_id}"


# --- estimates (the credits a job holds before it runs) --------------------------------------------


def speech_estimate(data: dict) -> Decimal:
    return speech_credits(len(data.get("text", "")))


def avatar_estimate(data: dict) -> Decimal:
    text = data.get("text", "")
    return speech_credits(len(text)) + video_credits(spoken_seconds(text) * 1.25)  # slow speakers


# --- starting a generation --------------------------------------------------------------------------


def _script_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidInput(_("Write what the voice should say."), fields={"text": [_("This field is required.")]})
    if len(text) > settings.MEDIA_MAX_SCRIPT_CHARS:
        raise InvalidInput(
            _("The script has %(n)s characters; at most %(max)s per clip. Split it.")
            % {"n": len(text), "max": settings.MEDIA_MAX_SCRIPT_CHARS},
            fields={"text": [_("Too long.")]}, code="text_too_long",
        )  # fmt: skip
    return text


def _usable_voice(voice: VoiceModel) -> None:
    if voice.training_status != TrainingStatus.COMPLETED:
        raise InvalidInput(
            _("The voice “%(name)s” is %(status)s; only a trained voice can speak. Train it again.")
            % {"name": voice.name, "status": voice.get_training_status_display().lower()},
            fields={"voice_model": [_("Not trained.")]}, code="voice_not_ready",
        )  # fmt: skip
    if not voice.is_active:
        raise InvalidInput(_("Turn the voice on before using it."), fields={"voice_model": [_("Inactive.")]})


def _check_project(actor: Membership, project: Project | None) -> None:
    if project is not None:
        if project.account_id != actor.account_id:
            raise NotFound(_("No such project."))
        project_require(actor, project, ProjectPermission.EDITOR)


def _start(
    *, account: Account, actor: Membership, job_type: str, content_type: str, text: str, voice: VoiceModel,
    avatar: AvatarModel | None, project: Project | None, script: GeneratedScript | None, priority: int,
) -> GeneratedContent:  # fmt: skip
    content_id = uuid.uuid4()  # known before the job, so each row is written once
    with account_context(account.id):  # one transaction (the context opens it)
        job = queue.job_enqueue(
            account=account, job_type=job_type, user=actor.user, priority=priority,
            data={"generated_content_id": str(content_id), "text": text},
        )  # fmt: skip
        content = GeneratedContent.objects.create(
            id=content_id, account=account, project=project, user=actor.user, script=script, voice_model=voice,
            avatar_model=avatar, content_type=content_type, generation_status=WorkStatus.PENDING,
            metadata={"text": text, "voice": voice.name, "avatar": avatar.name if avatar else None,
                      "job_id": str(job.pk)},
        )  # fmt: skip
    return content


def speech_generate(
    *, account: Account, actor: Membership, voice: VoiceModel, text: str, project: Project | None = None,
    script: GeneratedScript | None = None, priority: int = 0,
) -> GeneratedContent:  # fmt: skip
    """An MP3 of `text` in `voice`, made by a `voice_generation` job."""
    require_member(actor, "generate speech")
    text = _script_text(text)
    _usable_voice(voice)
    _check_project(actor, project)
    return _start(
        account=account, actor=actor, job_type=JobType.VOICE_GENERATION, content_type=GeneratedMediaType.AUDIO,
        text=text, voice=voice, avatar=None, project=project, script=script, priority=priority,
    )  # fmt: skip


def avatar_video_generate(
    *, account: Account, actor: Membership, avatar: AvatarModel, voice: VoiceModel, text: str,
    project: Project | None = None, script: GeneratedScript | None = None, priority: int = 0,
) -> GeneratedContent:  # fmt: skip
    """An MP4 of `avatar` saying `text` in `voice`, made by an `avatar_generation` job."""
    require_member(actor, "generate avatar videos")
    text = _script_text(text)
    _usable_voice(voice)
    if avatar.creation_status != WorkStatus.COMPLETED or not avatar.is_active:
        raise InvalidInput(
            _("The avatar “%(name)s” is not ready; create it again or turn it on.") % {"name": avatar.name},
            fields={"avatar_model": [_("Not ready.")]}, code="avatar_not_ready",
        )  # fmt: skip
    avatar_photo_path(avatar)
    _check_project(actor, project)
    return _start(
        account=account, actor=actor, job_type=JobType.AVATAR_GENERATION, content_type=GeneratedMediaType.VIDEO,
        text=text, voice=voice, avatar=avatar, project=project, script=script, priority=priority,
    )  # fmt: skip


# --- the jobs ----------------------------------------------------------------------------------------


def _content_for(ctx: queue.JobContext) -> GeneratedContent:
    """The job's clip, marked processing (one round of the account's context)."""
    with account_context(ctx.job.account_id):
        content = (
            GeneratedContent.objects.select_related("voice_model", "avatar_model", "account")
            .filter(pk=ctx.data.get("generated_content_id"), account=ctx.job.account_id)
            .first()
        )
        if content is not None and content.voice_model is not None:
            GeneratedContent.objects.filter(pk=content.pk).update(
                generation_status=WorkStatus.PROCESSING, processing_started_at=timezone.now(), error_message="",
                updated_at=timezone.now(),
            )  # fmt: skip
    if content is None:
        raise queue.JobFailed(_("The clip this job was making was deleted."), retryable=False)
    if content.voice_model is None or (content.content_type == "video" and content.avatar_model is None):
        _fail(content, _("The voice or avatar of this clip was deleted."))
        raise queue.JobFailed(_("The voice or avatar of this clip was deleted."), retryable=False)
    return content


def _update(content: GeneratedContent, *, in_context: bool = False, **values) -> None:
    """Write `values` to the clip; `in_context`: the caller's transaction already runs as its account."""
    if in_context:
        GeneratedContent.objects.filter(pk=content.pk).update(updated_at=timezone.now(), **values)
        return
    with account_context(content.account_id):
        GeneratedContent.objects.filter(pk=content.pk).update(updated_at=timezone.now(), **values)


def _fail(content: GeneratedContent, message: str, *, final: bool = True) -> None:
    _update(content, generation_status=WorkStatus.FAILED if final else WorkStatus.PENDING, error_message=message[:2000])


def _store(content: GeneratedContent, path: Path, suffix: str) -> tuple[str, int]:
    name = f"canvas/generated/{content.account_id}/{content.pk}{suffix}"
    if default_storage.exists(name):
        default_storage.delete(name)  # a retried job replaces what an earlier attempt left
    with path.open("rb") as handle:
        stored = default_storage.save(name, File(handle, name=PurePosixPath(name).name))
    return stored, path.stat().st_size


def _completion(content: GeneratedContent, stored: str, size: int, seconds: float, price: Decimal, extra: dict):
    """The clip's completion, for `JobResult.finish`: written in the transaction that
    completes (and charges) the job, so a clip is never `completed` while its job
    fails (credits ran out; `_job_failed` marks it failed then)."""

    def finish(charged: Decimal) -> None:
        _complete(content, stored, size, seconds, price, extra, in_context=True)
        count(content.account_id, content.user_id, storage_bytes_used=size,
              **{"avatar_generations" if content.content_type == "video" else "voice_generations": 1})  # fmt: skip

    return finish


def _complete(content: GeneratedContent, stored: str, size: int, seconds: float, price: Decimal, extra: dict,
              *, in_context: bool = False) -> None:  # fmt: skip
    metadata = {**content.metadata, **extra, "duration_exact": round(seconds, 2)}
    _update(
        content, in_context=in_context, generation_status=WorkStatus.COMPLETED, file_path=stored,
        file_url=default_storage.url(stored),
        file_size_bytes=size, duration_seconds=max(1, round(seconds)), processing_completed_at=timezone.now(),
        generation_cost_credits=price, error_message="", metadata=metadata,
        storage_expires_at=timezone.now() + timedelta(days=settings.MEDIA_FILE_TTL_DAYS),
    )  # fmt: skip


def _failure(ctx: queue.JobContext, content: GeneratedContent, exc: ServiceError) -> queue.JobFailed:
    retryable = is_retryable(exc)
    again = retryable and ctx.job.attempts < ctx.job.max_attempts
    _fail(content, exc.message, final=not again)
    return queue.JobFailed(exc.message, retryable=retryable)


def _speak(ctx: queue.JobContext, content: GeneratedContent, workdir: Path):
    voice = content.voice_model
    request = SpeechRequest(voice_id=voice.provider_voice_id, text=ctx.data["text"], workdir=workdir)
    with _slot_for_speech(ctx, voice.provider):
        return gateway.speech(account=content.account, user=ctx.user, provider=voice.provider, request=request,
                              reference=ctx.reference)  # fmt: skip


class _slot_for_speech:
    """An avatar job runs in its renderer's pool; when its voice is another provider's,
    the speech also takes a slot of that provider's pool (waiting up to a minute)."""

    def __init__(self, ctx: queue.JobContext, provider: str):
        own = ctx.spec.provider
        self.pool = pool_for(provider) if pool_for(provider) != own else None
        self.ctx, self.key = ctx, f"{ctx.job.pk}:speech"

    def __enter__(self):
        if self.pool is None:
            return self
        deadline = time.monotonic() + 60
        while not queue.slot_acquire(self.ctx.store, self.pool, self.key):
            if time.monotonic() > deadline:
                raise MediaBusy(
                    _("Every %(pool)s slot stayed busy for a minute; the job is retried later.") % {"pool": self.pool}
                )
            self.ctx.progress(5)
            time.sleep(0.5)
        return self

    def __exit__(self, *exc):
        if self.pool is not None:
            queue.slot_release(self.ctx.store, self.pool, self.key)


def voice_job(ctx: queue.JobContext) -> queue.JobResult:
    content = _content_for(ctx)
    try:
        with tempfile.TemporaryDirectory(prefix="speech-") as tmp:
            spoken = _speak(ctx, content, Path(tmp))
            stored, size = _store(content, spoken.audio.path, ".mp3")
    except queue.JobCancelled:
        _fail(content, _("Cancelled."))
        raise
    except ServiceError as exc:
        raise _failure(ctx, content, exc) from exc
    finish = _completion(content, stored, size, spoken.audio.duration_seconds, spoken.price,
                         {"provider": content.voice_model.provider, "model": spoken.audio.model,
                          "characters": spoken.audio.characters})  # fmt: skip
    return queue.JobResult(
        credits=spoken.price, usage_record_id=spoken.usage_record_id, provider=content.voice_model.provider,
        output={"generated_content_id": str(content.pk)}, finish=finish,
    )  # fmt: skip


def _wake(video_id_box: list[str]):
    def woken() -> bool:
        if not video_id_box:
            return False
        return bool(queue.redis_client().exists(WAKE_KEY.format(video_id=video_id_box[0])))

    return woken


def avatar_job(ctx: queue.JobContext) -> queue.JobResult:
    content = _content_for(ctx)
    avatar = content.avatar_model
    ctx.progress(5)
    video_id: list[str] = []
    try:
        with tempfile.TemporaryDirectory(prefix="avatar-") as tmp:
            workdir = Path(tmp)
            spoken = _speak(ctx, content, workdir)
            ctx.progress(30)
            photo = workdir / f"face{PurePosixPath(avatar_photo_path(avatar)).suffix or '.png'}"
            with default_storage.open(avatar_photo_path(avatar), "rb") as handle:
                photo.write_bytes(handle.read())
            width, height = (int(v) for v in settings.MEDIA_OFFLINE_VIDEO_SIZE.split("x"))
            request = VideoRequest(
                avatar_id=avatar.heygen_avatar_id, audio=spoken.audio.path, workdir=workdir, photo=photo,
                title=content.metadata.get("text", "")[:60], callback_id=str(ctx.job.pk), width=width, height=height,
            )  # fmt: skip
            started = time.monotonic()

            def progress() -> None:  # 30 -> 90 over the render, for a live bar
                waited = time.monotonic() - started
                ctx.progress(30 + min(60, int(60 * waited / max(waited + 60, 1))))

            rendered = gateway.video_render(
                account=content.account, user=ctx.user, provider=avatar.provider, request=request,
                reference=ctx.reference, progress=progress, wake=_wake(video_id),
                on_started=lambda job: (video_id.append(job.video_id), _update(
                    content, metadata={**content.metadata, "provider_video_id": job.video_id})),
            )  # fmt: skip
            ctx.progress(92)
            stored, size = _store(content, rendered.path, ".mp4")
    except queue.JobCancelled:
        _fail(content, _("Cancelled."))
        raise
    except ServiceError as exc:
        raise _failure(ctx, content, exc) from exc
    price = spoken.price + rendered.price
    seconds = rendered.duration_seconds or spoken.audio.duration_seconds
    finish = _completion(content, stored, size, seconds, price,
                         {"provider": avatar.provider, "voice_provider": content.voice_model.provider,
                          "provider_video_id": rendered.video_id})  # fmt: skip
    return queue.JobResult(credits=price, usage_record_id=rendered.usage_record_id, provider=avatar.provider,
                           output={"generated_content_id": str(content.pk)}, finish=finish)  # fmt: skip


def _job_failed(row, message: str) -> None:
    """The queue failed or cancelled the job (in its transaction): a clip still pending
    or processing says so (credits ran out at the end, the sweep gave up on a dead worker)."""
    content_id = (row.job_data or {}).get("generated_content_id")
    if content_id:
        GeneratedContent.objects.filter(
            pk=content_id, account=row.account_id,
            generation_status__in=(WorkStatus.PENDING, WorkStatus.PROCESSING),
        ).update(generation_status=WorkStatus.FAILED, error_message=_(message)[:2000],
                 updated_at=timezone.now())  # fmt: skip


def register() -> None:
    """Register the two job types in the pools of the configured providers."""
    queue.register_job_type(JobType.VOICE_GENERATION, voice_job, provider=pool_for(voice_provider()),
                            estimate=speech_estimate, feature="speech", on_fail=_job_failed)  # fmt: skip
    queue.register_job_type(JobType.AVATAR_GENERATION, avatar_job, provider=pool_for(avatar_provider()),
                            estimate=avatar_estimate, feature="avatar", on_fail=_job_failed)  # fmt: skip


# --- HeyGen's webhook, expiry ----------------------------------------------------------------------------


def heygen_webhook_received(payload: dict) -> bool:
    """`avatar_video.success` / `.fail`: wake the job polling that video (it asks the
    status endpoint itself, so a forged call changes nothing but an early poll)."""
    data = payload.get("event_data") if isinstance(payload, dict) else None
    video_id = data.get("video_id") if isinstance(data, dict) else None
    if not isinstance(video_id, str) or not video_id or len(video_id) > 128:
        return False
    queue.redis_client().set(WAKE_KEY.format(video_id=video_id), "1", ex=3600)
    return True


def generated_media_expire(*, now=None, batch: int = 500) -> int:
    """Delete the files of generated media past their storage expiry (platform sweep)."""
    now = now or timezone.now()
    with rls_bypass("generated media expiry sweep: files past their expiry, across accounts"):
        due = list(
            GeneratedContent.objects.filter(storage_expires_at__lte=now)
            .exclude(file_path="")
            .values_list("pk", "account_id", "file_path")[:batch]
        )
    for pk, account_id, path in due:
        default_storage.delete(path)
        with account_context(account_id):
            content = GeneratedContent.objects.filter(pk=pk).first()
            if content is not None:
                content.metadata = {**content.metadata, "expired_at": now.isoformat()}
                content.file_path = content.file_url = ""
                content.save(update_fields=["file_path", "file_url", "metadata", "updated_at"])
    return len(due)
