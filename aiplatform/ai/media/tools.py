"""The local tools the offline provider runs: espeak-ng (Debian package) and the
ffmpeg binary that the `imageio-ffmpeg` wheel ships (found by
aiplatform/media/ffmpeg.py, which also probes files). A missing one is a
MediaToolMissing error that says how to install it.

Tools run as subprocesses with argument lists (no shell), a timeout
(MEDIA_TOOL_TIMEOUT) and their stderr kept for the error message.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
from django.conf import settings
from django.utils.translation import gettext as _

from aiplatform.media import ffmpeg

from .errors import MediaProviderError, MediaToolMissing

INSTALL_ESPEAK = (
    "espeak-ng is not installed on this machine: run `apt-get install espeak-ng` "
    "(bin/setup does it when run as root), or set MEDIA_ESPEAK_BINARY to its path."
)
INSTALL_FFMPEG = "ffmpeg is missing: `pip install -r requirements.txt` installs it (the imageio-ffmpeg wheel)."


def _ffmpeg_path() -> str:
    try:
        return ffmpeg.ffmpeg_exe()
    except ffmpeg.FfmpegMissing:
        return ""


def ffmpeg_exe() -> str:
    path = _ffmpeg_path()
    if not path:
        raise MediaToolMissing(INSTALL_FFMPEG)
    return path


def espeak_exe() -> str:
    path = shutil.which(settings.MEDIA_ESPEAK_BINARY)
    if not path:
        raise MediaToolMissing(INSTALL_ESPEAK)
    return path


def missing() -> str:
    """What is missing for the offline provider, said with how to install it ("" = nothing)."""
    problems = []
    if not shutil.which(settings.MEDIA_ESPEAK_BINARY):
        problems.append(INSTALL_ESPEAK)
    if not _ffmpeg_path():
        problems.append(INSTALL_FFMPEG)
    return " ".join(problems)


def run(args: list[str], *, what: str, stdin: bytes | None = None) -> bytes:
    """Run a tool; its stdout, or MediaProviderError naming what failed with stderr's tail."""
    try:
        done = subprocess.run(args, input=stdin, capture_output=True, timeout=settings.MEDIA_TOOL_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise MediaProviderError(
            _("%(what)s took longer than %(seconds)s s (MEDIA_TOOL_TIMEOUT).")
            % {"what": what, "seconds": format(settings.MEDIA_TOOL_TIMEOUT, "g")}
        )
    except OSError as exc:
        raise MediaToolMissing(_("%(what)s could not start (%(error)s).") % {"what": what, "error": exc}) from exc
    if done.returncode != 0:
        tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
        raise MediaProviderError(
            _("%(what)s failed (exit %(code)s): %(tail)s")
            % {"what": what, "code": done.returncode, "tail": " | ".join(tail)[:400]}
        )
    return done.stdout


PCM_RATE = 16_000


def decode_pcm(path: Path, *, what: str = "Decoding the audio") -> np.ndarray:
    """The audio of `path` as 16 kHz mono float samples in [-1, 1]; ffmpeg decodes any format it knows."""
    raw = run(
        [ffmpeg_exe(), "-v", "error", "-nostdin", "-i", str(path), "-f", "s16le", "-ac", "1", "-ar",
         str(PCM_RATE), "-"],
        what=what,
    )  # fmt: skip
    return np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
