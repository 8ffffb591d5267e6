"""Pages of the content studio: the account's processing jobs (live status, queue
position, cancel and retry), its inbox of scraped posts, and adding a piece to a
project by URL or upload (the same services as the API)."""

from __future__ import annotations

from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from accounts.models import Role
from accounts.tenancy.views import TenantViewMixin
from aiplatform.flash import run_and_report

from . import selectors as sel
from .models import ProcessingJob
from .services import content as svc

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
