"""REST API of the canvas studio.

`creators` is the platform's creator directory (read by every member; `follow`
with POST/DELETE on one creator), `followed-creators` the account's follows
(within the plan's `creator_limit`: past it a 409 `plan_limit_reached`),
`creator-categories` the categories. `projects` and `project-collaborators` are
the account's projects as the member may see them: collaborators see a
project, account owners and admins see them all; viewers never change
anything, editors edit, owners archive, delete and manage collaborators. A
foreign or invisible id answers 404.
"""

from __future__ import annotations

from dataclasses import asdict

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import Role
from accounts.tenancy.drf import ActiveAccountMixin, TenantViewSet

from . import selectors as sel
from . import serializers as s
from .access import project_permission
from .models import AccountFollowedCreator, Creator, CreatorCategory, Project, ProjectCollaborator
from .services.board import board_apply, board_snapshot
from .services.creators import creator_follow, creator_unfollow
from .services.projects import (
    collaborator_add,
    collaborator_change,
    collaborator_remove,
    project_archive,
    project_create,
    project_delete,
    project_open,
    project_update,
)

_ID = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH)


def _query(serializer_class, request) -> dict:
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    return {k: v for k, v in query.validated_data.items() if v is not None and v != ""}


class PlatformDirectoryViewSet(ActiveAccountMixin, viewsets.GenericViewSet):
    """Base of views over platform rows (not the account's) that still need an
    active account: reads for any member, writes by the view's `write_role`."""


class CreatorCategoryViewSet(PlatformDirectoryViewSet, mixins.ListModelMixin):
    """The creator categories, in their order."""

    queryset = CreatorCategory.objects.all()
    serializer_class = s.CategorySerializer
    pagination_class = None

    def get_queryset(self):
        return sel.categories_active()


@extend_schema_view(retrieve=extend_schema(parameters=[_ID]))
class CreatorViewSet(PlatformDirectoryViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """The platform's creator directory, most followed first. Filter with
    `search` (handle or name), `platform`, `category`, `verified`, `followed`
    (by your account), `min_followers`, `max_followers`."""

    queryset = Creator.objects.all()
    serializer_class = s.CreatorSerializer

    def get_queryset(self):
        query = _query(s.CreatorQuerySerializer, self.request) if self.action == "list" else {}
        return sel.creators_directory(self.account, **query)

    @extend_schema(parameters=[s.CreatorQuerySerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def get_object(self):
        return sel.creator_get(self.account, self.kwargs["pk"])

    @extend_schema(parameters=[_ID], request=None, responses={201: s.FollowSerializer, 204: None})
    @action(detail=True, methods=["post", "delete"])
    def follow(self, request, pk=None):
        """POST follows the creator for your account (200 when already followed;
        409 `plan_limit_reached` past the plan's creator limit); DELETE unfollows."""
        creator = self.get_object()
        if request.method == "DELETE":
            creator_unfollow(account=self.account, actor=self.membership, creator=creator)
            return Response(status=status.HTTP_204_NO_CONTENT)
        was_followed = creator.is_followed
        follow = creator_follow(account=self.account, actor=self.membership, creator=creator)
        follow = sel.follows_for_account(self.account).get(pk=follow.pk)
        return Response(
            s.FollowSerializer(follow).data, status=status.HTTP_200_OK if was_followed else status.HTTP_201_CREATED
        )


@extend_schema_view(retrieve=extend_schema(parameters=[_ID]), destroy=extend_schema(parameters=[_ID]))
class FollowedCreatorViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin):
    """The creators your account follows, newest first. POST `{creator}` follows
    (409 `plan_limit_reached` past the plan's creator limit), DELETE unfollows."""

    queryset = AccountFollowedCreator.objects.all()
    serializer_class = s.FollowSerializer

    def scope_queryset(self, queryset):
        return sel.follows_for_account(self.account)

    @extend_schema(request=s.FollowCreateSerializer, responses={201: s.FollowSerializer})
    def create(self, request):
        data = s.FollowCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        creator = sel.creator_get(self.account, data.validated_data["creator"])
        follow = creator_follow(account=self.account, actor=self.membership, creator=creator)
        follow = sel.follows_for_account(self.account).get(pk=follow.pk)
        code = status.HTTP_200_OK if creator.is_followed else status.HTTP_201_CREATED
        return Response(self.get_serializer(follow).data, status=code)

    def destroy(self, request, pk=None):
        follow = self.get_object()
        creator_unfollow(account=self.account, actor=self.membership, creator=follow.creator)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    retrieve=extend_schema(parameters=[_ID]),
    destroy=extend_schema(parameters=[_ID]),
)
class ProjectViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Your projects, most recently opened first (`archived=true` for the archived
    ones, `search` in title and description). Members create projects and own
    them; editors PATCH; owners archive, restore, delete and manage collaborators.
    POST `open/` records that you opened the project (viewers too).
    GET `board/` is the board as a reload sees it (every live node and connection
    with its version); POST `board/` applies one operation, the same object the
    board socket takes (`{"op": "create"|"move"|"resize"|"update"|"delete"|
    "restore"|"connect", ...}`; editors and owners), and every open board sees it.
    A stale version is a 409 `stale_version` with the current row in `current`."""

    queryset = Project.objects.all()
    serializer_class = s.ProjectSerializer
    action_roles = {"open": Role.VIEWER, "board": Role.VIEWER}  # board writes: project editors (the service)

    def scope_queryset(self, queryset):
        if self.action == "list":
            query = _query(s.ProjectQuerySerializer, self.request)
            return sel.projects_for_member(self.account, self.membership, **query)
        return sel.projects_for_member(self.account, self.membership, archived=None)

    def get_serializer_class(self):
        return s.ProjectSerializer if self.action == "list" else s.ProjectDetailSerializer

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["permission"] = lambda project: project_permission(self.membership, project)
        return context

    def _fresh(self, project, code=status.HTTP_200_OK) -> Response:
        project = sel.project_get_for_member(self.account, self.membership, project.pk)
        return Response(s.ProjectDetailSerializer(project, context=self.get_serializer_context()).data, status=code)

    @extend_schema(parameters=[s.ProjectQuerySerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=s.ProjectWriteSerializer, responses={201: s.ProjectDetailSerializer})
    def create(self, request):
        data = s.ProjectWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        project = project_create(account=self.account, actor=self.membership, **data.validated_data)
        return self._fresh(project, status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[_ID], request=s.ProjectWriteSerializer(partial=True), responses=s.ProjectDetailSerializer
    )
    def partial_update(self, request, pk=None):
        project = self.get_object()
        data = s.ProjectWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        project_update(project=project, actor=self.membership, **data.validated_data)
        return self._fresh(project)

    def destroy(self, request, pk=None):
        project_delete(project=self.get_object(), actor=self.membership)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(parameters=[_ID], request=None, responses=s.ProjectDetailSerializer)
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        return self._fresh(project_archive(project=self.get_object(), actor=self.membership, archived=True))

    @extend_schema(parameters=[_ID], request=None, responses=s.ProjectDetailSerializer)
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        return self._fresh(project_archive(project=self.get_object(), actor=self.membership, archived=False))

    @extend_schema(parameters=[_ID], request=None, responses=s.ProjectDetailSerializer)
    @action(detail=True, methods=["post"])
    def open(self, request, pk=None):
        return self._fresh(project_open(project=self.get_object(), actor=self.membership))

    @extend_schema(methods=["GET"], parameters=[_ID], request=None, responses=s.BoardSnapshotSerializer)
    @extend_schema(methods=["POST"], parameters=[_ID], request=OpenApiTypes.OBJECT, responses=s.BoardAppliedSerializer)
    @action(detail=True, methods=["get", "post"])
    def board(self, request, pk=None):
        project = self.get_object()
        if request.method == "GET":
            return Response(asdict(board_snapshot(project=project, actor=self.membership)))
        result = board_apply(project=project, actor=self.membership, op=request.data)
        return Response(result.frame(self.membership))


@extend_schema_view(retrieve=extend_schema(parameters=[_ID]), destroy=extend_schema(parameters=[_ID]))
class CollaboratorViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Collaborators of the projects you can see (`project=` for one). Project
    owners add members of the account (POST), change their permission (PATCH)
    and remove them (DELETE); anyone may remove themselves. The last owner stays."""

    queryset = ProjectCollaborator.objects.all()
    serializer_class = s.CollaboratorSerializer
    action_roles = {"destroy": Role.VIEWER}

    def scope_queryset(self, queryset):
        query = _query(s.CollaboratorQuerySerializer, self.request) if self.action == "list" else {}
        return sel.collaborators_for_member(self.account, self.membership, **query)

    @extend_schema(parameters=[s.CollaboratorQuerySerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def _fresh(self, collaborator, code=status.HTTP_200_OK) -> Response:
        collaborator = sel.collaborator_get_for_member(self.account, self.membership, collaborator.pk)
        return Response(self.get_serializer(collaborator).data, status=code)

    @extend_schema(request=s.CollaboratorCreateSerializer, responses={201: s.CollaboratorSerializer})
    def create(self, request):
        data = s.CollaboratorCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        project = sel.project_get_for_member(self.account, self.membership, data.validated_data["project"])
        collaborator = collaborator_add(
            project=project, actor=self.membership, user=data.validated_data["user"],
            permission_level=data.validated_data["permission_level"],
        )  # fmt: skip
        return self._fresh(collaborator, status.HTTP_201_CREATED)

    @extend_schema(parameters=[_ID], request=s.CollaboratorChangeSerializer, responses=s.CollaboratorSerializer)
    def partial_update(self, request, pk=None):
        collaborator = self.get_object()
        data = s.CollaboratorChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        collaborator_change(collaborator=collaborator, actor=self.membership, **data.validated_data)
        return self._fresh(collaborator)

    def destroy(self, request, pk=None):
        collaborator_remove(collaborator=self.get_object(), actor=self.membership)
        return Response(status=status.HTTP_204_NO_CONTENT)
