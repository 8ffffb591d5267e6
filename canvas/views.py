"""HTML pages of the canvas studio: the projects page (sorted by last access,
create, archive) and a project's page (details, collaborators panel). The
board itself (React Flow over a websocket) comes in a later step; see ADR 0009.
Each view parses, looks the object up through a selector (404 when invisible),
calls one service and redirects with its outcome as a flash message."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import redirect, render
from django.views import View

from accounts.models import Role
from accounts.tenancy.views import TenantViewMixin
from aiplatform.errors import NotFound
from aiplatform.flash import run_and_report

from . import selectors as sel
from .access import project_permission
from .models import ProjectPermission
from .services.projects import (
    collaborator_add,
    collaborator_change,
    collaborator_remove,
    project_archive,
    project_create,
    project_open,
    project_update,
)

PROJECTS_SHOWN = 200


class _CanvasView(TenantViewMixin, View):
    def project(self, pk):
        try:
            return sel.project_get_for_member(self.account, self.membership, pk)
        except NotFound as exc:
            raise Http404(exc.message) from None

    def collaborator(self, pk):
        try:
            return sel.collaborator_get_for_member(self.account, self.membership, pk)
        except NotFound as exc:
            raise Http404(exc.message) from None


class ProjectListView(_CanvasView):
    def get(self, request):
        archived = request.GET.get("archived") == "1"
        projects = list(sel.projects_for_member(self.account, self.membership, archived=archived)[:PROJECTS_SHOWN])
        rows = [(p, project_permission(self.membership, p)) for p in projects]
        return render(request, "canvas/projects.html", {
            "rows": rows, "archived": archived, "can_create": request.account_role.at_least(Role.MEMBER),
            "owner": ProjectPermission.OWNER,
        })  # fmt: skip


class ProjectCreateView(_CanvasView):
    required_role = Role.MEMBER

    def post(self, request):
        created = []
        ok = run_and_report(
            request,
            lambda: created.append(
                project_create(
                    account=self.account,
                    actor=self.membership,
                    title=request.POST.get("title", ""),
                    description=request.POST.get("description", ""),
                )  # fmt: skip
            ),
            lambda _: f"Created “{created[0].title}”.",
        )
        return redirect("canvas:project", pk=created[0].pk) if ok else redirect("canvas:projects")


class ProjectView(_CanvasView):
    def get(self, request, pk):
        project = project_open(project=self.project(pk), actor=self.membership)
        permission = project_permission(self.membership, project)
        collaborators = list(sel.collaborators_for_project(project))
        on_project = {c.user_id for c in collaborators}
        candidates = [m for m in sel.members_for_collaboration(self.account) if m.user_id not in on_project]
        return render(request, "canvas/project.html", {
            "project": project, "permission": permission, "collaborators": collaborators,
            "candidates": candidates, "levels": ProjectPermission.choices,
            "can_edit": permission.at_least(ProjectPermission.EDITOR) and not project.is_archived,
            "can_manage": permission.at_least(ProjectPermission.OWNER),
        })  # fmt: skip


class ProjectEditView(_CanvasView):
    def post(self, request, pk):
        project = self.project(pk)
        run_and_report(
            request,
            lambda: project_update(
                project=project,
                actor=self.membership,
                title=request.POST.get("title", ""),
                description=request.POST.get("description", ""),
            ),  # fmt: skip
            "Saved.",
        )
        return redirect("canvas:project", pk=project.pk)


class ProjectArchiveView(_CanvasView):
    archived = True

    def post(self, request, pk):
        project = self.project(pk)
        done = "Archived." if self.archived else "Restored."
        ok = run_and_report(
            request, lambda: project_archive(project=project, actor=self.membership, archived=self.archived), done
        )
        return redirect("canvas:projects") if ok and self.archived else redirect("canvas:project", pk=project.pk)


class ProjectRestoreView(ProjectArchiveView):
    archived = False


class CollaboratorAddView(_CanvasView):
    def post(self, request, pk):
        project = self.project(pk)
        run_and_report(
            request,
            lambda: collaborator_add(
                project=project,
                actor=self.membership,
                user=request.POST.get("user") or None,
                permission_level=request.POST.get("permission_level", ProjectPermission.EDITOR),
            ),  # fmt: skip
            "Collaborator added.",
        )
        return redirect("canvas:project", pk=project.pk)


class CollaboratorChangeView(_CanvasView):
    def post(self, request, pk):
        collaborator = self.collaborator(pk)
        run_and_report(
            request,
            lambda: collaborator_change(
                collaborator=collaborator,
                actor=self.membership,
                permission_level=request.POST.get("permission_level", ""),
            ),  # fmt: skip
            "Permission changed.",
        )
        return redirect("canvas:project", pk=collaborator.project_id)


class CollaboratorRemoveView(_CanvasView):
    def post(self, request, pk):
        collaborator = self.collaborator(pk)
        leaving = collaborator.user_id == request.user.pk
        ok = run_and_report(
            request,
            lambda: collaborator_remove(collaborator=collaborator, actor=self.membership),
            "You left the project." if leaving else "Collaborator removed.",
        )
        if ok and leaving:
            return redirect("canvas:projects")
        return redirect("canvas:project", pk=collaborator.project_id)
