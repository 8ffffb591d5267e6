"""Small real media files made with the ffmpeg of imageio-ffmpeg (for upload tests)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from aiplatform.media.ffmpeg import ffmpeg_exe


def make_media(folder: Path) -> dict[str, Path]:
    """video.mp4 (3 s, 320x240, h264 + aac), audio.mp3 (2 s), image.png (200x100),
    corrupt.mp4 (the video with bytes flipped), truncated.mp4, notes.txt, blob.bin."""
    folder.mkdir(parents=True, exist_ok=True)
    ff = ffmpeg_exe()
    run = lambda *args: subprocess.run([ff, "-v", "error", "-y", *args], check=True, timeout=60)  # noqa: E731
    video, audio, image = folder / "video.mp4", folder / "audio.mp3", folder / "image.png"
    run("-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=440",
        "-t", "3", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
        str(video))  # fmt: skip
    run("-f", "lavfi", "-i", "sine=frequency=440", "-t", "2", str(audio))
    run("-f", "lavfi", "-i", "testsrc=size=200x100", "-frames:v", "1", str(image))
    data = bytearray(video.read_bytes())
    for i in range(len(data) // 3, len(data) - 2000, 997):
        data[i] = (data[i] + 77) % 256
    (folder / "corrupt.mp4").write_bytes(bytes(data))
    (folder / "truncated.mp4").write_bytes(video.read_bytes()[:20000])
    (folder / "notes.txt").write_text("Three hooks that work:\n1. Ask a question.\n", encoding="utf-8")
    (folder / "blob.bin").write_bytes(bytes(range(256)) * 40)
    return {p.name: p for p in folder.iterdir()}
