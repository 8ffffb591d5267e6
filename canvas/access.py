"""Who may do what on a project.

A project is seen by its collaborators, and by the account's owners and admins,
who act as owners of every project (so no project is ever orphaned). A
collaborator's `permission_level` decides the rest: viewers see, editors edit,
owners also archive, delete and manage collaborators. The account role caps it:
an account viewer (or an API key capped to viewer) only views, whatever the
project row says.
"""

from __future__ import annotations

from accounts.models import Membership, Role
from aiplatform.errors import Forbidden

from .models import Project, ProjectCollaborator, ProjectPermission

_MESSAGES = {
    ProjectPermission.EDITOR: "Viewers of this project can look but not change it.",
    ProjectPermission.OWNER: "Only the project's owners can do this.",
}


def effective_permission(role: Role | str, level: str | None) -> ProjectPermission | None:
    """The permission of an account `role` with collaborator `level` (None: not a collaborator)."""
    role = Role(role)
    if role.at_least(Role.ADMIN):
        return ProjectPermission.OWNER
    if level is None:
        return None
    if role == Role.VIEWER:
        return ProjectPermission.VIEWER
    return ProjectPermission(level)


def project_permission(actor: Membership, project: Project) -> ProjectPermission | None:
    """`actor`'s permission on `project`; uses `project.my_level` when the selector annotated it."""
    if project.account_id != actor.account_id:
        return None
    if hasattr(project, "my_level"):
        level = project.my_level
    else:
        level = (
            ProjectCollaborator.objects.filter(account=actor.account_id, project=project, user=actor.user_id)
            .values_list("permission_level", flat=True)
            .first()
        )
    return effective_permission(actor.role, level)


def project_require(actor: Membership, project: Project, needed: ProjectPermission) -> ProjectPermission:
    """Raise Forbidden (403) unless `actor` has at least `needed` on `project`."""
    permission = project_permission(actor, project)
    if permission is None or not permission.at_least(needed):
        raise Forbidden(_MESSAGES.get(needed, "You cannot do this on this project."))
    return permission
