"""REST API of accounts: me, my accounts, members, invitations, API keys."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from aiplatform.errors import Forbidden, InvalidInput

from . import serializers as s
from .models import ApiKey, Invitation, Membership, Role
from .selectors import invitation_by_token, memberships_for_user
from .services.accounts import account_create
from .services.api_keys import api_key_create, api_key_revoke
from .services.invitations import invitation_accept, invitation_create, invitation_revoke
from .services.members import membership_change_role, membership_remove
from .tenancy.drf import SignedInUserOnly, TenantViewSet
from .tenancy.middleware import SESSION_KEY


class MeView(APIView):
    serializer_class = s.UserSerializer
    permission_classes = [permissions.IsAuthenticated, SignedInUserOnly]

    @extend_schema(responses=s.UserSerializer)
    def get(self, request):
        return Response(s.UserSerializer(request.user).data)

    @extend_schema(request=s.UserSerializer, responses=s.UserSerializer)
    def patch(self, request):
        serializer = s.UserSerializer(request.user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return Response(serializer.data)


class MyAccountViewSet(viewsets.GenericViewSet):
    """The accounts I belong to. Another account's id answers 404."""

    serializer_class = s.MyAccountSerializer
    queryset = Membership.objects.none()  # names the model for the schema; get_queryset is what runs
    lookup_field = "account_id"
    lookup_url_kwarg = "pk"

    def get_queryset(self):
        return memberships_for_user(self.request.user)

    def get_serializer_context(self):
        account = getattr(self.request._request, "account", None)
        return {**super().get_serializer_context(), "active_account_id": account.pk if account else None}

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(request=s.AccountCreateSerializer, responses={201: s.MyAccountSerializer})
    def create(self, request):
        if request.auth is not None:
            raise Forbidden(SignedInUserOnly.message)
        data = s.AccountCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        account = account_create(
            name=data.validated_data["name"], owner=request.user, plan_type=data.validated_data["plan_type"]
        )
        membership = memberships_for_user(request.user).get(account=account)
        return Response(self.get_serializer(membership).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=s.MyAccountSerializer)
    @action(detail=True, methods=["post"])
    def switch(self, request, pk=None):
        """Make this account the active one for the browser session."""
        membership = self.get_object()
        if request.auth is not None:
            raise InvalidInput(
                gettext("An API key always acts for its own account; switching applies to browser sessions.")
            )
        request.session[SESSION_KEY] = str(membership.account_id)
        return Response(s.MyAccountSerializer(membership, context={"active_account_id": membership.account_id}).data)


class MemberViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    queryset = Membership.objects.select_related("user").order_by("created_at")
    serializer_class = s.MemberSerializer
    write_role = Role.VIEWER  # services apply the finer rules (admins manage, anyone may leave)
    http_method_names = ["get", "patch", "delete", "head", "options"]

    @extend_schema(request=s.RoleSerializer, responses=s.MemberSerializer)
    def partial_update(self, request, pk=None):
        membership = self.get_object()
        data = s.RoleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership_change_role(
            account=self.account, actor=self.membership, membership=membership, role=data.validated_data["role"]
        )
        return Response(self.get_serializer(membership).data)

    def destroy(self, request, pk=None):
        membership = self.get_object()
        if request.auth is not None and membership.pk == self.membership.pk:
            raise Forbidden(SignedInUserOnly.message)
        membership_remove(account=self.account, actor=self.membership, membership=membership)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    queryset = Invitation.objects.select_related("invited_by").order_by("-created_at")
    serializer_class = s.InvitationSerializer
    read_role = Role.ADMIN
    write_role = Role.ADMIN
    filterset_fields = ["status", "role"]

    @extend_schema(request=s.InvitationCreateSerializer, responses={201: s.InvitationSerializer})
    def create(self, request):
        data = s.InvitationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invitation, _ = invitation_create(account=self.account, actor=self.membership, **data.validated_data)
        return Response(self.get_serializer(invitation).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, pk=None):
        """Revoke a pending invitation."""
        invitation_revoke(account=self.account, actor=self.membership, invitation=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationAcceptView(APIView):
    """Accept an invitation by its token (from the email) as the signed-in user."""

    permission_classes = [permissions.IsAuthenticated, SignedInUserOnly]

    @extend_schema(request=s.InvitationAcceptSerializer, responses={201: s.MyAccountSerializer})
    def post(self, request):
        data = s.InvitationAcceptSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with transaction.atomic():
            membership = invitation_accept(
                invitation=invitation_by_token(data.validated_data["token"]), user=request.user
            )
        return Response(s.MyAccountSerializer(membership).data, status=status.HTTP_201_CREATED)


class ApiKeyViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    queryset = ApiKey.objects.select_related("created_by").order_by("-created_at")
    serializer_class = s.ApiKeySerializer
    read_role = Role.ADMIN
    write_role = Role.ADMIN

    @extend_schema(request=s.ApiKeyCreateSerializer, responses={201: s.ApiKeyCreatedSerializer})
    def create(self, request):
        data = s.ApiKeyCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key, raw = api_key_create(account=self.account, actor=self.membership, **data.validated_data)
        key.key = raw
        return Response(s.ApiKeyCreatedSerializer(key).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, pk=None):
        """Revoke the key; programs using it get 401 from then on."""
        api_key_revoke(account=self.account, actor=self.membership, api_key=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
