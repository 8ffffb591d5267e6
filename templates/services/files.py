"""Files of a service run: the photos a user sends (image parameters) and the
images an image service makes.

A photo is judged by its bytes, never its name: Pillow must open it as a JPEG,
PNG or WebP of at most SERVICES_MAX_IMAGE_MB and MAX_PIXELS. It is re-encoded
before it is stored, which drops its metadata (EXIF location, camera serial)
and turns it upright. Files go through Django's default storage (MEDIA_ROOT
or the S3 bucket, as knowledge documents do) under a random name; the result
records the paths (`input_files`, encrypted at rest; `result_files`). Nobody
sees a path: pages and the API give member-only download URLs by position.
When a result is deleted (it expires after 12 months) its files are deleted too.
"""

from __future__ import annotations

import hashlib
import io
import logging
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from aiplatform.ai.types import ImagePart
from aiplatform.errors import InvalidInput, ServiceError

log = logging.getLogger("templates.files")

MAX_PIXELS = 40_000_000  # a 40 MP photo; Pillow's own bomb check is at 89 MP
FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}
MEDIA_TYPES = {ext: media_type for media_type, ext in FORMATS.values()}
INPUT_KIND, RESULT_KIND = "input", "result"


class FileTooLarge(InvalidInput):
    status = 413
    code = "file_too_large"


class InputMissing(ServiceError):
    status = 409
    code = "input_missing"


@dataclass(frozen=True, repr=False)
class Photo:
    """A checked photo, re-encoded, ready to store."""

    name: str  # the parameter
    media_type: str
    extension: str
    data: bytes
    sha256: str


def image_names(definition: list[dict]) -> list[str]:
    return [spec["name"] for spec in definition if spec["type"] == "image"]


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f}"


def _limit_bytes() -> int:
    return int(settings.SERVICES_MAX_IMAGE_MB * 1024 * 1024)


def _read(upload: Any, limit: int) -> bytes:
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise _too_large(size)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise _too_large(size or len(data))
    return data


def _too_large(size: int) -> FileTooLarge:
    message = _("This photo is %(size)s MB; photos up to %(limit)s MB can be used. Nothing was charged.") % {
        "size": _megabytes(size),
        "limit": f"{settings.SERVICES_MAX_IMAGE_MB:g}",
    }
    return FileTooLarge(message, fields={"_file": [message]})


def _sniff(name: str, data: bytes) -> Photo:
    """The photo re-encoded in its own format, or InvalidInput when the bytes are not a usable image."""
    not_image = _("This file is not a JPEG, PNG or WebP image. Nothing was charged.")
    if not data:
        raise InvalidInput(_("The file is empty. Nothing was charged."), fields={name: [_("The file is empty.")]})
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format
            width, height = probe.size
            probe.verify()  # a truncated or corrupt file fails here, before anything decodes it
        if kind not in FORMATS:
            raise InvalidInput(not_image, fields={name: [not_image]})
        if width * height > MAX_PIXELS:
            message = _("This photo has too many pixels (%(width)s × %(height)s); use a smaller one.") % {
                "width": width,
                "height": height,
            }
            raise InvalidInput(message, fields={name: [message]})
        with Image.open(io.BytesIO(data)) as image:
            upright = ImageOps.exif_transpose(image)
            if kind == "JPEG" and upright.mode not in ("RGB", "L"):
                upright = upright.convert("RGB")
            out = io.BytesIO()
            upright.save(out, format=kind, **({"quality": 90} if kind in ("JPEG", "WEBP") else {}))
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError, SyntaxError):
        raise InvalidInput(not_image, fields={name: [not_image]}) from None
    media_type, extension = FORMATS[kind]
    encoded = out.getvalue()
    return Photo(name, media_type, extension, encoded, hashlib.sha256(data).hexdigest())


def photos_validate(definition: list[dict], files: Mapping[str, Any] | None) -> list[Photo]:
    """The template's image parameters read from `files` (uploads by parameter name), in
    the definition's order. A missing required photo, a file that is not an image or one
    over SERVICES_MAX_IMAGE_MB (413) raises before anything is held or stored."""
    files = files or {}
    specs = [spec for spec in definition if spec["type"] == "image"]
    unknown = sorted(set(files) - {spec["name"] for spec in specs})
    if unknown:
        raise InvalidInput(
            _("This service does not take a file named %(names)s.") % {"names": ", ".join(unknown)},
            fields={name: [_("Unknown parameter.")] for name in unknown},
        )
    photos = []
    for spec in specs:
        upload = files.get(spec["name"])
        if upload is None:
            if spec.get("required"):
                raise InvalidInput(
                    _("Some parameters are invalid."), fields={spec["name"]: [_("This field is required.")]}
                )
            continue
        try:
            data = _read(upload, _limit_bytes())
        except FileTooLarge as exc:
            exc.fields = {spec["name"]: exc.fields["_file"]}
            raise
        photos.append(_sniff(spec["name"], data))
    return photos


def _store(prefix: str, extension: str, data: bytes) -> str:
    return default_storage.save(f"{prefix}/{uuid.uuid4().hex}.{extension}", ContentFile(data))


def photos_store(*, account_id, result_id, photos: Iterable[Photo]) -> list[str]:
    """Store the photos; their storage paths, in order. What was stored is removed if one fails."""
    paths: list[str] = []
    try:
        for photo in photos:
            paths.append(_store(f"service-inputs/{account_id}/{result_id}", photo.extension, photo.data))
    except BaseException:
        files_delete(paths)
        raise
    return paths


def result_image_store(*, account_id, result_id, media_type: str, data: bytes) -> str:
    extension = next((ext for ext, kind in MEDIA_TYPES.items() if kind == media_type), "png")
    return _store(f"service-results/{account_id}/{result_id}", extension, data)


def files_delete(paths: Iterable[str]) -> None:
    for path in paths:
        try:
            default_storage.delete(path)
        except Exception:  # a storage hiccup must not hide the error being handled
            log.warning("could not delete %s from storage", path, exc_info=True)


def result_files_forget(sender, instance, **kwargs) -> None:
    """post_delete of ServiceResult: its photos and images leave storage once the
    deletion commits (expiry, the admin, an account's cascade; a rolled-back
    delete keeps them). Connected in TemplatesConfig.ready."""
    from django.db import transaction

    paths = [*instance.input_files, *instance.result_files]
    if paths:
        transaction.on_commit(lambda: files_delete(paths))


def media_type_of(path: str) -> str:
    return MEDIA_TYPES.get(path.rsplit(".", 1)[-1].lower(), "application/octet-stream")


def result_photos(result) -> tuple[ImagePart, ...]:
    """The photos of a run, read back for the model (InputMissing when storage lost one)."""
    parts = []
    for path in result.input_files:
        try:
            with default_storage.open(path, "rb") as handle:
                parts.append(ImagePart(media_type=media_type_of(path), data=handle.read()))
        except (FileNotFoundError, OSError):
            raise InputMissing(
                _("The photo you sent could not be read back from storage; please run the service again.")
            ) from None
    return tuple(parts)


def result_file_path(result, kind: str, index: int) -> str | None:
    """The storage path of a result's `index`-th input or output file, or None."""
    paths = result.input_files if kind == INPUT_KIND else result.result_files if kind == RESULT_KIND else []
    return paths[index] if 0 <= index < len(paths) else None


def result_file_response(result, kind: str, index: int):
    """The file as a private, non-cached download (the caller has scoped `result` to the account)."""
    from django.http import FileResponse

    from aiplatform.errors import NotFound

    path = result_file_path(result, kind, index)
    if path is None:
        raise NotFound(_("There is no such file."))
    try:
        handle = default_storage.open(path, "rb")
    except (FileNotFoundError, OSError):
        raise NotFound(_("This file is no longer stored.")) from None
    extension = path.rsplit(".", 1)[-1].lower()
    response = FileResponse(
        handle, content_type=media_type_of(path), filename=f"{kind}-{index + 1}.{extension}", as_attachment=False
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
