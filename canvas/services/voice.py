"""Voice models: a voice cloned from sample audio by the media gateway
(aiplatform.ai.media: ElevenLabs' instant voice clone, or the offline engine),
within the plan's `voice_model_limit`.

* Active voice models count toward the limit; past it a 409
  `plan_limit_reached` and nothing is stored (an advisory lock per account
  serialises creations, so two at once cannot both take the last slot).
* Creating a voice with the name of an existing one makes its next version
  (`version_number` + 1) and retires the older versions (inactive), so a
  retrained voice does not take a second slot.
* Samples land in storage first (canvas/voices/<account>/<voice>/), then the
  provider trains: `training_status` pending -> training -> completed (with the
  provider's voice id, a quality score, the seconds it took). When the samples
  are refused or the provider fails, nothing stays (row and files) and the
  error says why; `voice_model_train` trains a stored voice again (a failed
  one, or after a change of provider).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import PurePosixPath

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import Max
from django.utils.translation import gettext

from accounts.models import Account, Membership, Role
from accounts.tenancy.context import account_context
from aiplatform.ai.media import gateway
from aiplatform.ai.media.base import Sample, VoiceCloneRequest
from aiplatform.ai.media.registry import voice_provider
from aiplatform.errors import Forbidden, InvalidInput, ServiceError
from billing.services.ledger import Reference
from billing.services.limits import limit_check
from canvas.models import TrainingStatus, VoiceModel

_LOCK_CLASS = 0x4356  # advisory lock namespace: "CV", canvas voices
MAX_SAMPLES = 5
MAX_SAMPLE_BYTES = 25 * 1024 * 1024  # ElevenLabs accepts up to about 10 MB a file; WAVs of 2 minutes run larger
AUDIO_EXTENSIONS = {".mp3", ".wav", ".m4a", ".ogg", ".oga", ".webm", ".flac", ".aac", ".mp4"}


@dataclass(frozen=True)
class Upload:
    """A file the user sent (an UploadedFile's name, bytes and type)."""

    name: str
    content: bytes
    content_type: str = "application/octet-stream"

    @classmethod
    def of(cls, uploaded) -> Upload:
        return cls(name=uploaded.name or "sample", content=uploaded.read(),
                   content_type=getattr(uploaded, "content_type", None) or "application/octet-stream")  # fmt: skip


def require_member(actor: Membership, what: str) -> None:
    if not Role(actor.role).at_least(Role.MEMBER):
        raise Forbidden(gettext("Viewers can listen and watch but not %(what)s.") % {"what": what})


def active_voices_count(account: Account, *, except_name: str | None = None) -> int:
    rows = VoiceModel.objects.filter(account=account, is_active=True)
    if except_name is not None:
        rows = rows.exclude(name=except_name)
    return rows.count()


def _lock(account: Account) -> None:
    with connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [_LOCK_CLASS, str(account.pk)])


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise InvalidInput(gettext("Give the voice a name."), fields={"name": ["This field is required."]})
    if len(name) > 255:
        raise InvalidInput(gettext("The name is too long."), fields={"name": ["At most 255 characters."]})
    return name


def check_samples(samples: list[Upload], *, field: str = "samples", extensions=AUDIO_EXTENSIONS) -> None:
    if not samples:
        raise InvalidInput(gettext("Upload at least one sample."), fields={field: ["At least one file."]})
    if len(samples) > MAX_SAMPLES:
        raise InvalidInput(
            gettext("Upload at most %(MAX_SAMPLES)s samples.") % {"MAX_SAMPLES": MAX_SAMPLES},
            fields={field: [f"At most {MAX_SAMPLES}."]},
        )
    for sample in samples:
        if not sample.content:
            raise InvalidInput(gettext("%(name)s is empty.") % {"name": sample.name}, fields={field: ["Empty file."]})
        if len(sample.content) > MAX_SAMPLE_BYTES:
            raise InvalidInput(
                gettext("%(name)s is larger than %(MAX_SAMPLE_BYTES)s MB.")
                % {"name": sample.name, "MAX_SAMPLE_BYTES": MAX_SAMPLE_BYTES // (1024 * 1024)},
                fields={field: ["File too large."]},
            )
        if PurePosixPath(sample.name.lower()).suffix not in extensions:
            raise InvalidInput(
                gettext("%(name)s is not a file type we take here (%(types)s).")
                % {"name": sample.name, "types": ", ".join(sorted(extensions))},
                fields={field: ["Unsupported file type."]},
            )


def _store(prefix: str, samples: list[Upload]) -> list[str]:
    paths = []
    for index, sample in enumerate(samples):
        suffix = PurePosixPath(sample.name.lower()).suffix
        paths.append(default_storage.save(f"{prefix}/sample-{index + 1}{suffix}", ContentFile(sample.content)))
    return paths


def voice_model_create(
    *, account: Account, actor: Membership, name: str, samples: list[Upload], description: str = ""
) -> VoiceModel:
    """Store the samples, take a slot of the plan (409 past the limit), train. A provider
    failure leaves the voice `failed` (trainable again) and raises its error."""
    require_member(actor, "create voices")
    name = _clean_name(name)
    check_samples(samples)
    with account_context(account.id), transaction.atomic():
        _lock(account)
        limit_check(account=account, name="voice_models", used=active_voices_count(account, except_name=name))
        latest = VoiceModel.objects.filter(account=account, name=name).aggregate(v=Max("version_number"))["v"]
        retired = list(
            VoiceModel.objects.filter(account=account, name=name, is_active=True).values_list("pk", flat=True)
        )
        VoiceModel.objects.filter(pk__in=retired).update(is_active=False)
        voice = VoiceModel.objects.create(
            account=account, user=actor.user, name=name, version_number=(latest or 0) + 1, is_active=True,
            provider=voice_provider(), training_status=TrainingStatus.PENDING,
        )  # fmt: skip
        paths = _store(f"canvas/voices/{account.pk}/{voice.pk}", samples)
        voice.sample_audio_path = "\n".join(paths)
        voice.sample_audio_url = default_storage.url(paths[0])
        voice.save(update_fields=["sample_audio_path", "sample_audio_url", "updated_at"])
    try:
        voice_model_train(voice=voice, actor=actor, description=description, samples=samples)
    except ServiceError:
        # Refused samples (not audio, no speech) or a provider failure: nothing stays behind
        # (the request's transaction rolls back on a 5xx anyway; the files are not in it).
        with account_context(account.id), transaction.atomic():
            VoiceModel.objects.filter(pk=voice.pk).delete()
            VoiceModel.objects.filter(pk__in=retired).update(is_active=True)
        for path in paths:
            default_storage.delete(path)
        raise
    return voice


def _stored_samples(voice: VoiceModel) -> list[Upload]:
    samples = []
    for path in filter(None, voice.sample_audio_path.splitlines()):
        with default_storage.open(path, "rb") as handle:
            samples.append(Upload(name=PurePosixPath(path).name, content=handle.read()))
    return samples


def voice_model_train(
    *, voice: VoiceModel, actor: Membership, description: str = "", samples: list[Upload] | None = None
) -> VoiceModel:
    """Clone the voice from its samples (the stored ones unless given)."""
    require_member(actor, "train voices")
    if voice.training_status == TrainingStatus.TRAINING:
        raise InvalidInput(gettext("This voice is being trained already."), code="voice_training")
    samples = samples if samples is not None else _stored_samples(voice)
    account = voice.account
    with account_context(account.id):
        VoiceModel.objects.filter(pk=voice.pk).update(training_status=TrainingStatus.TRAINING)
    started = time.monotonic()
    request = VoiceCloneRequest(
        name=f"{voice.name} v{voice.version_number}", description=description[:500],
        samples=tuple(Sample(s.name, s.content, s.content_type) for s in samples),
        labels={"account": str(account.pk), "voice_model": str(voice.pk)},
    )  # fmt: skip
    try:
        result = gateway.voice_clone(
            account=account, user=actor.user, provider=voice.provider, request=request,
            reference=Reference("voice_model", str(voice.pk)),
        )  # fmt: skip
    except ServiceError:
        with account_context(account.id):
            VoiceModel.objects.filter(pk=voice.pk).update(training_status=TrainingStatus.FAILED)
        voice.training_status = TrainingStatus.FAILED
        raise
    voice.training_status = TrainingStatus.COMPLETED
    voice.provider_voice_id = result.voice_id
    voice.elevenlabs_voice_id = result.voice_id if voice.provider == "elevenlabs" else ""
    voice.quality_score = result.quality_score
    voice.training_duration_seconds = max(1, round(time.monotonic() - started))
    with account_context(account.id):
        voice.save(update_fields=["training_status", "provider_voice_id", "elevenlabs_voice_id", "quality_score",
                                  "training_duration_seconds", "updated_at"])  # fmt: skip
    return voice


def voice_model_update(*, voice: VoiceModel, actor: Membership, is_active: bool | None = None) -> VoiceModel:
    """Turn a voice on (it takes a slot of the plan: 409 past the limit) or off."""
    require_member(actor, "change voices")
    if is_active is None or is_active == voice.is_active:
        return voice
    with account_context(voice.account_id), transaction.atomic():
        if is_active:
            _lock(voice.account)
            limit_check(
                account=voice.account,
                name="voice_models",
                used=active_voices_count(voice.account, except_name=voice.name),
            )
            VoiceModel.objects.filter(account=voice.account_id, name=voice.name, is_active=True).update(is_active=False)
        voice.is_active = is_active
        voice.save(update_fields=["is_active", "updated_at"])
    return voice


def voice_model_delete(*, voice: VoiceModel, actor: Membership) -> None:
    """Delete the voice and its samples (clips made with it stay, without it)."""
    require_member(actor, "delete voices")
    paths = list(filter(None, voice.sample_audio_path.splitlines()))
    with account_context(voice.account_id), transaction.atomic():
        voice.delete()
        transaction.on_commit(lambda: [default_storage.delete(p) for p in paths])


def sample_limit_text() -> str:
    return f"{MAX_SAMPLES} files of at most {MAX_SAMPLE_BYTES // (1024 * 1024)} MB"
