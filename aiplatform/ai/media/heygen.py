"""HeyGen: photo avatars and avatar video (API v2 video generation; the reference's
section 1). Auth is the `X-Api-Key` header; uploads go to the upload host.

    POST {upload}/v1/talking_photo     raw JPEG/PNG bytes -> data.talking_photo_id
    POST {upload}/v1/asset             raw MP3 bytes (audio/mpeg) -> data.id (the audio asset)
    POST {api}/v2/video/generate       {"video_inputs": [{"character": {"type": "talking_photo",
                                        "talking_photo_id"}, "voice": {"type": "audio",
                                        "audio_asset_id"}}], "dimension", "title", "callback_id",
                                        "test": false, "caption": false}
                                       -> {"error": null, "data": {"video_id"}}
    GET  {api}/v1/video_status.get?video_id=
                                       -> data.status pending|processing|completed|failed,
                                          video_url, thumbnail_url, duration, error / failure_*

The speech is ours (ElevenLabs or offline) and uploaded as an audio asset, so a
clip sounds like the account's voice model. Completion: polling, or the
`avatar_video.success` / `avatar_video.fail` webhook (whose signature scheme is
unverified: a webhook only wakes the poller, which asks the status endpoint).
The video URL expires: the result is downloaded at once and re-hosted.

Errors: `{"data": null, "error": {"code", "message"}}` (v2) or `{"code", "message"}`
(v1). A 429 is retried; HeyGen advises waiting 60 s.
"""

from __future__ import annotations

from pathlib import Path

import httpx
from django.conf import settings
from django.utils.translation import gettext as _

from ..providers.transport import Endpoint
from . import http
from .base import (
    AvatarCreateRequest,
    AvatarCreateResult,
    MediaProvider,
    VideoJob,
    VideoRequest,
    VideoState,
)
from .errors import MediaBusy, MediaInputInvalid, MediaMisconfigured, MediaProviderError, MediaRejected

_IMAGE_TYPES = {"image/jpeg", "image/png"}


def parse_error(response: httpx.Response) -> tuple[str, str]:
    body = response.json()
    if not isinstance(body, dict):
        return "", str(body)[:300]
    error = body.get("error")
    if isinstance(error, dict):
        return str(error.get("code") or ""), str(error.get("message") or error)[:300]
    if isinstance(error, str):
        return "", error[:300]
    if body.get("message"):
        return str(body.get("code") or ""), str(body["message"])[:300]
    return "", str(body)[:300]


def _map_error(status: int, code: str, message: str) -> Exception | None:
    if status in (401, 403) or code in ("invalid_api_key", "unauthorized", "40102"):
        return MediaMisconfigured(
            _("HeyGen refused the API key (%(message)s). Check MEDIA_HEYGEN_API_KEY.") % {"message": message}
        )
    if code in ("insufficient_credit", "insufficient_credits", "quota_exceeded"):
        return MediaRejected(
            _(
                "Our HeyGen credits are used up (%(message)s). An operator must top up the HeyGen plan, or set "
                "MEDIA_AVATAR_PROVIDER=offline."
            )
            % {"message": message},
            code="provider_quota_exceeded",
        )
    if status == 429:
        return MediaBusy(
            _("HeyGen is rate limiting us (%(code)s: %(message)s). The job is retried later.")
            % {"code": code or "rate_limited", "message": message},
            extra={"retry_after": 60},
        )
    return None


def _data(endpoint: Endpoint, response: httpx.Response) -> dict:
    body = http.json_body(endpoint, response)
    error = body.get("error")
    if error:
        code = error.get("code", "") if isinstance(error, dict) else ""
        message = error.get("message", error) if isinstance(error, dict) else error
        raise MediaRejected(
            _("HeyGen refused the request (%(code)s: %(message)s).") % {"code": code, "message": message}
        )
    data = body.get("data")
    if not isinstance(data, dict):
        raise MediaProviderError(_("HeyGen answered without data (%(body)s).") % {"body": str(body)[:120]})
    return data


class HeyGen(MediaProvider):
    name = "heygen"
    label = "HeyGen"
    renders = True

    def _endpoint(self, base: str, setting: str) -> Endpoint:
        return Endpoint(
            label="HeyGen", base_url=base, headers={"X-Api-Key": settings.MEDIA_HEYGEN_API_KEY},
            base_setting=setting, key_setting="MEDIA_HEYGEN_API_KEY",
        )  # fmt: skip

    def api(self) -> Endpoint:
        return self._endpoint(settings.MEDIA_HEYGEN_BASE_URL, "MEDIA_HEYGEN_BASE_URL")

    def upload(self) -> Endpoint:
        return self._endpoint(settings.MEDIA_HEYGEN_UPLOAD_URL, "MEDIA_HEYGEN_UPLOAD_URL")

    def unavailable_reason(self) -> str:
        if not settings.MEDIA_HEYGEN_API_KEY:
            return "HeyGen needs an API key: set MEDIA_HEYGEN_API_KEY (or use MEDIA_AVATAR_PROVIDER=offline)."
        return ""

    def _require(self) -> None:
        reason = self.unavailable_reason()
        if reason:
            raise MediaMisconfigured(reason)

    def _post_upload(self, path: str, content: bytes, content_type: str) -> dict:
        endpoint = self.upload()
        response = http.request(
            endpoint, "POST", path, content=content, headers={"Content-Type": content_type},
            parse_error=parse_error, map_error=_map_error,
        )  # fmt: skip
        return _data(endpoint, response)

    def avatar_create(self, request: AvatarCreateRequest) -> AvatarCreateResult:
        self._require()
        if request.photo.content_type not in _IMAGE_TYPES:
            raise MediaInputInvalid(_("HeyGen takes a JPEG or PNG photo."), fields={"photos": [_("JPEG or PNG.")]})
        data = self._post_upload("/v1/talking_photo", request.photo.content, request.photo.content_type)
        avatar_id = data.get("talking_photo_id")
        if not avatar_id:
            raise MediaProviderError(
                _("HeyGen answered the photo without a talking_photo_id (%(body)s).") % {"body": str(data)[:120]}
            )
        return AvatarCreateResult(avatar_id=str(avatar_id), preview_url=str(data.get("talking_photo_url") or ""))

    def video_start(self, request: VideoRequest) -> VideoJob:
        self._require()
        asset = self._post_upload("/v1/asset", request.audio.read_bytes(), "audio/mpeg")
        asset_id = asset.get("id") or asset.get("asset_id")
        if not asset_id:
            raise MediaProviderError(
                _("HeyGen answered the audio upload without an id (%(body)s).") % {"body": str(asset)[:120]}
            )
        body = {
            "video_inputs": [{
                "character": {"type": "talking_photo", "talking_photo_id": request.avatar_id},
                "voice": {"type": "audio", "audio_asset_id": str(asset_id)},
            }],
            "dimension": {"width": request.width, "height": request.height},
            "test": False,
            "caption": False,
            "title": request.title[:100],
            "callback_id": request.callback_id,
        }  # fmt: skip
        endpoint = self.api()
        response = http.request(
            endpoint, "POST", "/v2/video/generate", json=body, parse_error=parse_error, map_error=_map_error
        )
        video_id = _data(endpoint, response).get("video_id")
        if not video_id:
            raise MediaProviderError(_("HeyGen accepted the video without a video_id."))
        return VideoJob(video_id=str(video_id), status=VideoState.PENDING)

    def video_status(self, video_id: str) -> VideoJob:
        self._require()
        endpoint = self.api()
        response = http.request(
            endpoint, "GET", "/v1/video_status.get", params={"video_id": video_id},
            parse_error=parse_error, map_error=_map_error,
        )  # fmt: skip
        data = _data(endpoint, response)
        status = data.get("status")
        if status not in (VideoState.PENDING, VideoState.PROCESSING, VideoState.COMPLETED, VideoState.FAILED):
            status = VideoState.PROCESSING  # "waiting" and other interim states
        error = data.get("error") if isinstance(data.get("error"), dict) else {}
        duration = data.get("duration")
        return VideoJob(
            video_id=video_id, status=status, video_url=str(data.get("video_url") or ""),
            duration_seconds=float(duration) if isinstance(duration, (int, float)) else None,
            failure_code=str(data.get("failure_code") or error.get("code") or ""),
            failure_message=str(data.get("failure_message") or error.get("message") or error.get("detail") or ""),
        )  # fmt: skip

    def video_download(self, job: VideoJob, workdir: Path) -> Path:
        if not job.video_url:
            raise MediaProviderError(_("HeyGen said the video is complete but gave no video_url."))
        return http.download(self.api(), job.video_url, workdir / "avatar.mp4", parse_error=parse_error)
