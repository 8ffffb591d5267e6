"""Reads of the canvas studio. Every function takes the account first; an id the
account cannot see (missing, malformed, another account's, a project the member
is not on) is NotFound (404). List selectors join what their pages and API
lists show, so a list costs the same number of queries for 3 rows as for 300."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext

from accounts.models import Account, Membership, Role
from aiplatform.errors import NotFound

from .models import AccountFollowedCreator, Creator, CreatorCategory, Project, ProjectCollaborator


def _uuid(value: Any, what: str) -> UUID:
    try:
        return value if isinstance(value, UUID) else UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        raise NotFound(gettext("There is no such %(what)s.") % {"what": what}) from None


def _one(queryset: QuerySet, pk: Any, what: str):
    found = queryset.filter(pk=_uuid(pk, what)).first()
    if found is None:
        raise NotFound(gettext("There is no such %(what)s.") % {"what": what})
    return found


# Creators (platform directory)


def categories_active() -> QuerySet[CreatorCategory]:
    return CreatorCategory.objects.filter(is_active=True).order_by("sort_order", "name")


def creators_directory(
    account: Account,
    *,
    search: str = "",
    platform: str = "",
    category: Any = None,
    verified: bool | None = None,
    min_followers: int | None = None,
    max_followers: int | None = None,
    followed: bool | None = None,
) -> QuerySet[Creator]:
    """Active creators, most followed first, each with `is_followed` by `account`.
    `search` matches the handle or display name (a leading @ is ignored)."""
    queryset = (
        Creator.objects.filter(is_active=True)
        .select_related("category")
        .annotate(
            is_followed=Exists(
                AccountFollowedCreator.objects.filter(account=account, creator=OuterRef("pk"), is_active=True)
            )
        )
    )
    term = search.strip().lstrip("@").strip()
    if term:
        queryset = queryset.filter(Q(username__icontains=term) | Q(display_name__icontains=term))
    if platform:
        queryset = queryset.filter(platform=platform)
    if category:
        queryset = queryset.filter(category_id=category)
    if verified is not None:
        queryset = queryset.filter(is_verified=verified)
    if min_followers is not None:
        queryset = queryset.filter(follower_count__gte=min_followers)
    if max_followers is not None:
        queryset = queryset.filter(follower_count__lte=max_followers)
    if followed is not None:
        queryset = queryset.filter(is_followed=followed)
    return queryset.order_by(F("follower_count").desc(nulls_last=True), "platform", "username", "id")


def creator_get(account: Account, creator_id: Any) -> Creator:
    return _one(creators_directory(account), creator_id, "creator")


def follows_for_account(account: Account) -> QuerySet[AccountFollowedCreator]:
    """The account's active follows, newest first, with their creators."""
    return (
        AccountFollowedCreator.objects.filter(account=account, is_active=True)
        .select_related("creator__category", "followed_by")
        .order_by("-followed_at", "id")
    )


def follows_count(account: Account) -> int:
    """Active follows: what counts toward the plan's `creator_limit`."""
    return AccountFollowedCreator.objects.filter(account=account, is_active=True).count()


# Projects


def projects_for_member(
    account: Account, actor: Membership, *, archived: bool | None = False, search: str = ""
) -> QuerySet[Project]:
    """The projects `actor` can see, most recently opened first, each annotated with
    `my_level` (the actor's collaborator level, None for an admin who is not one)
    and `collaborator_count`."""
    mine = ProjectCollaborator.objects.filter(project=OuterRef("pk"), user=actor.user_id)
    queryset = (
        Project.objects.filter(account=account)
        .select_related("created_by", "last_accessed_by")
        .annotate(
            my_level=Subquery(mine.values("permission_level")[:1]),
            collaborator_count=Count("collaborators", distinct=True),
        )
    )
    if not Role(actor.role).at_least(Role.ADMIN):
        queryset = queryset.filter(Exists(mine))
    if archived is not None:
        queryset = queryset.filter(is_archived=archived)
    term = search.strip()
    if term:
        queryset = queryset.filter(Q(title__icontains=term) | Q(description__icontains=term))
    return queryset.order_by("-last_accessed_at", "id")


def project_get_for_member(account: Account, actor: Membership, project_id: Any) -> Project:
    return _one(projects_for_member(account, actor, archived=None), project_id, "project")


def collaborators_for_project(project: Project) -> QuerySet[ProjectCollaborator]:
    return (
        ProjectCollaborator.objects.filter(account=project.account_id, project=project)
        .select_related("user", "added_by")
        .order_by("added_at", "id")
    )


def collaborators_for_member(account: Account, actor: Membership, *, project: Any = None) -> QuerySet:
    """Collaborator rows of the projects `actor` can see (optionally of one project)."""
    visible = projects_for_member(account, actor, archived=None).values("pk")
    queryset = (
        ProjectCollaborator.objects.filter(account=account, project__in=visible)
        .select_related("user", "added_by", "project")
        .order_by("project_id", "added_at", "id")
    )
    if project is not None:
        queryset = queryset.filter(project_id=_uuid(project, "project"))
    return queryset


def collaborator_get_for_member(account: Account, actor: Membership, collaborator_id: Any) -> ProjectCollaborator:
    return _one(collaborators_for_member(account, actor), collaborator_id, "collaborator")


def members_for_collaboration(account: Account) -> QuerySet[Membership]:
    """Members who may be added to a project (every member of the account)."""
    return Membership.objects.filter(account=account).select_related("user").order_by("user__email")
