"""Low-level media helpers (no app imports): probing and thumbnails with the
ffmpeg binary of the `imageio-ffmpeg` wheel."""
