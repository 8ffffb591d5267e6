"""Voice & avatar demo (idempotent): Acme Logistics gets a voice model cloned from
a recorded sample, an avatar from a shipped-style portrait, and one generated
voice clip and one avatar video made by the offline media engine through the
processing queue (jobs, holds and usage as in production). Without espeak-ng
(or ffmpeg) it says so and how to install it, and makes nothing.

Run after seed_demo (seed_everything orders it). A second run changes nothing.
"""

from __future__ import annotations

import io
import subprocess
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand

from accounts.demo import TEAM_ACCOUNT, demo_tenant
from accounts.tenancy.context import account_context
from aiplatform.ai.media.registry import media_provider
from aiplatform.errors import ServiceError
from canvas.models import AvatarModel, GeneratedContent, VoiceModel
from canvas.services import queue
from canvas.services.avatar import avatar_model_create
from canvas.services.media import avatar_video_generate, speech_generate
from canvas.services.voice import Upload, voice_model_create

VOICE, AVATAR = "Acme narrator", "Acme presenter"
SAMPLE = (
    "Hello, this is the Acme Logistics narrator. We book dock slots so trucks stop waiting, "
    "and every driver knows when to arrive. Let me tell you how it works."
)
CLIP = "Booked dock slots cut our truck waiting time from forty minutes to nine. Here is how we did it."
VIDEO = "Three numbers from our docks this week: nine minute waits, ninety eight percent on time, zero queues."


def _portrait() -> bytes:
    """A simple drawn portrait (face, hair, shoulders) the mouth-flap renderer animates."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (720, 1280), (40, 96, 140))
    draw = ImageDraw.Draw(image)
    draw.ellipse((110, 1000, 610, 1500), fill=(30, 50, 80))  # shoulders
    draw.rectangle((300, 860, 420, 1040), fill=(225, 185, 160))  # neck
    draw.ellipse((190, 420, 530, 900), fill=(232, 194, 170))  # face
    draw.pieslice((180, 380, 540, 760), 180, 360, fill=(70, 45, 30))  # hair
    for x in (285, 435):
        draw.ellipse((x - 22, 610, x + 22, 640), fill=(255, 255, 255))
        draw.ellipse((x - 10, 614, x + 10, 636), fill=(50, 40, 30))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _run_now(content: GeneratedContent) -> None:
    """Run the clip's job here (the worker may not be up yet; its task then finds it done)."""
    queue.job_execute(store="canvas", job_id=content.metadata["job_id"], account_id=str(content.account_id))


def media_demo_seed() -> str:
    tenant = demo_tenant(TEAM_ACCOUNT)
    if tenant is None:
        return "No demo accounts: run seed_demo first."
    reason = media_provider("offline").unavailable_reason()
    if reason:
        return f"Skipped: the offline media engine is unavailable. {reason}"
    account, actor = tenant.account, tenant.owner
    with account_context(account.id):
        voice = VoiceModel.objects.filter(account=account, name=VOICE, is_active=True).first()
        avatar = AvatarModel.objects.filter(account=account, name=AVATAR).first()
    made = []
    if voice is None:
        with tempfile.TemporaryDirectory() as tmp:
            sample = Path(tmp) / "narrator.wav"
            subprocess.run(["espeak-ng", "-v", "en-us+m3", "-p", "40", "-w", str(sample), SAMPLE], check=True)
            voice = voice_model_create(account=account, actor=actor, name=VOICE,
                                       samples=[Upload("narrator.wav", sample.read_bytes(), "audio/wav")])  # fmt: skip
        made.append("voice")
    if avatar is None:
        avatar = avatar_model_create(account=account, actor=actor, name=AVATAR,
                                     photos=[Upload("presenter.png", _portrait(), "image/png")])  # fmt: skip
        made.append("avatar")
    with account_context(account.id):
        kinds = set(GeneratedContent.objects.filter(account=account, voice_model__name=VOICE).values_list(
            "content_type", flat=True))  # fmt: skip
    if "audio" not in kinds:
        _run_now(speech_generate(account=account, actor=actor, voice=voice, text=CLIP))
        made.append("voice clip")
    if "video" not in kinds:
        _run_now(avatar_video_generate(account=account, actor=actor, avatar=avatar, voice=voice, text=VIDEO))
        made.append("avatar video")
    return f"Media demo: made {', '.join(made)}." if made else "Media demo already loaded."


class Command(BaseCommand):
    help = "Load the voice & avatar demo for Acme Logistics (idempotent)."

    def handle(self, *args, **options):
        try:
            self.stdout.write(media_demo_seed())
        except ServiceError as exc:
            self.stderr.write(f"Media demo not loaded: {exc.message}")
