"""ElevenLabs: instant voice cloning and text to speech (API v1, as the official
SDK 2.x sends it; shared/reference/media-canvas-builder.md section 1).

    POST /v1/voices/add                      multipart: name, files (repeated),
                                             remove_background_noise, description,
                                             labels (a JSON string)
                                             -> {"voice_id", "requires_verification"}
    POST /v1/text-to-speech/{voice_id}       ?output_format=mp3_44100_128
                                             JSON {text, model_id, voice_settings?, language_code?}
                                             -> the audio bytes

Auth is the `xi-api-key` header. Errors are `{"detail": {"status", "message"}}`
(422: `{"detail": [{"loc", "msg", "type"}]}`); codes that need someone to act
(`invalid_api_key`, `quota_exceeded`, `voice_not_found`,
`max_character_limit_exceeded`) fail the job at once with what to do; 429
(`too_many_concurrent_requests`, `system_busy`) and 5xx are retried.
"""

from __future__ import annotations

import json
import re

import httpx
from django.conf import settings
from django.utils.translation import gettext as _

from ..providers.transport import Endpoint
from . import http
from .base import AudioResult, MediaProvider, SpeechRequest, VoiceCloneRequest, VoiceCloneResult
from .errors import MediaBusy, MediaInputInvalid, MediaMisconfigured, MediaRejected

# Characters per request (help.elevenlabs.io article 19572237925521).
CHARACTER_LIMITS = {
    "eleven_flash_v2_5": 40_000,
    "eleven_turbo_v2_5": 40_000,
    "eleven_flash_v2": 30_000,
    "eleven_turbo_v2": 30_000,
    "eleven_multilingual_v2": 10_000,
}
_FORMAT = re.compile(r"^mp3_(\d+)_(\d+)$")


def parse_error(response: httpx.Response) -> tuple[str, str]:
    body = response.json()
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, dict):
        return str(detail.get("status") or ""), str(detail.get("message") or detail)[:300]
    if isinstance(detail, list):  # 422 validation errors
        parts = [f"{'.'.join(str(p) for p in d.get('loc', []))}: {d.get('msg')}" for d in detail if isinstance(d, dict)]
        return "validation_error", "; ".join(parts)[:300]
    if isinstance(detail, str):
        return "", detail[:300]
    return "", str(body)[:300]


def _map_error(status: int, code: str, message: str) -> Exception | None:
    if code == "invalid_api_key":
        return MediaMisconfigured(
            _("ElevenLabs refused the API key (%(message)s). Check MEDIA_ELEVENLABS_API_KEY.") % {"message": message}
        )
    if code == "quota_exceeded":
        return MediaRejected(
            _(
                "Our ElevenLabs quota is used up (%(message)s). An operator must upgrade the ElevenLabs plan, or set "
                "MEDIA_VOICE_PROVIDER=offline for new voices."
            )
            % {"message": message},
            code="provider_quota_exceeded",
        )
    if code == "voice_not_found":
        return MediaRejected(
            _("ElevenLabs no longer has this voice (%(message)s). Create the voice model again from its sample.")
            % {"message": message},
            code="voice_not_found",
        )
    if code == "max_character_limit_exceeded":
        return MediaRejected(
            _("The script is too long for the voice model (%(message)s). Split it.") % {"message": message},
            code="text_too_long",
        )
    if status == 429:
        what = {"too_many_concurrent_requests": _("more requests at once than our plan allows"),
                "system_busy": _("ElevenLabs is busy")}.get(code, code or _("rate limited"))  # fmt: skip
        return MediaBusy(
            _("ElevenLabs refused the request for now (%(what)s: %(message)s). The job is retried later.")
            % {"what": what, "message": message}
        )
    return None


class ElevenLabs(MediaProvider):
    name = "elevenlabs"
    label = "ElevenLabs"
    speaks = True

    def endpoint(self) -> Endpoint:
        return Endpoint(
            label="ElevenLabs", base_url=settings.MEDIA_ELEVENLABS_BASE_URL,
            headers={"xi-api-key": settings.MEDIA_ELEVENLABS_API_KEY}, base_setting="MEDIA_ELEVENLABS_BASE_URL",
            key_setting="MEDIA_ELEVENLABS_API_KEY",
        )  # fmt: skip

    def unavailable_reason(self) -> str:
        if not settings.MEDIA_ELEVENLABS_API_KEY:
            return "ElevenLabs needs an API key: set MEDIA_ELEVENLABS_API_KEY (or use MEDIA_VOICE_PROVIDER=offline)."
        return ""

    def _require(self) -> Endpoint:
        reason = self.unavailable_reason()
        if reason:
            raise MediaMisconfigured(reason)
        return self.endpoint()

    def voice_clone(self, request: VoiceCloneRequest) -> VoiceCloneResult:
        endpoint = self._require()
        if not request.samples:
            raise MediaInputInvalid(
                _("A voice clone needs at least one audio sample."), fields={"samples": [_("Empty.")]}
            )
        data = {
            "name": request.name,
            "remove_background_noise": "true" if request.remove_background_noise else "false",
        }
        if request.description:
            data["description"] = request.description
        if request.labels:
            data["labels"] = json.dumps(request.labels)
        files = [("files", (s.filename, s.content, s.content_type)) for s in request.samples]
        response = http.request(
            endpoint, "POST", "/v1/voices/add", data=data, files=files, parse_error=parse_error, map_error=_map_error
        )
        body = http.json_body(endpoint, response)
        voice_id = body.get("voice_id")
        if not voice_id:
            raise MediaRejected(
                _("ElevenLabs answered the clone without a voice_id (%(body)s).") % {"body": str(body)[:120]}
            )
        return VoiceCloneResult(voice_id=str(voice_id), requires_verification=bool(body.get("requires_verification")))

    def speech(self, request: SpeechRequest) -> AudioResult:
        endpoint = self._require()
        model = request.model or settings.MEDIA_ELEVENLABS_MODEL
        limit = CHARACTER_LIMITS.get(model, settings.MEDIA_MAX_SCRIPT_CHARS)
        if len(request.text) > limit:
            raise MediaInputInvalid(
                _("The script has %(count)s characters; %(model)s speaks at most %(limit)s per clip. Split it.")
                % {"count": len(request.text), "model": model, "limit": limit},
                fields={"text": [_("At most %(limit)s characters.") % {"limit": limit}]},
                code="text_too_long",
            )
        output_format = request.output_format or settings.MEDIA_ELEVENLABS_OUTPUT_FORMAT
        body: dict = {"text": request.text, "model_id": model}
        if request.voice_settings:
            body["voice_settings"] = request.voice_settings
        if request.language_code:
            body["language_code"] = request.language_code
        target = request.workdir / "speech.mp3"
        response = http.request(
            endpoint, "POST", f"/v1/text-to-speech/{request.voice_id}", params={"output_format": output_format},
            json=body, headers={"Accept": "audio/mpeg"}, parse_error=parse_error, map_error=_map_error,
        )  # fmt: skip
        if not response.content:
            raise MediaRejected(_("ElevenLabs answered with no audio."))
        target.write_bytes(response.content)
        return AudioResult(
            path=target, content_type="audio/mpeg", duration_seconds=mp3_seconds(len(response.content), output_format),
            characters=len(request.text), model=model,
        )  # fmt: skip


def mp3_seconds(size: int, output_format: str) -> float:
    """Length of a constant-bitrate MP3 of `output_format` (mp3_<rate>_<kbps>); 0 when not an MP3 format."""
    match = _FORMAT.match(output_format)
    if not match:
        return 0.0
    return round(size * 8 / (int(match.group(2)) * 1000), 2)
