"""Canvas board demo (idempotent): Acme Logistics gets a project whose board has
folders, content pieces (with transcripts, and an analysis), an AI chat node and
connections between them, so the first page opened shows a live board.

Run after seed_demo (seed_everything orders it). A second run changes nothing.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.demo import TEAM_ACCOUNT, demo_tenant
from accounts.models import Membership, Role
from accounts.tenancy.context import account_context
from canvas.models import CanvasFolderItem, ContentAnalysis, ContentPiece, Project, ProjectPermission
from canvas.services.board import board_apply
from canvas.services.projects import collaborator_add, project_create

TITLE = "Q1 launch reels"
PIECES = [
    {
        "key": "dock",
        "platform": "youtube",
        "content_type": "video",
        "x": 40,
        "y": 300,
        "title": "Dock 9 at 5 a.m.: why trucks wait six hours",
        "source_url": "https://www.youtube.com/watch?v=acmeDock9",
        "description": "A shift lead walks the dock and counts idle trucks.",
        "transcript": "It is five in the morning at dock nine. Fourteen trucks, and nine of them have waited since "
        "midnight. Every hour a truck idles costs the carrier about ninety dollars. We fixed it with one change: "
        "slots booked the day before, and a text when your door is free. Waiting went from six hours to forty "
        "minutes.",
        "duration_seconds": 48,
        "metadata": {"views": 18200, "likes": 1240, "comments": 96},
    },
    {
        "key": "rival",
        "platform": "tiktok",
        "content_type": "video",
        "x": 420,
        "y": 40,
        "title": "Rival: same-day freight, guaranteed",
        "source_url": "https://www.tiktok.com/@globexfreight/video/7300000000000000001",
        "transcript": "Same-day freight, guaranteed. Book by ten, delivered by six. No excuses.",
        "duration_seconds": 15,
        "metadata": {"views": 96000, "likes": 8100, "comments": 310},
    },
    {
        "key": "post",
        "platform": "linkedin",
        "content_type": "text",
        "x": 420,
        "y": 200,
        "title": "Our ops director on booking slots",
        "source_url": "https://www.linkedin.com/posts/acme-logistics-slots",
        "transcript": "We stopped first-come-first-served at the docks. Booked slots cut waiting by 89 percent "
        "and drivers now choose us first.",
        "metadata": {"reactions": 640, "reposts": 58},
    },
]


def _piece(account, project, user, spec) -> ContentPiece:
    values = {k: v for k, v in spec.items() if k not in ("key", "x", "y")}
    return ContentPiece.objects.create(
        account=account, project=project, uploaded_by=user, position_x=spec["x"], position_y=spec["y"],
        processing_status="completed", **values,
    )  # fmt: skip


def canvas_demo_seed() -> str:
    tenant = demo_tenant(TEAM_ACCOUNT)
    if tenant is None:
        return "No demo accounts: run seed_demo first."
    account, owner = tenant.account, tenant.owner
    with account_context(account.id):
        if Project.objects.filter(account=account, title=TITLE).exists():
            return f"{account.name}: the “{TITLE}” board is already there."
    with transaction.atomic(), account_context(account.id):
        project = project_create(
            account=account, actor=owner, title=TITLE,
            description="Hooks that work for the dock-slot launch: our videos, a rival's, and an AI chat reading them.",
            canvas_data={"viewport": {"x": 40, "y": 110, "zoom": 0.8}, "settings": {"minimap": True}},
        )  # fmt: skip
        others = Membership.objects.filter(account=account).exclude(pk=owner.pk).select_related("user")
        for member in others:
            level = ProjectPermission.VIEWER if member.role == Role.VIEWER else ProjectPermission.EDITOR
            collaborator_add(project=project, actor=owner, user=member.user_id, permission_level=level)
        pieces = {spec["key"]: _piece(account, project, owner.user, spec) for spec in PIECES}
        ContentAnalysis.objects.create(
            account=account, content_piece=pieces["dock"], analysis_status="completed", analyzed_at=timezone.now(),
            ai_model_used="demo", hook_analysis="Opens on a number the viewer can picture: nine idle trucks at 5 a.m.",
            body_analysis="One problem, one fix, one result (six hours to forty minutes).",
            cta_analysis="No explicit call to action: add 'book your slot' with the link.",
            content_style_analysis="Handheld walk-through, shift lead as narrator, captions on.",
            hashtags=["logistics", "trucking", "supplychain"], engagement_score=Decimal("72.50"),
            sentiment_score=Decimal("0.60"),
        )  # fmt: skip

        def op(**fields):
            return board_apply(project=project, actor=owner, op=fields).node

        hooks = op(op="create", kind="folder", x=20, y=20, w=340, h=220, title="Hooks that work", color="#16A34A")
        rivals = op(op="create", kind="folder", x=400, y=-60, w=300, h=90, title="Competitors", color="#DC2626",
                    collapsed=False)  # fmt: skip
        chat = op(op="create", kind="chat_interface", x=820, y=80, w=380, h=460, title="Hook ideas")
        CanvasFolderItem.objects.create(account=account, folder_id=hooks["id"], content_piece=pieces["dock"],
                                        sort_order=0, added_by=owner.user)  # fmt: skip
        CanvasFolderItem.objects.create(account=account, folder_id=hooks["id"], content_piece=pieces["post"],
                                        sort_order=1, added_by=owner.user)  # fmt: skip
        CanvasFolderItem.objects.create(account=account, folder_id=rivals["id"], content_piece=pieces["rival"],
                                        sort_order=0, added_by=owner.user)  # fmt: skip
        chat_ref = {"kind": "chat_interface", "id": chat["id"]}
        op(op="connect", source={"kind": "folder", "id": hooks["id"]}, target=chat_ref, style={"color": "#16A34A"})
        op(op="connect", source={"kind": "content_piece", "id": str(pieces["rival"].pk)}, target=chat_ref)
        dock, post = ({"kind": "content_piece", "id": str(pieces[k].pk)} for k in ("dock", "post"))
        op(op="connect", source=dock, target=post, style={"color": "#2563EB", "width": 3})
    return f"{account.name}: created the “{TITLE}” board (2 folders, 3 pieces, 1 AI chat, 3 connections)."


class Command(BaseCommand):
    help = "Create the canvas demo: a project board of Acme Logistics with folders, pieces, an AI chat and connections."

    def handle(self, *args, **options):
        self.stdout.write(canvas_demo_seed())
        self.stdout.write(self.style.SUCCESS("Canvas demo ready."))
