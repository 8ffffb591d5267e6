"""Playwright on the system Chromium (Debian's), never a browser Playwright downloads."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True, "has_touch": True}


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless system Chromium; skips the test when it is not installed.

    Playwright's sync API keeps an event loop running in this thread while it is
    open, so Django's ORM refuses to run here until the block has exited.
    """
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def layout_width(page) -> int:
    """Width of the layout viewport: the phone's width when the meta viewport works."""
    return page.evaluate("document.documentElement.clientWidth")


def horizontal_overflow(page) -> int:
    """How many CSS pixels the document is wider than the layout viewport (0: none).

    Not `window.innerWidth`: with mobile emulation Chromium zooms out to fit wide
    content, and innerWidth grows with it, so that comparison never fails.
    """
    return page.evaluate("Math.max(0, document.documentElement.scrollWidth - document.documentElement.clientWidth)")
