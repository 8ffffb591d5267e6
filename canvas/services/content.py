"""Content pieces: by URL of a supported platform, or by upload, into a project;
annotations on them; the account's storage within its plan; storage expiry.

- By URL: instagram, tiktok, youtube, linkedin, twitter/x. Any other site is a
  400 naming the supported ones. The piece's type follows the URL (a reel or a
  video is `video`, an Instagram post `image`, a LinkedIn or X post `text`)
  unless the caller says otherwise.
- By upload: the file is written to a temporary file, then probed with ffmpeg
  (aiplatform/media/ffmpeg.py): its kind (video, audio, image), duration and
  size; it must decode without errors; a thumbnail frame is taken. A text file
  (.txt, .md, .srt, .vtt; UTF-8) becomes a text piece whose transcript is the
  text. Anything else, or a corrupt file, is a 400 and nothing is stored.
- Storage: the account's stored bytes (uploaded pieces and generated media)
  plus the new file must fit the plan's `storage_limit_gb`, else 409
  `plan_limit_reached` (uploads of one account are serialised by an advisory
  lock, so two cannot both take the last space). Uploaded files expire after
  CANVAS_CONTENT_RETENTION_DAYS: `content_expire` (beat) deletes them and
  clears the piece's file fields, keeping the piece and its analyses.
- Files are written before the row; if the row cannot be written the files are
  deleted again, so nothing is half-stored.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import Account, Membership
from accounts.tenancy.context import account_context, rls_bypass
from aiplatform.errors import Conflict, InvalidInput, LimitReached, NotFound
from aiplatform.media import ffmpeg
from canvas.access import project_require
from canvas.models import (
    AnnotationType,
    ContentAnnotation,
    ContentPiece,
    ContentPlatform,
    ContentType,
    GeneratedContent,
    Project,
    ProjectPermission,
)
from canvas.models.common import WorkStatus

log = logging.getLogger("canvas.content")

_LOCK_CLASS = 0x4353  # advisory lock namespace: "CS", canvas storage
GB = 1024**3
TITLE_MAX = 500
TEXT_MAX = 200_000
COORDINATE_MAX = 1e8
TEXT_EXTENSIONS = {".txt", ".md", ".srt", ".vtt"}

# host (without "www." / "m.") -> platform
_HOSTS = {
    "instagram.com": ContentPlatform.INSTAGRAM,
    "tiktok.com": ContentPlatform.TIKTOK,
    "vm.tiktok.com": ContentPlatform.TIKTOK,
    "youtube.com": ContentPlatform.YOUTUBE,
    "youtu.be": ContentPlatform.YOUTUBE,
    "music.youtube.com": ContentPlatform.YOUTUBE,
    "linkedin.com": ContentPlatform.LINKEDIN,
    "lnkd.in": ContentPlatform.LINKEDIN,
    "twitter.com": ContentPlatform.TWITTER,
    "x.com": ContentPlatform.TWITTER,
    "mobile.twitter.com": ContentPlatform.TWITTER,
}
SUPPORTED = "Instagram, TikTok, YouTube, LinkedIn or X (Twitter)"


def _bad(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, fields={field: [message]})


# --- URLs --------------------------------------------------------------------------------------


def platform_for_url(url: Any) -> tuple[str, str]:
    """(normalised URL, platform) of a post URL; InvalidInput for anything else."""
    if not isinstance(url, str) or not url.strip():
        raise _bad("source_url", "Enter the post's URL.")
    url = url.strip()
    if len(url) > 2000:
        raise _bad("source_url", "This URL is too long.")
    if "://" not in url:
        url = "https://" + url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _bad("source_url", "Enter a web address starting with https://.")
    host = parts.hostname.lower()
    for prefix in ("www.", "m."):
        if host.startswith(prefix):
            host = host[len(prefix) :]
    platform = _HOSTS.get(host)
    if platform is None:
        raise _bad("source_url", f"{parts.hostname} is not a supported site. Add a post from {SUPPORTED}, or upload "
                                 "the file instead.")  # fmt: skip
    if parts.path in ("", "/"):
        raise _bad("source_url", "This is the site's home page: paste the address of one post or video.")
    return url, platform


def type_for_url(url: str, platform: str) -> str:
    path = urlsplit(url).path.lower()
    if platform in (ContentPlatform.YOUTUBE, ContentPlatform.TIKTOK):
        return ContentType.VIDEO
    if platform == ContentPlatform.INSTAGRAM:
        return ContentType.VIDEO if path.startswith(("/reel", "/tv/")) else ContentType.IMAGE
    if "/video" in path:
        return ContentType.VIDEO
    return ContentType.TEXT


# --- input checks --------------------------------------------------------------------------------


def _text(value: Any, field: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _bad(field, "Enter text.")
    value = value.strip()
    if len(value) > limit:
        raise _bad(field, f"At most {limit} characters.")
    return value


def _coordinate(value: Any, field: str):
    from decimal import Decimal, InvalidOperation

    if value is None or value == "":
        return Decimal("0")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise _bad(field, "Enter a number.") from None
    if not number.is_finite() or abs(number) > Decimal(str(COORDINATE_MAX)):
        raise _bad(field, "Out of range.")
    return number.quantize(Decimal("0.01"))


def _content_type(value: Any) -> str | None:
    if value in (None, ""):
        return None
    if value not in ContentType.values:
        raise _bad("content_type", f"Choose one of: {', '.join(ContentType.values)}.")
    return value


def _editable(project: Project, actor: Membership) -> None:
    project_require(actor, project, ProjectPermission.EDITOR)
    if project.is_archived:
        raise Conflict(gettext("This project is archived: restore it to add or change content."), code="archived")


def _announce(project: Project | None, actor: Membership | None, piece: ContentPiece, op: str = "create") -> None:
    """Show the piece on the open boards of its project (the board's `applied` frame)."""
    if project is None or actor is None:
        return
    from canvas.services import board

    result = board.BoardResult(op, None, board.node_row("content_piece", piece))
    board._publish_on_commit(project, actor, result)


# --- storage -------------------------------------------------------------------------------------


def storage_used_bytes(account: Account) -> int:
    """Bytes the account stores: uploaded pieces whose file is kept, and generated media."""
    pieces = (
        ContentPiece.objects.filter(account=account)
        .exclude(original_file_path="")
        .aggregate(n=Sum("file_size_bytes"))["n"]
    )
    generated = (
        GeneratedContent.objects.filter(account=account).exclude(file_path="").aggregate(n=Sum("file_size_bytes"))["n"]
    )
    return int(pieces or 0) + int(generated or 0)


def storage_check(account: Account, adding: int) -> None:
    """LimitReached (409) when `adding` bytes would pass the plan's storage. Call in the
    account's transaction after `storage_lock`."""
    limit = account.storage_limit_gb * GB
    used = storage_used_bytes(account)
    if used + adding > limit:
        raise LimitReached(
            gettext(
                "This file (%(size)s) does not fit: your plan stores %(limit)s GB and "
                "%(used)s are in use. Delete some content or upgrade the plan to continue."
            )
            % {"size": _size(adding), "limit": account.storage_limit_gb, "used": _size(used)},
            extra={"limit": account.storage_limit_gb, "used": round(used / GB, 3), "name": "storage_gb",
                   "used_bytes": used, "adding_bytes": adding},
        )  # fmt: skip


def storage_lock(account: Account) -> None:
    with connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [_LOCK_CLASS, str(account.pk)])


def _size(n: int) -> str:
    for unit, scale in (("GB", GB), ("MB", 1024**2), ("KB", 1024)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


def _expiry():
    return timezone.now() + timedelta(days=settings.CANVAS_CONTENT_RETENTION_DAYS)


# --- pieces by URL -------------------------------------------------------------------------------


def piece_add_url(
    *, project: Project, actor: Membership, url: Any, x: Any = 0, y: Any = 0, title: Any = "",
    content_type: Any = None, description: Any = "",
) -> ContentPiece:  # fmt: skip
    """A post of a supported platform on the project's board."""
    from canvas.sources.oembed import oembed_endpoint

    _editable(project, actor)
    source_url, platform = platform_for_url(url)
    kind = _content_type(content_type) or type_for_url(source_url, platform)
    described = bool(oembed_endpoint(platform))
    values = {
        "title": _text(title, "title", TITLE_MAX), "description": _text(description, "description", TEXT_MAX),
        "position_x": _coordinate(x, "x"), "position_y": _coordinate(y, "y"),
    }  # fmt: skip
    with account_context(project.account_id):
        piece = ContentPiece.objects.create(
            account_id=project.account_id, project=project, uploaded_by=actor.user, source_url=source_url,
            platform=platform, content_type=kind,
            processing_status=WorkStatus.PENDING if described else WorkStatus.COMPLETED,
            metadata={"added_by": "url", "host": urlsplit(source_url).hostname}, **values,
        )  # fmt: skip
        _count_added(project.account_id)
        _announce(project, actor, piece)
    if described:
        from canvas.tasks import piece_describe

        args = {"account_id": str(project.account_id), "piece_id": str(piece.pk), "membership_id": str(actor.pk)}
        # robust: a broker outage leaves the piece pending with what the user typed, never fails the add
        transaction.on_commit(lambda: piece_describe.delay(**args), robust=True)
    return piece


def piece_describe(*, account_id: Any, piece_id: Any, membership_id: Any = None) -> str:
    """Fill a URL piece's title (when the user gave none), thumbnail and author from
    its platform's oEmbed endpoint; the piece is ready either way (a failure is kept
    in `metadata["oembed_error"]` and shown on its page). Returns the outcome."""
    from canvas.sources.base import SourceError
    from canvas.sources.oembed import oembed_endpoint, oembed_fetch

    with account_context(account_id):
        piece = ContentPiece.objects.filter(account_id=account_id, pk=piece_id).select_related("project").first()
        if piece is None or piece.processing_status != WorkStatus.PENDING:
            return "gone"
        endpoint = oembed_endpoint(piece.platform)
    found: dict[str, Any] = {}
    error = ""
    if endpoint:
        try:
            found = oembed_fetch(endpoint, piece.source_url)
        except SourceError as exc:
            error = exc.message
    with account_context(account_id), transaction.atomic():
        piece = ContentPiece.objects.select_for_update().filter(account_id=account_id, pk=piece_id).first()
        if piece is None:
            return "gone"
        metadata = dict(piece.metadata or {})
        if found:
            metadata["oembed"] = found
            metadata.pop("oembed_error", None)
            if not piece.title and found.get("title"):
                piece.title = str(found["title"])[:TITLE_MAX]
            if not piece.thumbnail_url and found.get("thumbnail_url"):
                piece.thumbnail_url = str(found["thumbnail_url"])
        if error:
            metadata["oembed_error"] = error
        piece.metadata = metadata
        piece.processing_status = WorkStatus.COMPLETED
        piece.version = (piece.version or 1) + 1  # a board holding the old row sees it changed
        piece.save(update_fields=["title", "thumbnail_url", "metadata", "processing_status", "version", "updated_at"])
        actor = Membership.objects.filter(account_id=account_id, pk=membership_id).first() if membership_id else None
        _announce(piece.project, actor, piece, op="update")
    return "failed" if error else "described"


def _count_added(account_id, user=None, size: int = 0) -> None:
    from billing.services.usage import count

    count(account_id, user, content_pieces_added=1, storage_bytes_used=size)


# --- pieces by upload ----------------------------------------------------------------------------


class _Probed:
    def __init__(self, kind: str, info: ffmpeg.MediaInfo | None = None, text: str = ""):
        self.kind, self.info, self.text = kind, info, text


def _local_copy(upload, workdir: Path) -> Path:
    """The upload as a file on disk (ffmpeg reads paths), its size within CANVAS_UPLOAD_MAX_BYTES."""
    size = getattr(upload, "size", None)
    if size is not None and size > settings.CANVAS_UPLOAD_MAX_BYTES:
        raise _bad("file", f"This file is {_size(size)}; uploads may be at most "
                           f"{_size(settings.CANVAS_UPLOAD_MAX_BYTES)}.")  # fmt: skip
    suffix = Path(getattr(upload, "name", "") or "upload").suffix.lower()[:10]
    path = workdir / f"upload{suffix}"
    with open(path, "wb") as out:
        for chunk in upload.chunks() if hasattr(upload, "chunks") else iter(lambda: upload.read(1 << 20), b""):
            out.write(chunk)
    if path.stat().st_size == 0:
        raise _bad("file", "The file is empty.")
    return path


def _probe(path: Path, name: str) -> _Probed:
    if Path(name).suffix.lower() in TEXT_EXTENSIONS:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise _bad("file", "This text file is not UTF-8 text. Save it as UTF-8 and upload it again.") from None
        if not text.strip():
            raise _bad("file", "The text file is empty.")
        if len(text) > TEXT_MAX:
            raise _bad("file", f"A text file may have at most {TEXT_MAX} characters.")
        return _Probed(ContentType.TEXT, text=text.strip())
    try:
        info = ffmpeg.verify(path)
    except ffmpeg.FfmpegMissing:
        raise
    except ffmpeg.MediaError as exc:
        raise _bad("file", f"{exc.message} Upload a video, audio file, image or a UTF-8 text file.") from None
    return _Probed(info.kind, info=info)


def _safe_name(name: str) -> str:
    base = Path(name or "upload").name
    keep = "".join(c if c.isalnum() or c in "-_." else "_" for c in base).strip("._") or "upload"
    return keep[-120:]


def piece_upload(
    *, project: Project, actor: Membership, file: Any, x: Any = 0, y: Any = 0, title: Any = "",
    content_type: Any = None, description: Any = "",
) -> ContentPiece:  # fmt: skip
    """An uploaded video, audio file, image or text on the project's board."""
    _editable(project, actor)
    if file is None or not hasattr(file, "read"):
        raise _bad("file", "Choose a file to upload.")
    declared = _content_type(content_type)
    values = {
        "title": _text(title, "title", TITLE_MAX), "description": _text(description, "description", TEXT_MAX),
        "position_x": _coordinate(x, "x"), "position_y": _coordinate(y, "y"),
    }  # fmt: skip
    name = _safe_name(getattr(file, "name", ""))
    workdir = Path(tempfile.mkdtemp(prefix="canvas-upload-"))
    stored: list[str] = []
    try:
        local = _local_copy(file, workdir)
        probed = _probe(local, name)
        if declared and declared != probed.kind:
            raise _bad("content_type", f"You said {declared}, but this file is {probed.kind}.")
        size = local.stat().st_size
        piece_id = uuid.uuid4()
        folder = f"canvas/{project.account_id}/content/{piece_id}"
        thumb_url = ""
        metadata: dict[str, Any] = {"added_by": "upload", "file_name": name}
        if probed.info is not None:
            info = probed.info
            metadata.update(container=info.container, width=info.width, height=info.height,
                            video_codec=info.video.codec if info.video else None,
                            audio_codec=info.audio.codec if info.audio else None)  # fmt: skip
        with account_context(project.account_id):
            storage_lock(project.account)
            storage_check(project.account, size)
            with open(local, "rb") as fh:
                path = default_storage.save(f"{folder}/{name}", File(fh, name=name))
            stored.append(path)
            if probed.info is not None and probed.info.video is not None:
                thumb = ffmpeg.thumbnail(local, workdir / "thumb.jpg", info=probed.info)
                with open(thumb, "rb") as fh:
                    thumb_path = default_storage.save(f"{folder}/thumbnail.jpg", File(fh, name="thumbnail.jpg"))
                stored.append(thumb_path)
                thumb_url = default_storage.url(thumb_path)
                metadata["thumbnail_path"] = thumb_path
            duration = probed.info.duration_seconds if probed.info else None
            piece = ContentPiece.objects.create(
                id=piece_id, account_id=project.account_id, project=project, uploaded_by=actor.user,
                source_url=default_storage.url(path), platform=ContentPlatform.UPLOAD, content_type=probed.kind,
                original_file_path=path, original_file_url=default_storage.url(path), thumbnail_url=thumb_url,
                file_size_bytes=size, duration_seconds=round(duration) if duration else None,
                transcript=probed.text, storage_expires_at=_expiry(), processing_status=WorkStatus.COMPLETED,
                metadata=metadata, **values,
            )  # fmt: skip
            _count_added(project.account_id, actor.user, size)
            _announce(project, actor, piece)
            stored.clear()  # committed with the row from here on
    except ffmpeg.MediaError as exc:
        raise _bad("file", exc.message) from None
    finally:
        for path in stored:  # the row was not written: remove what was stored for it
            try:
                default_storage.delete(path)
            except OSError:
                log.warning("could not remove %s after a failed upload", path)
        shutil.rmtree(workdir, ignore_errors=True)
    return piece


# --- edits, deletion, inbox ---------------------------------------------------------------------


def piece_update(*, piece: ContentPiece, actor: Membership, **changes: Any) -> ContentPiece:
    """Title, description, transcript and remix flag (editors)."""
    if piece.project is None:
        raise Conflict(gettext("Place this piece on a project before editing it."), code="not_on_project")
    _editable(piece.project, actor)
    allowed = {"title": TITLE_MAX, "description": TEXT_MAX, "transcript": TEXT_MAX}
    fields = []
    for name, value in changes.items():
        if name in allowed:
            setattr(piece, name, _text(value, name, allowed[name]))
        elif name == "is_remix":
            if not isinstance(value, bool):
                raise _bad("is_remix", "Must be true or false.")
            piece.is_remix = value
        else:
            raise _bad(name, "This field cannot be changed.")
        fields.append(name)
    if fields:
        with account_context(piece.account_id):
            piece.version += 1
            piece.save(update_fields=[*fields, "version", "updated_at"])
            _announce(piece.project, actor, piece, op="update")
    return piece


def piece_place(*, piece: ContentPiece, project: Project, actor: Membership, x: Any = 0, y: Any = 0) -> ContentPiece:
    """Put a piece of the inbox (scraped, no project yet) on a project's board."""
    _editable(project, actor)
    if piece.project_id is not None:
        raise Conflict(gettext("This piece is already on a project."), code="already_placed")
    if piece.account_id != project.account_id:
        raise NotFound(gettext("No such content piece."))
    with account_context(piece.account_id):
        piece.project = project
        piece.position_x, piece.position_y = _coordinate(x, "x"), _coordinate(y, "y")
        piece.version += 1
        piece.save(update_fields=["project", "position_x", "position_y", "version", "updated_at"])
        _announce(project, actor, piece)
    return piece


def piece_delete_file(piece: ContentPiece) -> None:
    """Delete the stored file and thumbnail of a piece (the row stays)."""
    paths = [piece.original_file_path, (piece.metadata or {}).get("thumbnail_path", "")]
    for path in filter(None, paths):
        try:
            default_storage.delete(path)
        except OSError:
            log.warning("could not delete %s", path)


def content_expire(*, now=None) -> int:
    """Delete uploaded files past their storage expiry (beat); the pieces stay, marked expired."""
    now = now or timezone.now()
    with rls_bypass("content storage expiry sweep"):
        due = list(
            ContentPiece.objects.filter(storage_expires_at__lte=now)
            .exclude(original_file_path="")
            .values_list("pk", "account_id")[:500]
        )
    for piece_id, account_id in due:
        with account_context(account_id):
            piece = ContentPiece.objects.select_for_update().filter(pk=piece_id).first()
            if piece is None or not piece.original_file_path:
                continue
            transaction.on_commit(lambda p=piece: piece_delete_file(p))
            piece.metadata = {**(piece.metadata or {}), "expired_at": now.isoformat(),
                              "expired_file": piece.original_file_path}  # fmt: skip
            piece.original_file_path = piece.original_file_url = ""
            piece.save(update_fields=["original_file_path", "original_file_url", "metadata", "updated_at"])
    return len(due)


# --- annotations ---------------------------------------------------------------------------------


def _annotation_values(text: Any, annotation_type: Any, x: Any, y: Any) -> dict:
    body = _text(text, "annotation_text", 10_000)
    if not body:
        raise _bad("annotation_text", "Write the note.")
    kind = annotation_type or AnnotationType.NOTE
    if kind not in AnnotationType.values:
        raise _bad("annotation_type", f"Choose one of: {', '.join(AnnotationType.values)}.")
    return {
        "annotation_text": body, "annotation_type": kind,
        "position_x": None if x in (None, "") else _coordinate(x, "position_x"),
        "position_y": None if y in (None, "") else _coordinate(y, "position_y"),
    }  # fmt: skip


def annotation_add(
    *, piece: ContentPiece, actor: Membership, text: Any, annotation_type: Any = None, x: Any = None, y: Any = None
) -> ContentAnnotation:
    """A note, highlight or bookmark on a piece (editors of its project)."""
    if piece.project is None:
        raise Conflict(gettext("Place this piece on a project before annotating it."), code="not_on_project")
    _editable(piece.project, actor)
    values = _annotation_values(text, annotation_type, x, y)
    with account_context(piece.account_id):
        return ContentAnnotation.objects.create(account_id=piece.account_id, content_piece=piece, user=actor.user,
                                                **values)  # fmt: skip


def annotation_update(*, annotation: ContentAnnotation, actor: Membership, **changes: Any) -> ContentAnnotation:
    piece = annotation.content_piece
    _editable(piece.project, actor)
    merged = {
        "text": changes.get("annotation_text", annotation.annotation_text),
        "annotation_type": changes.get("annotation_type", annotation.annotation_type),
        "x": changes.get("position_x", annotation.position_x),
        "y": changes.get("position_y", annotation.position_y),
    }
    unknown = set(changes) - {"annotation_text", "annotation_type", "position_x", "position_y"}
    if unknown:
        raise _bad(sorted(unknown)[0], "This field cannot be changed.")
    values = _annotation_values(**merged)
    with account_context(annotation.account_id):
        for name, value in values.items():
            setattr(annotation, name, value)
        annotation.save(update_fields=[*values, "updated_at"])
    return annotation


def annotation_delete(*, annotation: ContentAnnotation, actor: Membership) -> None:
    _editable(annotation.content_piece.project, actor)
    with account_context(annotation.account_id):
        annotation.delete()


# --- reading -------------------------------------------------------------------------------------


def pieces_for_member(account: Account, actor: Membership):
    """The live pieces `actor` may see: those on projects they see, and the account's inbox."""
    from django.db.models import Q

    from canvas.selectors import projects_for_member

    visible = projects_for_member(account, actor, archived=None).values("pk")
    return (
        ContentPiece.objects.filter(account=account, deleted_at__isnull=True)
        .filter(Q(project__in=visible) | Q(project__isnull=True))
        .order_by("-created_at", "-id")
    )


def piece_get(account: Account, actor: Membership, piece_id: Any) -> ContentPiece:
    try:
        return pieces_for_member(account, actor).select_related("project").get(pk=piece_id)
    except (ContentPiece.DoesNotExist, ValueError, TypeError):
        raise NotFound(gettext("No such content piece.")) from None
    except Exception as exc:  # a malformed UUID
        from django.core.exceptions import ValidationError

        if isinstance(exc, ValidationError):
            raise NotFound(gettext("No such content piece.")) from None
        raise
