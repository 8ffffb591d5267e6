"""REST API of the component library and marketplace.

- `library-components/`: the account's own library (CRUD; `share` makes one
  private, public or a priced marketplace item).
- `marketplace/`: what the account may find (public and marketplace items of
  every account, its own too): ranked full-text search `?q=` with `tags=a,b`,
  `category=`, `component_type=`, `scope=public|marketplace|mine`,
  `sort=relevance|popular|newest|price`; `like` (POST / DELETE), `use` (a free
  item), `buy` (credits, `Idempotency-Key` header).
- `library-purchases/` (what the account bought) and `library-sales/` (what it sold).
"""

from __future__ import annotations

from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.tenancy.drf import ActiveAccountMixin, TenantViewSet
from aiplatform.errors import NotFound

from . import library_selectors as sel
from .models.library import LibraryComponent, LibraryPurchase
from .services import library as svc


class LibraryComponentSerializer(serializers.ModelSerializer):
    is_own = serializers.SerializerMethodField()
    liked = serializers.BooleanField(read_only=True, default=False)
    purchased = serializers.BooleanField(read_only=True, default=False)
    rank = serializers.FloatField(
        read_only=True, allow_null=True, default=None, help_text=gettext_lazy("Search rank (null without `q`).")
    )

    class Meta:
        model = LibraryComponent
        fields = [
            "id", "name", "description", "category", "tags", "component_type", "code", "css_styles", "props_schema",
            "preview_image_url", "is_public", "is_marketplace_item", "is_listed", "price", "downloads", "likes",
            "is_own", "liked", "purchased", "rank", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_is_own(self, obj) -> bool:
        account = self.context.get("account")
        return account is not None and obj.account_id == account.id


class ListingSerializer(LibraryComponentSerializer):
    """A listing seen by another account: a priced item's code stays hidden until bought."""

    def to_representation(self, obj):
        data = super().to_representation(obj)
        if obj.is_marketplace_item and obj.price > 0 and not data["is_own"] and not data["purchased"]:
            data["code"], data["css_styles"] = None, None
        return data


class ComponentInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    category = serializers.CharField(required=False, allow_blank=True, max_length=100)
    tags = serializers.ListField(child=serializers.CharField(max_length=50), required=False, max_length=20)
    component_type = serializers.CharField(required=False, max_length=50)
    code = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    css_styles = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    props_schema = serializers.JSONField(required=False)
    preview_image_url = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class LibraryShareSerializer(serializers.Serializer):
    visibility = serializers.ChoiceField(choices=["private", "public", "marketplace"])
    price = serializers.DecimalField(max_digits=12, decimal_places=2, required=False)


class PurchaseSerializer(serializers.ModelSerializer):
    component_name = serializers.CharField(source="component.name", read_only=True)
    copy_id = serializers.SerializerMethodField()

    class Meta:
        model = LibraryPurchase
        fields = ["id", "component", "component_name", "price", "platform_fee", "status", "created_at",
                  "refunded_at", "copy_id"]  # fmt: skip
        read_only_fields = fields

    def get_copy_id(self, obj) -> str | None:
        copy = self.context.get("copy")
        return str(copy.id) if copy is not None else None


class SaleSerializer(PurchaseSerializer):
    earning = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)

    class Meta(PurchaseSerializer.Meta):
        fields = ["id", "component", "component_name", "price", "platform_fee", "earning", "status", "created_at"]
        read_only_fields = fields


class LibraryComponentViewSet(
    TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin
):
    """The account's library, newest first."""

    queryset = LibraryComponent.objects.order_by("-created_at", "id")
    serializer_class = LibraryComponentSerializer

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "account": self.account}

    @extend_schema(request=ComponentInputSerializer, responses={201: LibraryComponentSerializer})
    def create(self, request):
        data = ComponentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        row = svc.library_component_save(account=self.account, actor=self.membership, data=data.validated_data)
        return Response(self.get_serializer(row).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ComponentInputSerializer, responses=LibraryComponentSerializer)
    def partial_update(self, request, pk=None):
        row = self.get_object()
        data = ComponentInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        row = svc.library_component_update(
            account=self.account, actor=self.membership, component_id=row.pk, data=data.validated_data
        )
        return Response(self.get_serializer(row).data)

    def destroy(self, request, pk=None):
        row = self.get_object()
        svc.library_component_delete(account=self.account, actor=self.membership, component_id=row.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=LibraryShareSerializer, responses=LibraryComponentSerializer)
    @action(detail=True, methods=["post"])
    def share(self, request, pk=None):
        """Private, public (free for others to use) or a marketplace item with a price in credits."""
        row = self.get_object()
        data = LibraryShareSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        row = svc.library_component_share(
            account=self.account, actor=self.membership, component_id=row.pk, **data.validated_data
        )
        return Response(self.get_serializer(row).data)


SEARCH_PARAMS = [
    OpenApiParameter("q", str, description="Full-text query (websearch syntax)."),
    OpenApiParameter("tags", str, description="Comma-separated; items must have all of them."),
    OpenApiParameter("category", str),
    OpenApiParameter("component_type", str),
    OpenApiParameter("scope", str, enum=list(sel.SCOPES)),
    OpenApiParameter("sort", str, enum=sorted(sel.SORTS)),
]


class MarketplaceViewSet(ActiveAccountMixin, viewsets.GenericViewSet):
    """Shared components of every account; row-level security shows only the
    listed public ones (and the account's own)."""

    serializer_class = ListingSerializer
    extra_query_params = ("q", "tags", "category", "component_type", "scope", "sort")
    queryset = LibraryComponent.objects.none()

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "account": self.account}

    def _visible(self, pk) -> LibraryComponent:
        row = sel.library_visible(self.account, pk) if self.account is not None else None
        if row is None:
            raise NotFound(gettext("No such component."))
        return row

    @extend_schema(parameters=SEARCH_PARAMS)
    def list(self, request):
        p = request.query_params
        scope, sort = p.get("scope") or "public", p.get("sort") or "relevance"
        for name, value, allowed in (("scope", scope, sel.SCOPES), ("sort", sort, sel.SORTS)):
            if value not in allowed:
                raise serializers.ValidationError({name: [f"Choose one of: {', '.join(sorted(allowed))}."]})
        tags = [t for t in (p.get("tags") or "").split(",") if t.strip()]
        qs = sel.library_search(
            self.account, q=p.get("q", "")[:200], tags=tags, category=p.get("category", ""),
            component_type=p.get("component_type", ""), scope=scope, sort=sort,
        )  # fmt: skip
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self._visible(pk)).data)

    @extend_schema(request=None, responses=ListingSerializer)
    @action(detail=True, methods=["post", "delete"])
    def like(self, request, pk=None):
        """Like (POST) or unlike (DELETE); counted once per account."""
        row = self._visible(pk)
        if request.method == "DELETE":
            svc.library_unlike(account=self.account, user=request.user, component_id=row.pk)
        else:
            svc.library_like(account=self.account, user=request.user, component_id=row.pk)
        return Response(self.get_serializer(self._visible(pk)).data)

    @extend_schema(request=None, responses={201: LibraryComponentSerializer})
    @action(detail=True, methods=["post"])
    def use(self, request, pk=None):
        """Copy a free component into the account's library."""
        row = self._visible(pk)
        copy = svc.library_use(account=self.account, actor=self.membership, component_id=row.pk)
        body = LibraryComponentSerializer(copy, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={201: PurchaseSerializer, 200: PurchaseSerializer},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False)],
    )
    @action(detail=True, methods=["post"])
    def buy(self, request, pk=None):
        """Buy a marketplace item: its price in credits goes to the seller (minus the
        platform fee) and a copy to this account's library. Buying again answers 200
        with the first purchase and charges nothing; too few credits is a 402."""
        row = self._visible(pk)
        result = svc.library_buy(
            account=self.account, actor=self.membership, component_id=row.pk,
            idempotency_key=request.headers.get("Idempotency-Key"),
        )  # fmt: skip
        body = PurchaseSerializer(result.purchase, context={"copy": result.copy}).data
        return Response(body, status=status.HTTP_200_OK if result.replayed else status.HTTP_201_CREATED)


class PurchaseViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """What the account bought."""

    queryset = LibraryPurchase.objects.select_related("component").order_by("-created_at", "id")
    serializer_class = PurchaseSerializer


class SaleViewSet(ActiveAccountMixin, viewsets.GenericViewSet):
    """What other accounts bought from this one."""

    serializer_class = SaleSerializer
    queryset = LibraryPurchase.objects.none()

    def list(self, request):
        page = self.paginate_queryset(sel.sales_of(self.account))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


routes = [
    ("library-components", LibraryComponentViewSet, "library-component"),
    ("marketplace", MarketplaceViewSet, "marketplace"),
    ("library-purchases", PurchaseViewSet, "library-purchase"),
    ("library-sales", SaleViewSet, "library-sale"),
]
