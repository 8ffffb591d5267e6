"""Helpers of the media tests: real samples and photos made here, storage in a temp folder."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

SAMPLE_TEXT = "Hi, I am recording a sample of my voice for the studio, speaking clearly and calmly."


def speech_wav(tmp_path: Path, voice: str = "en-us+f3", pitch: int = 70, text: str = SAMPLE_TEXT) -> bytes:
    path = tmp_path / f"sample-{voice}-{pitch}.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-p", str(pitch), "-w", str(path), text], check=True)
    return path.read_bytes()


def sample_upload(tmp_path: Path, name: str = "me.wav") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, speech_wav(tmp_path), content_type="audio/wav")


def photo_bytes(size=(600, 800), fmt="PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (205, 172, 150)).save(out, fmt)
    return out.getvalue()


def photo_upload(name: str = "face.png", size=(600, 800)) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, photo_bytes(size), content_type="image/png")


@pytest.fixture
def media_storage(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "storage")
    settings.MEDIA_VOICE_PROVIDER = "offline"
    settings.MEDIA_AVATAR_PROVIDER = "offline"
    settings.MEDIA_OFFLINE_VIDEO_SIZE = "360x640"
    return Path(settings.MEDIA_ROOT)
