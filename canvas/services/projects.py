"""Projects and their collaborators.

The member who creates a project is its owner. Editors change its title,
description and board; owners also archive, delete and manage collaborators
(see `canvas.access`). A collaborator must be a member of the project's
account. A project always keeps at least one owner collaborator.
"""

from __future__ import annotations

import json
import math
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import Account, Membership, Role
from aiplatform.errors import Conflict, Forbidden, InvalidInput
from canvas.access import project_require
from canvas.models import Project, ProjectCollaborator, ProjectPermission

TITLE_MAX = 255
DESCRIPTION_MAX = 10_000
CANVAS_DATA_MAX_BYTES = 20_000
ZOOM_RANGE = (0.05, 8.0)
COORDINATE_MAX = 1e8


def _text(value: Any, *, field: str, limit: int, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(gettext("Enter text."), fields={field: ["Enter text."]})
    text = value.strip()
    if required and not text:
        raise InvalidInput(gettext("A title is required."), fields={field: ["This field is required."]})
    if len(text) > limit:
        raise InvalidInput(
            gettext("At most %(limit)s characters.") % {"limit": limit},
            fields={field: [f"At most {limit} characters."]},
        )
    return text


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError
    return float(value)


def canvas_data_clean(value: Any) -> dict:
    """`canvas_data` holds the board's viewport and view settings only:
    `{"viewport": {"x": n, "y": n, "zoom": 0.05-8}, "settings": {...}}`."""

    def bad(message: str):
        return InvalidInput(message, fields={"canvas_data": [message]})

    if value is None:
        return {}
    if not isinstance(value, dict):
        raise bad("canvas_data must be an object with viewport and settings.")
    unknown = sorted(set(value) - {"viewport", "settings"})
    if unknown:
        raise bad(f"canvas_data keeps only viewport and settings, not {', '.join(unknown)}.")
    cleaned: dict = {}
    if "viewport" in value:
        viewport = value["viewport"]
        if not isinstance(viewport, dict) or set(viewport) != {"x", "y", "zoom"}:
            raise bad("viewport needs exactly x, y and zoom.")
        try:
            x, y, zoom = (_number(viewport[k]) for k in ("x", "y", "zoom"))
        except ValueError:
            raise bad("viewport x, y and zoom must be numbers.") from None
        if abs(x) > COORDINATE_MAX or abs(y) > COORDINATE_MAX:
            raise bad("viewport x and y are out of range.")
        if not ZOOM_RANGE[0] <= zoom <= ZOOM_RANGE[1]:
            raise bad(f"zoom must be between {ZOOM_RANGE[0]} and {ZOOM_RANGE[1]}.")
        cleaned["viewport"] = {"x": x, "y": y, "zoom": zoom}
    if "settings" in value:
        if not isinstance(value["settings"], dict):
            raise bad("settings must be an object.")
        cleaned["settings"] = value["settings"]
    if len(json.dumps(cleaned)) > CANVAS_DATA_MAX_BYTES:
        raise bad(f"canvas_data is limited to {CANVAS_DATA_MAX_BYTES} bytes.")
    return cleaned


def project_create(
    *, account: Account, actor: Membership, title: str, description: str = "", canvas_data: dict | None = None
) -> Project:
    """A new project owned by `actor` (members and above; account viewers cannot create)."""
    if not Role(actor.role).at_least(Role.MEMBER):
        raise Forbidden(gettext("Viewers of the account cannot create projects."))
    title = _text(title, field="title", limit=TITLE_MAX, required=True)
    description = _text(description, field="description", limit=DESCRIPTION_MAX)
    data = canvas_data_clean(canvas_data)
    with transaction.atomic():
        project = Project.objects.create(
            account=account, created_by=actor.user, title=title, description=description, canvas_data=data,
            last_accessed_at=timezone.now(), last_accessed_by=actor.user,
        )  # fmt: skip
        ProjectCollaborator.objects.create(
            account=account, project=project, user=actor.user, permission_level=ProjectPermission.OWNER,
            added_by=actor.user,
        )  # fmt: skip
        from billing.services.usage import count

        count(account, actor.user, projects_created=1)  # seed 003 account_usage_stats
    return project


_UNSET = object()


def project_update(
    *, project: Project, actor: Membership, title: Any = _UNSET, description: Any = _UNSET, canvas_data: Any = _UNSET
) -> Project:
    """Change what an editor may change: title, description, the board's view."""
    project_require(actor, project, ProjectPermission.EDITOR)
    if project.is_archived:
        raise Conflict(gettext("This project is archived: restore it to change it."))
    changes: dict[str, Any] = {}
    if title is not _UNSET:
        changes["title"] = _text(title, field="title", limit=TITLE_MAX, required=True)
    if description is not _UNSET:
        changes["description"] = _text(description, field="description", limit=DESCRIPTION_MAX)
    if canvas_data is not _UNSET:
        changes["canvas_data"] = canvas_data_clean(canvas_data)
    if not changes:
        return project
    with transaction.atomic():
        for name, value in changes.items():
            setattr(project, name, value)
        project.save(update_fields=[*changes, "updated_at"])
    return project


def project_archive(*, project: Project, actor: Membership, archived: bool = True) -> Project:
    """Archive (or restore) a project: owners only. Archived projects leave the
    default list and their boards become read-only."""
    project_require(actor, project, ProjectPermission.OWNER)
    if project.is_archived != archived:
        with transaction.atomic():
            project.is_archived = archived
            project.save(update_fields=["is_archived", "updated_at"])
    return project


def project_delete(*, project: Project, actor: Membership) -> None:
    """Delete a project and everything on its board: owners only."""
    project_require(actor, project, ProjectPermission.OWNER)
    with transaction.atomic():
        project.delete()


def project_open(*, project: Project, actor: Membership) -> Project:
    """Record that `actor` opened the project (any permission, viewers too)."""
    project_require(actor, project, ProjectPermission.VIEWER)
    now = timezone.now()
    with transaction.atomic():
        Project.objects.filter(account=project.account_id, pk=project.pk).update(
            last_accessed_at=now, last_accessed_by=actor.user
        )
    project.last_accessed_at, project.last_accessed_by = now, actor.user
    return project


# Collaborators


def _level(value: Any) -> ProjectPermission:
    if value not in ProjectPermission.values:
        choices = ", ".join(ProjectPermission.values)
        raise InvalidInput(
            gettext("Choose a permission: %(choices)s.") % {"choices": choices},
            fields={"permission_level": [f"Choose one of {choices}."]},
        )
    return ProjectPermission(value)


def _owners(project: Project) -> int:
    return ProjectCollaborator.objects.filter(
        account=project.account_id, project=project, permission_level=ProjectPermission.OWNER
    ).count()


def _lock_project(project: Project) -> None:
    """Collaborator changes of one project run one at a time (the last-owner rule)."""
    Project.objects.select_for_update().filter(account=project.account_id, pk=project.pk).first()


def collaborator_add(
    *, project: Project, actor: Membership, user: Any, permission_level: Any = ProjectPermission.EDITOR
) -> ProjectCollaborator:
    """Add a member of the project's account as a collaborator (owners only)."""
    project_require(actor, project, ProjectPermission.OWNER)
    level = _level(permission_level)
    user_id = getattr(user, "pk", user)
    is_member = (
        user_id is not None
        and Membership.objects.filter(account=project.account_id, user_id=_user_pk(user_id)).exists()
    )
    if not is_member:
        message = "Only members of this account can collaborate on its projects; invite them to the account first."
        raise InvalidInput(message, fields={"user": [message]})
    try:
        with transaction.atomic():
            return ProjectCollaborator.objects.create(
                account_id=project.account_id, project=project, user_id=_user_pk(user_id), permission_level=level,
                added_by=actor.user,
            )  # fmt: skip
    except IntegrityError:
        raise Conflict(
            gettext("This member already collaborates on the project; change their permission instead.")
        ) from None


def _user_pk(value: Any):
    field = get_user_model()._meta.pk
    try:
        return field.to_python(value)
    except Exception:
        return None


def collaborator_change(
    *, collaborator: ProjectCollaborator, actor: Membership, permission_level: Any
) -> ProjectCollaborator:
    """Change a collaborator's permission (owners only); the last owner stays an owner."""
    project = collaborator.project
    project_require(actor, project, ProjectPermission.OWNER)
    level = _level(permission_level)
    if level == collaborator.permission_level:
        return collaborator
    with transaction.atomic():
        _lock_project(project)
        if collaborator.permission_level == ProjectPermission.OWNER and _owners(project) <= 1:
            raise Conflict(gettext("A project needs an owner: make someone else an owner first."))
        collaborator.permission_level = level
        collaborator.save(update_fields=["permission_level"])
    return collaborator


def collaborator_remove(*, collaborator: ProjectCollaborator, actor: Membership) -> None:
    """Remove a collaborator: owners remove anyone, a collaborator may leave; the
    last owner cannot be removed."""
    project = collaborator.project
    if collaborator.user_id != actor.user_id:
        project_require(actor, project, ProjectPermission.OWNER)
    with transaction.atomic():
        _lock_project(project)
        if collaborator.permission_level == ProjectPermission.OWNER and _owners(project) <= 1:
            raise Conflict(gettext("A project needs an owner: make someone else an owner first."))
        collaborator.delete()
