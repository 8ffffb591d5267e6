"""Pages of the content studio: the account's processing jobs (live status, queue
position, cancel and retry), its inbox of scraped posts, adding a piece to a
project by URL or upload, and one piece's page: its analyses, the scripts written
from it (edited in place) and its annotations (the same services as the API)."""

from __future__ import annotations

import uuid

from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from accounts.models import Role
from accounts.tenancy.views import TenantViewMixin
from aiplatform.flash import run_and_report

from . import selectors as sel
from .access import project_permission
from .models import AnnotationType, GeneratedScript, ProcessingJob, ProjectPermission
from .services import analysis as analysis_svc
from .services import content as svc
from .services import scripts as script_svc

JOBS_SHOWN = 30
INBOX_SHOWN = 50


class ContentStudioView(TenantViewMixin, View):
    def get(self, request):
        jobs = list(ProcessingJob.objects.filter(account=self.account).order_by("-created_at", "-id")[:JOBS_SHOWN])
        inbox = list(
            svc.pieces_for_member(self.account, self.membership).filter(project__isnull=True)
            .select_related("creator")[:INBOX_SHOWN]
        )  # fmt: skip
        projects = list(sel.projects_for_member(self.account, self.membership)[:100])
        return render(request, "canvas/content/studio.html", {
            "jobs": jobs, "inbox": inbox, "projects": projects,
            "can_edit": request.account_role.at_least(Role.MEMBER),
        })  # fmt: skip


class ContentAddView(TenantViewMixin, View):
    required_role = Role.MEMBER

    def post(self, request):
        # NotFound is the 404 page (TenantViewMixin)
        project = sel.project_get_for_member(self.account, self.membership, request.POST.get("project"))
        upload = request.FILES.get("file")
        common = {"project": project, "actor": self.membership, "title": request.POST.get("title", "")}
        if upload is not None:
            action = lambda: svc.piece_upload(file=upload, **common)  # noqa: E731
        else:
            action = lambda: svc.piece_add_url(url=request.POST.get("source_url", ""), **common)  # noqa: E731
        run_and_report(request, action, _("Added to “%(title)s”.") % {"title": project.title})
        return redirect("canvas:content")


def _row(queryset, pk):
    """The row of `queryset` with id `pk` (a form field), or the 404 page."""
    try:
        found = queryset.filter(pk=uuid.UUID(str(pk))).first()
    except ValueError:
        found = None
    if found is None:
        raise Http404(_("It is not there any more."))
    return found


class ContentPieceView(TenantViewMixin, View):
    """One piece: what it is, its analyses, its scripts and its annotations. Editors
    of its project analyse it, write and edit scripts and annotate; others read."""

    def _piece(self, pk):
        return svc.piece_get(self.account, self.membership, pk)  # NotFound: the 404 page

    def get(self, request, pk):
        piece = self._piece(pk)
        permission = project_permission(self.membership, piece.project) if piece.project else None
        can_edit = bool(permission and permission.at_least(ProjectPermission.EDITOR) and not piece.project.is_archived)
        scripts = GeneratedScript.objects.filter(account=self.account, content_piece=piece).order_by("-created_at")
        return render(request, "canvas/content/piece.html", {
            "piece": piece, "can_edit": can_edit,
            "analyses": list(analysis_svc.analyses_for_piece(piece)[:5]),
            "scripts": list(scripts.select_related("user")[:20]),
            "annotations": list(piece.annotations.select_related("user").order_by("created_at", "id")),
            "annotation_types": AnnotationType.choices,
        })  # fmt: skip

    def post(self, request, pk):
        piece = self._piece(pk)
        action, post = request.POST.get("action"), request.POST
        if action == "analyse":
            run_and_report(request, lambda: analysis_svc.analysis_start(piece=piece, actor=self.membership),
                           _("Analysis queued: it appears here when it is done."))  # fmt: skip
        elif action == "script":
            run_and_report(request, lambda: script_svc.script_start(piece=piece, actor=self.membership,
                                                                    instructions=post.get("instructions", "")),
                           _("Script queued: it appears here when it is written."))  # fmt: skip
        elif action == "script_save":
            script = _row(GeneratedScript.objects.filter(account=self.account, content_piece=piece), post.get("script"))
            run_and_report(request, lambda: script_svc.script_update(script=script, actor=self.membership,
                                                                     rewritten_script=post.get("rewritten_script")),
                           _("Script saved."))  # fmt: skip
        elif action == "annotate":
            run_and_report(request, lambda: svc.annotation_add(piece=piece, actor=self.membership,
                                                               text=post.get("annotation_text", ""),
                                                               annotation_type=post.get("annotation_type") or None,
                                                               x=None, y=None),
                           _("Annotation added."))  # fmt: skip
        elif action == "annotation_delete":
            annotation = _row(piece.annotations.all(), post.get("annotation"))
            run_and_report(request, lambda: svc.annotation_delete(annotation=annotation, actor=self.membership),
                           _("Annotation deleted."))  # fmt: skip
        else:
            raise Http404(_("Unknown action."))
        return redirect("canvas:content_piece", pk=piece.pk)
