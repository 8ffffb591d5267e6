"""REST endpoints of the app shell that join two products (gathered by aiplatform/api/urls.py).

`POST library-components/from-campaign-component/` `{component, description?, tags?}`:
a copy of one of the account's campaign components in its component library (201,
private until shared; 404 for another account's component; viewers cannot).
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from accounts.tenancy.drf import TenantAPIView
from templates.api_library import LibraryComponentSerializer

from .library_bridge import component_to_library


class FromComponentSerializer(serializers.Serializer):
    component = serializers.UUIDField(help_text="A campaign component of the account (any version).")
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    tags = serializers.ListField(child=serializers.CharField(max_length=50), required=False, max_length=20)


class LibraryFromComponentView(TenantAPIView):
    @extend_schema(request=FromComponentSerializer, responses={201: LibraryComponentSerializer})
    def post(self, request):
        data = FromComponentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        row = component_to_library(account=self.account, actor=self.membership, component_id=values["component"],
                                   description=values.get("description", ""), tags=values.get("tags"))  # fmt: skip
        body = LibraryComponentSerializer(row, context={"request": request, "account": self.account}).data
        return Response(body, status=status.HTTP_201_CREATED)


routes: list = []
paths = [
    path("library-components/from-campaign-component/", LibraryFromComponentView.as_view(),
         name="library-from-component"),  # fmt: skip
]
