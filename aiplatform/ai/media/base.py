"""The interface every media provider implements, and the values it speaks.

A provider clones voices, turns text into speech, makes avatars from photos and
renders avatar video. It knows nothing of accounts, credits or usage records:
`aiplatform.ai.media.gateway` does that around it (as the chat gateway does for
chat providers). Files travel as local paths: the caller stores them.

Video can be slow (HeyGen renders take minutes), so it is two steps:
`video_start` returns a `VideoJob` (completed at once by the offline provider)
and `video_status` is polled until it is `completed` or `failed`; a completed
hosted job names a URL that `video_download` fetches into a local file.
"""

from __future__ import annotations

from abc import ABC
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path


@dataclass(frozen=True)
class Sample:
    """One uploaded sample (audio for a voice, a photo for an avatar)."""

    filename: str
    content: bytes
    content_type: str = "application/octet-stream"


@dataclass(frozen=True)
class VoiceCloneRequest:
    name: str
    samples: tuple[Sample, ...]
    description: str = ""
    remove_background_noise: bool = False
    labels: dict = field(default_factory=dict)


@dataclass(frozen=True)
class VoiceCloneResult:
    voice_id: str  # the provider's id (ElevenLabs voice_id; the offline engine's voice)
    requires_verification: bool = False
    quality_score: Decimal | None = None  # 0-1, when the provider (or our check of the samples) can tell
    sample_seconds: float | None = None


@dataclass(frozen=True)
class SpeechRequest:
    voice_id: str
    text: str
    workdir: Path  # where the provider writes its output
    model: str = ""  # the provider's model id ("" = its default)
    output_format: str = ""  # "" = the provider's default (an MP3)
    voice_settings: dict | None = None
    language_code: str = ""


@dataclass(frozen=True)
class AudioResult:
    path: Path
    content_type: str  # audio/mpeg
    duration_seconds: float
    characters: int  # what the provider bills speech by
    model: str  # the provider model that spoke


@dataclass(frozen=True)
class AvatarCreateRequest:
    name: str
    photo: Sample


@dataclass(frozen=True)
class AvatarCreateResult:
    avatar_id: str
    quality_score: Decimal | None = None
    preview_url: str = ""


@dataclass(frozen=True)
class VideoRequest:
    avatar_id: str  # HeyGen talking_photo_id / the offline provider's photo key
    audio: Path  # the speech the avatar says (an MP3 from the voice provider)
    workdir: Path
    photo: Path | None = None  # the avatar's photo (the offline renderer draws on it)
    title: str = ""
    callback_id: str = ""  # echoed back by webhooks: our job id
    width: int = 720
    height: int = 1280
    mouth: tuple[float, float] = (0.5, 0.64)  # where the offline renderer draws the mouth (fractions of the frame)


class VideoState:
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    DONE = frozenset({COMPLETED, FAILED})


@dataclass(frozen=True)
class VideoJob:
    video_id: str
    status: str  # VideoState
    video_url: str = ""  # hosted result (expires: download it at once)
    path: Path | None = None  # a local result (the offline provider)
    duration_seconds: float | None = None
    failure_code: str = ""
    failure_message: str = ""

    @property
    def done(self) -> bool:
        return self.status in VideoState.DONE


class MediaProvider(ABC):
    name: str  # "elevenlabs", "heygen", "offline"
    label: str  # for people, in error messages
    speaks: bool = False  # clones voices and speaks
    renders: bool = False  # makes avatars and renders video
    concurrency_setting: str = ""  # the setting that caps concurrent requests

    def unavailable_reason(self) -> str:
        """Why the provider cannot work here ("" = it can): a missing key or tool,
        said with what to do about it."""
        return ""

    # Voices -------------------------------------------------------------------------
    def voice_clone(self, request: VoiceCloneRequest) -> VoiceCloneResult:
        raise NotImplementedError(f"{self.label} does not clone voices.")

    def speech(self, request: SpeechRequest) -> AudioResult:
        raise NotImplementedError(f"{self.label} does not speak.")

    # Avatars ------------------------------------------------------------------------
    def avatar_create(self, request: AvatarCreateRequest) -> AvatarCreateResult:
        raise NotImplementedError(f"{self.label} does not make avatars.")

    def video_start(self, request: VideoRequest) -> VideoJob:
        raise NotImplementedError(f"{self.label} does not render video.")

    def video_status(self, video_id: str) -> VideoJob:
        raise NotImplementedError(f"{self.label} does not render video.")

    def video_download(self, job: VideoJob, workdir: Path) -> Path:
        """A completed job's file, local (the hosted URL expires)."""
        if job.path is not None:
            return job.path
        raise NotImplementedError(f"{self.label} does not render video.")
