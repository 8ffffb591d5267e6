"""ffmpeg as a probe: what a file is (video, audio, image), how long, how big,
whether it decodes, and a thumbnail frame.

The `imageio-ffmpeg` wheel ships a static ffmpeg but no ffprobe, so the probe
reads what `ffmpeg -i` prints about the input (libavformat's reading of the
container header: the same Duration and Stream lines ffprobe reports), and a
decode pass (`-xerror -f null`) proves the streams are not corrupt. Everything
runs as a subprocess with an argument list (no shell) and a timeout.

Used by the canvas studio (uploaded content pieces) and reusable by the media
providers (`aiplatform/ai/media/`): import from here, this module imports no app.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

PROBE_TIMEOUT = 60.0  # seconds for reading a header
DECODE_TIMEOUT = 120.0  # seconds for the decode check
DECODE_SECONDS = 600  # at most this much of the media is decoded by the check


class MediaError(Exception):
    """The file is not media ffmpeg can read, or it is corrupt. `message` is for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class FfmpegMissing(MediaError):
    pass


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    """The ffmpeg binary of the imageio-ffmpeg wheel (FfmpegMissing says how to install it)."""
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError) as exc:
        raise FfmpegMissing(
            "ffmpeg is missing: `pip install -r requirements.txt` installs it (the imageio-ffmpeg wheel)."
        ) from exc


@dataclass(frozen=True)
class Stream:
    kind: str  # "video" | "audio"
    codec: str
    width: int | None = None
    height: int | None = None
    still: bool = False  # an image "stream" (png, jpeg, webp…) or attached cover art


@dataclass(frozen=True)
class MediaInfo:
    """What ffmpeg read. `kind` is "video", "audio" or "image"."""

    kind: str
    container: str
    duration_seconds: float | None
    streams: tuple[Stream, ...] = field(default_factory=tuple)

    @property
    def width(self) -> int | None:
        video = self.video
        return video.width if video else None

    @property
    def height(self) -> int | None:
        video = self.video
        return video.height if video else None

    @property
    def video(self) -> Stream | None:
        return next((s for s in self.streams if s.kind == "video" and not s.still), None) or next(
            (s for s in self.streams if s.kind == "video"), None
        )

    @property
    def audio(self) -> Stream | None:
        return next((s for s in self.streams if s.kind == "audio"), None)


_INPUT = re.compile(r"Input #0, ([^\n]+?), from ")
_DURATION = re.compile(r"Duration: (?:(\d+):(\d\d):(\d\d(?:\.\d+)?)|N/A)")
_STREAM = re.compile(r"Stream #0:\d+[^:]*: (Video|Audio): ([^\n]+)")
_SIZE = re.compile(r"\b(\d{2,5})x(\d{2,5})\b")
_IMAGE_CODECS = {"png", "mjpeg", "jpeg", "webp", "gif", "bmp", "tiff", "jpegls", "jpeg2000", "avif", "heif"}
# The codecs of real media. ffmpeg also "reads" text art, raw bytes and the like
# (bintext, ansi, tty…) by file extension; those are not media here.
_VIDEO_CODECS = {"h264", "hevc", "vp8", "vp9", "av1", "mpeg4", "mpeg2video", "mpeg1video", "prores", "theora",
                 "h263", "msmpeg4v3", "wmv1", "wmv2", "wmv3", "vc1", "dnxhd", "flv1", "mjpeg", "gif",
                 "apng"}  # fmt: skip
_AUDIO_CODECS = {"aac", "mp3", "mp3float", "mp2", "opus", "vorbis", "flac", "alac", "ac3", "eac3", "wmav1",
                 "wmav2", "amr_nb", "amr_wb", "amrnb", "amrwb", "speex", "adpcm_ms", "adpcm_ima_wav"}  # fmt: skip


def _known(kind: str, codec: str) -> bool:
    if kind == "Audio":
        return codec in _AUDIO_CODECS or codec.startswith("pcm_")
    return codec in _VIDEO_CODECS or codec in _IMAGE_CODECS


_IMAGE_CONTAINERS = ("image2", "png_pipe", "jpeg_pipe", "webp_pipe", "gif", "bmp_pipe", "tiff_pipe", "avif")


def _run(args: list[str], timeout: float, what: str) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(args, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise MediaError(f"{what} took longer than {timeout:g} s; the file may be damaged.") from exc
    except OSError as exc:
        raise FfmpegMissing(f"ffmpeg could not start ({exc}).") from exc


def probe(path: Path | str) -> MediaInfo:
    """Read the file's container header. MediaError when ffmpeg cannot read it as media."""
    path = Path(path)
    done = _run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)], PROBE_TIMEOUT, "Reading the file")
    text = done.stderr.decode("utf-8", "replace")
    container = _INPUT.search(text)
    streams = []
    for kind, rest in _STREAM.findall(text):
        codec = rest.split(",")[0].split(" ")[0].strip()
        if not _known(kind, codec):
            continue
        size = _SIZE.search(rest) if kind == "Video" else None
        still = kind == "Video" and (codec in _IMAGE_CODECS or "attached pic" in rest)
        streams.append(
            Stream(
                kind=kind.lower(),
                codec=codec,
                width=int(size.group(1)) if size else None,
                height=int(size.group(2)) if size else None,
                still=still,
            )  # fmt: skip
        )
    if container is None or not streams:
        raise MediaError("This file is not audio, video or an image that can be read.")
    duration = None
    match = _DURATION.search(text)
    if match and match.group(1) is not None:
        hours, minutes, seconds = match.groups()
        duration = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    name = container.group(1)
    moving = [s for s in streams if s.kind == "video" and not s.still]
    if moving and not (name.startswith(_IMAGE_CONTAINERS) or (duration or 0) == 0 and name == "gif"):
        kind = "video"
    elif any(s.kind == "audio" for s in streams):
        kind = "audio"
    else:
        kind = "image"
    return MediaInfo(kind=kind, container=name, duration_seconds=duration, streams=tuple(streams))


def verify(path: Path | str, info: MediaInfo | None = None) -> MediaInfo:
    """Probe, then decode the streams (up to DECODE_SECONDS) and stop at the first
    error: a corrupt or truncated file is a MediaError, not a piece with a broken player."""
    info = info or probe(path)
    args = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-xerror", "-i", str(path)]
    if info.kind != "image":
        args += ["-t", str(DECODE_SECONDS)]
    done = _run([*args, "-f", "null", "-"], DECODE_TIMEOUT, "Checking the file")
    errors = done.stderr.decode("utf-8", "replace").strip()
    if done.returncode != 0 or errors:
        error = MediaError(
            f"This {info.kind} file is damaged and cannot be played; export it again and upload the new file."
        )
        error.detail = " | ".join(errors.splitlines()[-2:])[:400]
        raise error
    if info.kind in ("video", "audio") and not info.duration_seconds:
        raise MediaError(f"This {info.kind} file has no playable length.")
    return info


def thumbnail(path: Path | str, out: Path | str, *, info: MediaInfo | None = None, width: int = 480) -> Path:
    """One JPEG frame (a tenth into a video, capped at 3 s; the image itself scaled),
    `width` px wide at most. MediaError when no frame can be taken."""
    info = info or probe(path)
    if info.video is None:
        raise MediaError("This file has no picture to take a thumbnail from.")
    out = Path(out)
    seek = min(3.0, (info.duration_seconds or 0) / 10) if info.kind == "video" else 0
    args = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-y"]
    if seek:
        args += ["-ss", f"{seek:.2f}"]
    args += ["-i", str(path), "-frames:v", "1", "-vf", f"scale='min({width},iw)':-2", "-q:v", "4", str(out)]
    done = _run(args, PROBE_TIMEOUT, "Taking a thumbnail")
    if done.returncode != 0 or not out.exists() or out.stat().st_size == 0:
        raise MediaError("A thumbnail could not be taken from this file.")
    return out
