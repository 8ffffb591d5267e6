"""Content studio demo (idempotent): Acme Logistics gets a "Content lab" project with
pieces added the way users add them (two posts by URL, one uploaded video probed
with ffmpeg, with its thumbnail), an analysis and a script of the video run
through the processing queue (jobs, holds and usage as in production; on the
offline model they cost nothing), and an inbox of posts scraped from a followed
creator through the file-import source adapter.

Run after seed_demo (seed_everything orders it). A second run changes nothing.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand

from accounts.demo import TEAM_ACCOUNT, demo_tenant
from accounts.tenancy.context import account_context
from aiplatform.errors import ServiceError
from aiplatform.media import ffmpeg
from canvas.models import Creator, Project
from canvas.services import queue
from canvas.services.analysis import analysis_start
from canvas.services.content import piece_add_url, piece_upload
from canvas.services.creators import creator_follow
from canvas.services.projects import project_create
from canvas.services.scraping import creator_scrape
from canvas.services.scripts import script_start

TITLE = "Content lab"
URLS = [
    ("https://www.youtube.com/watch?v=acmeSlots2", "Booked slots, explained in 60 seconds", 40, 40),
    ("https://x.com/acmelogistics/status/1860000000000000001", "Thread: what 40-minute waits changed", 420, 40),
]
CREATOR = {"platform": "tiktok", "username": "freightfacts", "display_name": "Freight Facts"}
IMPORT_PATH = "demo/imports/freightfacts.json"
POSTS = [
    {"url": "https://www.tiktok.com/@freightfacts/video/7300000000000000101", "title": "Why trucks idle at docks",
     "published_at": "2026-11-28T09:00:00Z"},
    {"url": "https://www.tiktok.com/@freightfacts/video/7300000000000000102", "title": "3 dock KPIs that matter",
     "published_at": "2026-11-30T09:00:00Z"},
]  # fmt: skip


def _demo_video(folder: Path) -> Path | None:
    """A 6-second test card with a tone (what a user would upload)."""
    try:
        exe = ffmpeg.ffmpeg_exe()
    except ffmpeg.FfmpegMissing:
        return None
    out = folder / "dock-walkthrough.mp4"
    subprocess.run(
        [exe, "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=540x960:rate=25", "-f", "lavfi", "-i",
         "sine=frequency=330", "-t", "6", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
         "-c:a", "aac", "-shortest", str(out)],
        check=True, timeout=120,
    )  # fmt: skip
    return out


def _run_now(job) -> None:
    """Run a queued job here (the worker may not be up yet; its task then finds it done)."""
    queue.job_execute(store="canvas", job_id=str(job.pk), account_id=str(job.account_id))


def content_demo_seed() -> str:
    tenant = demo_tenant(TEAM_ACCOUNT)
    if tenant is None:
        return "No demo accounts: run seed_demo first."
    account, owner = tenant.account, tenant.owner
    with account_context(account.id):
        if Project.objects.filter(account=account, title=TITLE).exists():
            return f"{account.name}: the “{TITLE}” project is already there."
        project = project_create(
            account=account, actor=owner, title=TITLE,
            description="Pieces by URL and upload, analysed and rewritten through the processing queue.",
        )  # fmt: skip
    for url, title, x, y in URLS:
        piece_add_url(project=project, actor=owner, url=url, title=title, x=x, y=y)
    notes = []
    with tempfile.TemporaryDirectory() as tmp:
        video = _demo_video(Path(tmp))
        if video is not None:
            with open(video, "rb") as fh:
                piece = piece_upload(project=project, actor=owner, file=File(fh, name=video.name),
                                     title="Dock 9 walkthrough (upload)", x=40, y=360)  # fmt: skip
            piece.transcript = (
                "Five a.m. at dock nine: fourteen trucks, nine waiting since midnight. Booked slots and a text when "
                "the door is free took waiting from six hours to forty minutes."
            )
            with account_context(account.id):
                piece.save(update_fields=["transcript", "updated_at"])
            try:
                _, job = analysis_start(piece=piece, actor=owner)
                _run_now(job)
                _, job = script_start(piece=piece, actor=owner, instructions="Keep it under 45 seconds.")
                _run_now(job)
            except ServiceError as exc:  # e.g. no credits, or the AI switched off: the pieces still show
                notes.append(f"jobs skipped: {exc.message}")
        else:
            notes.append("upload skipped: ffmpeg is missing")
    if not default_storage.exists(IMPORT_PATH):
        default_storage.save(IMPORT_PATH, ContentFile(json.dumps(POSTS).encode()))
    creator, _ = Creator.objects.get_or_create(
        platform=CREATOR["platform"], username=CREATOR["username"],
        defaults={"display_name": CREATOR["display_name"], "profile_url": "https://www.tiktok.com/@freightfacts",
                  "follower_count": 48200, "scrape_frequency_hours": 6, "metadata": {"import_file": IMPORT_PATH}},
    )  # fmt: skip
    try:
        with account_context(account.id):
            creator_follow(account=account, actor=owner, creator=creator)
    except ServiceError as exc:  # the plan's creator limit
        notes.append(f"follow skipped: {exc.message}")
    scraped = creator_scrape(creator.pk)
    extra = f" ({'; '.join(notes)})" if notes else ""
    return (
        f"{account.name}: created the “{TITLE}” project (2 URL pieces, 1 uploaded video with analysis and script) "
        f"and an inbox of {scraped.get('added', 0)} posts from @{creator.username}{extra}."
    )


class Command(BaseCommand):
    help = "Create the content studio demo: pieces, an analysis and a script through the queue, a scraped inbox."

    def handle(self, *args, **options):
        self.stdout.write(content_demo_seed())
        self.stdout.write(self.style.SUCCESS("Content demo ready."))
