"""REST API of personas: public platform personas and the active account's own.

Not a TenantViewSet: that base filters every row by account, and platform
personas have none. Every lookup goes through `selectors.persona_get_for_account`
instead, so another account's persona (or a platform draft) answers 404.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import Role
from accounts.tenancy.drf import TenantRolePermission
from aiplatform.api.pagination import PageNumberPagination

from . import serializers as s
from .selectors import persona_get_for_account, persona_units, personas_visible_to
from .services import persona_create, persona_delete, persona_units_set, persona_update

_ID = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH)


@extend_schema_view(**{action: extend_schema(parameters=[_ID]) for action in
                       ("retrieve", "update", "partial_update", "destroy")})  # fmt: skip
class PersonaViewSet(viewsets.ViewSet):
    """Personas the active account can use. Members create; owners, admins and
    creators change. `system_prompt` is returned only to those who may edit."""

    permission_classes = [permissions.IsAuthenticated, TenantRolePermission]
    read_role: Role = Role.VIEWER
    write_role: Role = Role.MEMBER
    pagination_class = PageNumberPagination

    @property
    def account(self):
        return self.request._request.account

    @property
    def membership(self):
        return self.request._request.membership

    def required_role(self) -> Role:
        return self.read_role if self.request.method in permissions.SAFE_METHODS else self.write_role

    def _out(self, persona, **kwargs) -> Response:
        return Response(s.PersonaSerializer(persona, context={"membership": self.membership}).data, **kwargs)

    @extend_schema(parameters=[s.PersonaQuerySerializer], responses=s.PersonaSerializer(many=True))
    def list(self, request):
        query = s.PersonaQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        personas = personas_visible_to(
            self.account, scope=query.validated_data.get("scope"), search=query.validated_data.get("search", "")
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(personas, request, view=self)
        data = s.PersonaSerializer(page, many=True, context={"membership": self.membership}).data
        return paginator.get_paginated_response(data)

    @extend_schema(responses=s.PersonaSerializer)
    def retrieve(self, request, pk=None):
        return self._out(persona_get_for_account(self.account, pk))

    @extend_schema(request=s.PersonaWriteSerializer, responses={201: s.PersonaSerializer})
    def create(self, request):
        data = s.PersonaWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        persona = persona_create(account=self.account, actor=self.membership, **data.validated_data)
        return self._out(persona, status=status.HTTP_201_CREATED)

    def _update(self, request, pk, partial: bool) -> Response:
        persona = persona_get_for_account(self.account, pk)
        data = s.PersonaWriteSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        changes = {k: v for k, v in data.validated_data.items() if partial is False or k in request.data}
        return self._out(persona_update(persona=persona, actor=self.membership, **changes))

    @extend_schema(request=s.PersonaWriteSerializer, responses=s.PersonaSerializer)
    def update(self, request, pk=None):
        return self._update(request, pk, partial=False)

    @extend_schema(request=s.PersonaWriteSerializer(partial=True), responses=s.PersonaSerializer)
    def partial_update(self, request, pk=None):
        return self._update(request, pk, partial=True)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        persona_delete(persona=persona_get_for_account(self.account, pk), actor=self.membership)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(methods=["GET"], parameters=[_ID], responses=s.PersonaKnowledgeSerializer)
    @extend_schema(
        methods=["PUT"],
        parameters=[_ID],
        request=s.PersonaKnowledgeWriteSerializer,
        responses=s.PersonaKnowledgeSerializer,
    )
    @action(detail=True, methods=["get", "put"])
    def knowledge(self, request, pk=None):
        """The active account's decision units this persona reads (chats retrieve from
        them). PUT replaces the set: editors of an account persona, owners and admins
        for a platform persona. The link is the account's own; other accounts never see it."""
        # The persona first: a foreign id is 404 whatever the body says.
        persona = persona_get_for_account(self.account, pk)
        if request.method == "PUT":
            data = s.PersonaKnowledgeWriteSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            persona_units_set(persona=persona, actor=self.membership, unit_ids=data.validated_data["decision_units"])
        units = persona_units(self.account, persona)
        return Response(s.PersonaKnowledgeSerializer({"decision_units": units}).data)
