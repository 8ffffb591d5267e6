"""The offline media provider: real speech and avatar video made on this machine,
with no key and no network (shared/reference/media-canvas-builder.md section 2).

* Voice "clone": the samples are decoded with ffmpeg and measured: length of
  audible speech, clipping, and the speaker's pitch (autocorrelation over 40 ms
  frames). The voice is espeak-ng's English with the male or female variant
  and the pitch nearest the speaker's: `en-us+f3:p62`. That is not a clone of
  the timbre (no offline model here can do that), and the quality score says
  how usable the sample was: 0.8 x min(speech seconds / 60, 1) + 0.2 x (1 -
  clipping), ElevenLabs asking for one to two minutes of clean audio.
* Speech: `espeak-ng -v <voice> -s <rate> -p <pitch> -w speech.wav --stdin`,
  then ffmpeg to MP3 (libmp3lame, 64 kbit/s). Duration from the WAV's frames.
* Avatar: the photo is checked (JPEG/PNG/WebP, at least 200 px a side).
* Video, "mouth flap": the photo is fitted to the frame (720x1280 by default)
  and drawn with a mouth at four openings; the speech's loudness every 40 ms
  picks the opening; ffmpeg's concat demuxer strings the frames with their
  durations and muxes the audio (H.264 + AAC, faststart MP4). No lip sync: the
  offline lip-sync models need weights downloaded at run time.
"""

from __future__ import annotations

import hashlib
import io
import re
import tempfile
import wave
from decimal import Decimal
from pathlib import Path

import numpy as np
from django.conf import settings
from django.utils.translation import gettext as _

from .base import (
    AudioResult,
    AvatarCreateRequest,
    AvatarCreateResult,
    MediaProvider,
    SpeechRequest,
    VideoJob,
    VideoRequest,
    VideoState,
    VoiceCloneRequest,
    VoiceCloneResult,
)
from .errors import MediaInputInvalid, MediaProviderError
from .tools import PCM_RATE, decode_pcm, espeak_exe, ffmpeg_exe, missing, run

FRAME_SECONDS = 0.04  # 25 frames a second: one mouth opening per frame
MOUTH_LEVELS = 4
MIN_SPEECH_SECONDS = 1.0
MIN_PHOTO_SIDE = 200
_VOICE = re.compile(r"^(?P<voice>[a-z]{2,3}(?:-[a-z0-9]{2,8})?)(?:\+(?P<variant>[mf][1-7]))?(?::p(?P<pitch>\d{1,2}))?$")


def _frames(pcm: np.ndarray, size: int) -> np.ndarray:
    count = len(pcm) // size
    return pcm[: count * size].reshape(count, size) if count else np.zeros((0, size), dtype=np.float32)


def _rms(frames: np.ndarray) -> np.ndarray:
    return np.sqrt(np.mean(frames**2, axis=1)) if len(frames) else np.zeros(0)


def _pitch(frames: np.ndarray) -> float | None:
    """Median fundamental frequency (Hz) over voiced frames, by autocorrelation in 70-400 Hz."""
    low, high = int(PCM_RATE / 400), int(PCM_RATE / 70)
    found = []
    for frame in frames[:: max(1, len(frames) // 200)]:
        frame = frame - frame.mean()
        corr = np.correlate(frame, frame, mode="full")[len(frame) - 1 :]
        if corr[0] <= 0:
            continue
        lag = low + int(np.argmax(corr[low:high]))
        if corr[lag] / corr[0] > 0.3:  # periodic enough to be voiced
            found.append(PCM_RATE / lag)
    return float(np.median(found)) if found else None


def voice_spec(voice_id: str) -> tuple[str, int | None]:
    """(espeak voice, pitch) of an offline voice id such as `en-us+f3:p62`."""
    match = _VOICE.match(voice_id or "")
    if not match:
        return settings.MEDIA_ESPEAK_VOICE, None
    voice = match["voice"] + (f"+{match['variant']}" if match["variant"] else "")
    return voice, int(match["pitch"]) if match["pitch"] else None


class Offline(MediaProvider):
    name = "offline"
    label = "The offline media engine"
    speaks = True
    renders = True

    def unavailable_reason(self) -> str:
        return missing()

    # --- voices -----------------------------------------------------------------------------

    def voice_clone(self, request: VoiceCloneRequest) -> VoiceCloneResult:
        if not request.samples:
            raise MediaInputInvalid(_("A voice needs at least one audio sample."), fields={"samples": [_("Empty.")]})
        pieces = []
        with tempfile.TemporaryDirectory(prefix="voice-") as workdir:
            for index, sample in enumerate(request.samples):
                path = Path(workdir) / f"sample-{index}"
                path.write_bytes(sample.content)
                try:
                    pieces.append(decode_pcm(path, what=f"Reading the sample {sample.filename!r}"))
                except MediaProviderError:
                    raise MediaInputInvalid(
                        _("%(file)s is not audio we can read. Upload an MP3, WAV, M4A or OGG recording.")
                        % {"file": repr(sample.filename)},
                        fields={"samples": [_("Not readable audio.")]},
                    ) from None
        pcm = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
        frames = _frames(pcm, int(PCM_RATE * FRAME_SECONDS))
        rms = _rms(frames)
        voiced = rms > max(0.01, 0.15 * float(np.percentile(rms, 95))) if len(rms) else rms.astype(bool)
        speech_seconds = float(voiced.sum()) * FRAME_SECONDS
        if speech_seconds < MIN_SPEECH_SECONDS:
            raise MediaInputInvalid(
                _(
                    "The samples have %(seconds)s s of audible speech; at least %(minimum)s s is "
                    "needed (one to two minutes of clean speech gives the best voice)."
                )
                % {"seconds": format(speech_seconds, ".1f"), "minimum": format(MIN_SPEECH_SECONDS, "g")},
                fields={"samples": [_("Too little speech.")]},
                code="sample_too_short",
            )
        clipping = float(np.mean(np.abs(pcm) > 0.99))
        f0 = _pitch(frames[voiced])
        variant = "f3" if f0 is not None and f0 >= 165 else "m3"
        # espeak-ng's pitch 50 is about 120 Hz for its male variants and 210 Hz for the female ones.
        centre, slope = (210, 0.5) if variant == "f3" else (120, 0.8)
        pitch = int(min(90, max(10, round(50 + ((f0 or centre) - centre) * slope))))
        language = settings.MEDIA_ESPEAK_VOICE
        quality = 0.8 * min(speech_seconds / 60, 1) + 0.2 * (1 - min(clipping * 10, 1))
        return VoiceCloneResult(
            voice_id=f"{language}+{variant}:p{pitch}", quality_score=Decimal(str(round(quality, 2))),
            sample_seconds=round(len(pcm) / PCM_RATE, 2),
        )  # fmt: skip

    def speech(self, request: SpeechRequest) -> AudioResult:
        text = request.text.strip()
        if not text:
            raise MediaInputInvalid(_("There is nothing to say: the script is empty."), fields={"text": [_("Empty.")]})
        if len(text) > settings.MEDIA_MAX_SCRIPT_CHARS:
            raise MediaInputInvalid(
                _("The script has %(count)s characters; at most %(limit)s per clip.")
                % {"count": len(text), "limit": settings.MEDIA_MAX_SCRIPT_CHARS},
                fields={"text": [_("At most %(limit)s characters.") % {"limit": settings.MEDIA_MAX_SCRIPT_CHARS}]},
                code="text_too_long",
            )
        voice, pitch = voice_spec(request.voice_id)
        wav, mp3 = request.workdir / "speech.wav", request.workdir / "speech.mp3"
        args = [espeak_exe(), "-v", voice, "-s", str(settings.MEDIA_ESPEAK_RATE), "-w", str(wav), "--stdin"]
        if pitch is not None:
            args[5:5] = ["-p", str(pitch)]
        run(args, what="espeak-ng", stdin=text.encode("utf-8"))
        with wave.open(str(wav), "rb") as audio:
            seconds = audio.getnframes() / float(audio.getframerate())
        run(
            [ffmpeg_exe(), "-v", "error", "-nostdin", "-y", "-i", str(wav), "-c:a", "libmp3lame", "-b:a", "64k",
             str(mp3)],
            what="ffmpeg (speech to MP3)",
        )  # fmt: skip
        wav.unlink(missing_ok=True)
        return AudioResult(
            path=mp3, content_type="audio/mpeg", duration_seconds=round(seconds, 2), characters=len(text),
            model=f"espeak-ng {voice}",
        )  # fmt: skip

    # --- avatars ----------------------------------------------------------------------------

    def avatar_create(self, request: AvatarCreateRequest) -> AvatarCreateResult:
        width, height = photo_size(request.photo.content)
        quality = min(1.0, min(width, height) / 720)
        return AvatarCreateResult(
            avatar_id=f"offline-{hashlib.sha256(request.photo.content).hexdigest()[:16]}",
            quality_score=Decimal(str(round(quality, 2))),
        )

    def video_start(self, request: VideoRequest) -> VideoJob:
        if request.photo is None:
            raise MediaInputInvalid(
                _("The offline renderer needs the avatar's photo."), fields={"photo": [_("Missing.")]}
            )
        path, seconds = render_mouth_flap(request)
        return VideoJob(
            video_id=request.callback_id or path.stem, status=VideoState.COMPLETED, path=path,
            duration_seconds=seconds,
        )  # fmt: skip

    def video_status(self, video_id: str) -> VideoJob:
        return VideoJob(video_id=video_id, status=VideoState.FAILED, failure_message="Offline videos finish at once.")


def photo_size(content: bytes) -> tuple[int, int]:
    """(width, height) of a photo, or MediaInputInvalid when it is not one we can use."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(content)) as image:
            image.verify()
        with Image.open(io.BytesIO(content)) as image:
            if image.format not in ("JPEG", "PNG", "WEBP"):
                raise MediaInputInvalid(_("Upload a JPEG, PNG or WebP photo."), fields={"photos": [_("Not a photo.")]})
            width, height = image.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise MediaInputInvalid(
            _("That file is not a photo we can read. Upload a JPEG, PNG or WebP picture."),
            fields={"photos": [_("Not a readable image.")]},
        ) from None
    if min(width, height) < MIN_PHOTO_SIDE:
        raise MediaInputInvalid(
            _("The photo is %(width)sx%(height)s; it needs at least %(minimum)s px a side (a face of about 200x200).")
            % {"width": width, "height": height, "minimum": MIN_PHOTO_SIDE},
            fields={"photos": [_("Too small.")]},
        )
    return width, height


def _mouth_frames(photo: Path, request: VideoRequest, workdir: Path) -> list[Path]:
    from PIL import Image, ImageDraw, ImageOps

    with Image.open(photo) as image:
        base = ImageOps.fit(ImageOps.exif_transpose(image).convert("RGB"), (request.width, request.height))
    cx, cy = request.mouth[0] * request.width, request.mouth[1] * request.height
    half_width = 0.08 * request.width
    frames = []
    for level in range(MOUTH_LEVELS):
        frame = base.copy()
        draw = ImageDraw.Draw(frame)
        half_height = max(2.0, level * 0.018 * request.width)
        box = (cx - half_width, cy - half_height, cx + half_width, cy + half_height)
        draw.ellipse(box, fill=(72, 18, 28), outline=(168, 70, 80), width=max(2, request.width // 180))
        if level >= 2:  # teeth
            draw.rectangle((cx - half_width * 0.55, cy - half_height, cx + half_width * 0.55,
                            cy - half_height * 0.55), fill=(236, 232, 224))  # fmt: skip
        path = workdir / f"mouth-{level}.png"
        frame.save(path, optimize=False, compress_level=1)
        frames.append(path)
    return frames


def _levels(audio: Path) -> np.ndarray:
    pcm = decode_pcm(audio, what="Reading the speech")
    rms = _rms(_frames(pcm, int(PCM_RATE * FRAME_SECONDS)))
    if not len(rms):
        raise MediaInputInvalid(_("The speech is empty: there is nothing for the avatar to say."))
    loud = float(np.percentile(rms, 95)) or 1.0
    return np.clip(np.ceil(rms / loud * (MOUTH_LEVELS - 1)), 0, MOUTH_LEVELS - 1).astype(int)


def render_mouth_flap(request: VideoRequest) -> tuple[Path, float]:
    """The MP4 of the photo saying the audio; (path, seconds)."""
    workdir = request.workdir
    levels = _levels(request.audio)
    frames = _mouth_frames(request.photo, request, workdir)
    lines = ["ffconcat version 1.0"]
    start = 0
    for index in range(1, len(levels) + 1):
        if index == len(levels) or levels[index] != levels[start]:
            lines += [f"file '{frames[levels[start]].name}'", f"duration {(index - start) * FRAME_SECONDS:.2f}"]
            start = index
    lines.append(f"file '{frames[levels[-1]].name}'")  # the concat demuxer drops the last duration otherwise
    playlist = workdir / "frames.ffconcat"
    playlist.write_text("\n".join(lines) + "\n")
    target = workdir / "avatar.mp4"
    run(
        [ffmpeg_exe(), "-v", "error", "-nostdin", "-y", "-f", "concat", "-safe", "0", "-i", str(playlist),
         "-i", str(request.audio), "-vf", "fps=25,format=yuv420p", "-c:v", "libx264", "-preset", "veryfast",
         "-tune", "stillimage", "-crf", "28", "-c:a", "aac", "-b:a", "96k", "-movflags", "+faststart",
         "-shortest", str(target)],
        what="ffmpeg (avatar video)",
    )  # fmt: skip
    for frame in frames:
        frame.unlink(missing_ok=True)
    playlist.unlink(missing_ok=True)
    return target, round(len(levels) * FRAME_SECONDS, 2)
