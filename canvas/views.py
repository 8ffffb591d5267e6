"""HTML pages of the canvas studio: the projects page (sorted by last access,
create, archive) and a project's page: the live board (React Flow over
ws/canvas/<id>/, canvas/static/canvas/board.js; ADR 0009), details and the
collaborators panel. The page carries the board's snapshot, so it draws before
the socket is open; the socket's own snapshot then replaces it.
Each view parses, looks the object up through a selector (404 when invisible),
calls one service and redirects with its outcome as a flash message."""

from __future__ import annotations

from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from accounts.models import Role
from accounts.tenancy.views import TenantViewMixin
from aiplatform.flash import run_and_report

from . import selectors as sel
from .access import project_permission
from .models import ProjectPermission
from .services.board import board_snapshot
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
    # A NotFound from these is the 404 page (TenantViewMixin).
    def project(self, pk):
        return sel.project_get_for_member(self.account, self.membership, pk)

    def collaborator(self, pk):
        return sel.collaborator_get_for_member(self.account, self.membership, pk)


def board_text() -> dict:
    """The board's user-facing strings, translated here (board.js has no catalogue)."""
    return {
        "folder": _("Folder"), "chat": _("AI chat"), "open": _("Open"), "rename": _("New name:"),
        "collapse": _("Collapse"), "expand": _("Expand"), "folder_items": _("%(n)s pieces"),
        "folder_empty": _("Drop pieces here or connect them."), "chat_empty": _(
            "Connect pieces or folders to this chat, then ask: the answer reads what is connected."),
        "details": _("Analysis, scripts, notes"),
        "ask": _("Ask"), "ask_placeholder": _("Ask about the connected content…"), "credits": _("%(n)s credits"),
        "add_folder": _("+ Folder"), "add_chat": _("+ AI chat"), "undo": _("Undo"), "minimap": _("Minimap"),
        "snap": _("Snap to grid"), "read_only": _("View only: you can look, not change."),
        "new_folder": _("New folder"), "new_chat": _("AI chat"), "live": _("Live"), "connecting": _("Connecting…"),
        "reconnecting": _("Connection lost; retrying in %(n)s s…"),
        "gone_socket": _("You no longer have access to this board. Reload the page."),
        "resynced": _("Reconnected: the board shows what is saved."),
        "offline": _("Not connected: your change was not sent. It will be retried after you reconnect."),
        "gone": _("This node is no longer on the board."), "view_not_saved": _("The view could not be saved."),
        "status": {"pending": _("Pending"), "processing": _("Processing"), "completed": _("Ready"),
                   "failed": _("Failed")},
        "job_types": {"content_analysis": _("Analysis"), "script_generation": _("Script")},
        "job_status": {"queued": _("queued"), "processing": _("running %(n)s"), "completed": _("done"),
                       "failed": _("failed"), "cancelled": _("cancelled")},
    }  # fmt: skip


def board_config(project, membership, *, editable: bool) -> dict:
    snapshot = board_snapshot(project=project, actor=membership)
    return {
        "project_id": str(project.pk), "ws_path": f"/ws/canvas/{project.pk}/",
        "api_url": reverse("canvas-project-detail", args=[project.pk]), "editable": editable,
        "piece_url": reverse("canvas:content_piece", args=["00000000-0000-0000-0000-000000000000"]),
        "permission": snapshot.permission, "canvas_data": snapshot.canvas_data,
        "snapshot": {"project_id": snapshot.project_id, "permission": snapshot.permission,
                     "canvas_data": snapshot.canvas_data, "nodes": snapshot.nodes,
                     "connections": snapshot.connections, "folder_items": snapshot.folder_items,
                     "jobs": snapshot.jobs},
        "folder_items": snapshot.folder_items, "text": board_text(),
    }  # fmt: skip


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
        can_edit = permission.at_least(ProjectPermission.EDITOR) and not project.is_archived
        return render(request, "canvas/project.html", {
            "project": project, "permission": permission, "collaborators": collaborators,
            "candidates": candidates, "levels": ProjectPermission.choices, "can_edit": can_edit,
            "can_manage": permission.at_least(ProjectPermission.OWNER),
            "board": board_config(project, self.membership, editable=can_edit),
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
            _("Collaborator added."),
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
            _("Permission changed."),
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
