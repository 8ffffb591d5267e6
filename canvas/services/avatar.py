"""Avatar models: a talking avatar from photos or a sample video, made by the
media gateway (HeyGen's talking photo, or the offline mouth-flap renderer).

* Photos (JPEG, PNG or WebP, up to 5) or one sample video (a frame a tenth of
  the way in becomes the photo, with ffmpeg) land in storage
  (canvas/avatars/<account>/<avatar>/); the first photo is the avatar's face.
* `creation_status` processing -> completed (the provider's avatar id, a
  quality score from the photo's size); a photo the provider cannot use (400)
  or a provider failure (5xx) leaves nothing behind, and the error says why.
"""

from __future__ import annotations

import tempfile
from pathlib import Path, PurePosixPath

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext

from accounts.models import Account, Membership
from accounts.tenancy.context import account_context
from aiplatform.ai.media import gateway
from aiplatform.ai.media.base import AvatarCreateRequest, Sample
from aiplatform.ai.media.registry import avatar_provider
from aiplatform.errors import InvalidInput, ServiceError
from aiplatform.media.ffmpeg import MediaError, thumbnail
from billing.services.ledger import Reference
from canvas.models import AvatarModel, WorkStatus

from .voice import Upload, _clean_name, check_samples, require_member

PHOTO_EXTENSIONS = {".jpg", ".jpeg", ".png", ".webp"}
VIDEO_EXTENSIONS = {".mp4", ".mov", ".webm", ".m4v", ".mkv"}
_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}


def _frame_of(video: Upload) -> Upload:
    """The sample video's frame a tenth in, as a JPEG (400 when it is not a readable video)."""
    with tempfile.TemporaryDirectory(prefix="avatar-") as tmp:
        source = Path(tmp) / f"sample{PurePosixPath(video.name.lower()).suffix}"
        source.write_bytes(video.content)
        try:
            frame = thumbnail(source, Path(tmp) / "frame.jpg", width=1080)
        except MediaError as exc:
            raise InvalidInput(exc.message, fields={"sample_video": ["Not a readable video."]}) from None
        return Upload(name="frame.jpg", content=frame.read_bytes(), content_type="image/jpeg")


def avatar_model_create(
    *, account: Account, actor: Membership, name: str, photos: list[Upload], sample_video: Upload | None = None
) -> AvatarModel:
    require_member(actor, "create avatars")
    name = _clean_name(name)
    if sample_video is not None:
        check_samples([sample_video], field="sample_video", extensions=VIDEO_EXTENSIONS)
        photos = [*photos, _frame_of(sample_video)] if photos else [_frame_of(sample_video)]
    elif not photos:
        raise InvalidInput(
            gettext("Upload a photo of the face, or a sample video."), fields={"photos": ["At least one."]}
        )
    check_samples(photos, field="photos", extensions=PHOTO_EXTENSIONS | {".jpg"})
    with account_context(account.id), transaction.atomic():
        avatar = AvatarModel.objects.create(
            account=account, user=actor.user, name=name, provider=avatar_provider(),
            creation_status=WorkStatus.PROCESSING,
        )  # fmt: skip
        prefix = f"canvas/avatars/{account.pk}/{avatar.pk}"
        paths = [
            default_storage.save(
                f"{prefix}/photo-{i + 1}{PurePosixPath(p.name.lower()).suffix}", ContentFile(p.content)
            )
            for i, p in enumerate(photos)
        ]
        avatar.training_photos_paths = paths
        avatar.training_photos_urls = [default_storage.url(p) for p in paths]
        if sample_video is not None:
            suffix = PurePosixPath(sample_video.name.lower()).suffix
            avatar.sample_video_path = default_storage.save(
                f"{prefix}/sample{suffix}", ContentFile(sample_video.content)
            )
            avatar.sample_video_url = default_storage.url(avatar.sample_video_path)
        avatar.save()
    face = photos[0]
    suffix = PurePosixPath(face.name.lower()).suffix
    request = AvatarCreateRequest(
        name=name, photo=Sample(face.name, face.content, _TYPES.get(suffix, face.content_type))
    )
    try:
        result = gateway.avatar_create(
            account=account, user=actor.user, provider=avatar.provider, request=request,
            reference=Reference("avatar_model", str(avatar.pk)),
        )  # fmt: skip
    except ServiceError:  # a refused photo or a provider failure: nothing stays behind
        with account_context(account.id), transaction.atomic():
            AvatarModel.objects.filter(pk=avatar.pk).delete()
        for path in [*paths, avatar.sample_video_path]:
            if path:
                default_storage.delete(path)
        raise
    avatar.creation_status = WorkStatus.COMPLETED
    avatar.heygen_avatar_id = result.avatar_id if avatar.provider == "heygen" else ""
    avatar.quality_score = result.quality_score
    with account_context(account.id):
        avatar.save(update_fields=["creation_status", "heygen_avatar_id", "quality_score", "updated_at"])
    return avatar


def avatar_model_update(*, avatar: AvatarModel, actor: Membership, is_active: bool | None = None) -> AvatarModel:
    require_member(actor, "change avatars")
    if is_active is not None and is_active != avatar.is_active:
        with account_context(avatar.account_id):
            avatar.is_active = is_active
            avatar.save(update_fields=["is_active", "updated_at"])
    return avatar


def avatar_model_delete(*, avatar: AvatarModel, actor: Membership) -> None:
    require_member(actor, "delete avatars")
    paths = [*avatar.training_photos_paths, avatar.sample_video_path]
    with account_context(avatar.account_id), transaction.atomic():
        avatar.delete()
        transaction.on_commit(lambda: [default_storage.delete(p) for p in paths if p])


def avatar_photo_path(avatar: AvatarModel) -> str:
    if not avatar.training_photos_paths:
        raise InvalidInput(gettext("This avatar has no photo; create it again."), code="avatar_without_photo")
    return avatar.training_photos_paths[0]
