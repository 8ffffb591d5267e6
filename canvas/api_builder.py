"""REST API of the web builder (gathered by canvas/api_urls.py).

- `campaigns`: list (`q` ranked full-text search, `status`, `campaign_type`),
  create (409 `plan_limit_reached` past the plan's monthly campaigns), PATCH;
  POST `transition/` `{status}` (409 `invalid_transition` off the machine),
  POST `generate/` `{prompt, reference_images?}` (202; 402 short of credits,
  403 AI shut off, 409 monthly generations), GET/PUT `page/` (the editor's
  project, autosave), GET `export/` (zip).
- `campaign-components`: read (`campaign`, `current`); create (at the end of
  the page), PATCH (a new current version; 409 `component_not_current` for an
  earlier one), DELETE (every version); POST `reorder/` `{campaign, order}`;
  POST `regenerate/` `{instruction}` makes a new version (202). An archived
  campaign answers 409 `campaign_archived`; viewers only read.
- `campaign-generations`: read (with cost and tokens); POST `feedback/`
  `{rating?, feedback?, accepted?}`. Live frames: `events_url` (SSE).
A foreign id answers 404.
"""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.tenancy.drf import TenantViewSet
from canvas.models import AIGeneration, Campaign, CampaignComponent

from . import serializers_builder as s
from .services.builder import campaigns as svc
from .services.builder import components, editor, generation

_ID = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH)


def _query(serializer_class, request) -> dict:
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    return {k: v for k, v in query.validated_data.items() if v is not None and v != ""}


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


@extend_schema_view(retrieve=extend_schema(parameters=[_ID]), partial_update=extend_schema(parameters=[_ID]))
class CampaignViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """The account's campaigns, newest first (best match first with `q`)."""

    queryset = Campaign.objects.all()
    serializer_class = s.CampaignSerializer

    def scope_queryset(self, queryset):
        if self.action == "list":
            return svc.campaigns_search(self.account, **_query(s.CampaignQuerySerializer, self.request))
        return queryset

    @extend_schema(parameters=[s.CampaignQuerySerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=s.CampaignWriteSerializer, responses={201: s.CampaignSerializer})
    def create(self, request):
        campaign = svc.campaign_create(
            account=self.account, actor=self.membership, **_valid(s.CampaignWriteSerializer, request.data)
        )
        return Response(s.CampaignSerializer(campaign).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.CampaignUpdateSerializer, responses={200: s.CampaignSerializer})
    def partial_update(self, request, pk=None):
        campaign = svc.campaign_update(
            campaign=self.get_object(), actor=self.membership, **_valid(s.CampaignUpdateSerializer, request.data)
        )
        return Response(s.CampaignSerializer(campaign).data)

    @extend_schema(parameters=[_ID], request=s.TransitionSerializer, responses={200: s.CampaignSerializer})
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        campaign = self.get_object()  # a foreign id is a 404 before any validation
        data = _valid(s.TransitionSerializer, request.data)
        campaign = svc.campaign_transition(campaign=campaign, actor=self.membership, status=data["status"])
        return Response(s.CampaignSerializer(campaign).data)

    @extend_schema(parameters=[_ID], request=s.GenerateSerializer, responses={202: s.GenerationSerializer})
    @action(detail=True, methods=["post"])
    def generate(self, request, pk=None):
        campaign = self.get_object()
        data = _valid(s.GenerateSerializer, request.data)
        gen = generation.generation_start(
            account=self.account, actor=self.membership, campaign=campaign, prompt=data["prompt"],
            reference_images=data.get("reference_images"),
        )  # fmt: skip
        gen.refresh_from_db()
        return Response(s.GenerationSerializer(gen).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(parameters=[_ID], request=s.PageSaveSerializer, responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get", "put"])
    def page(self, request, pk=None):
        """GET: what the editor loads; PUT `{project, html, css}`: autosave (sanitised)."""
        campaign = self.get_object()
        if request.method == "GET":
            return Response(editor.page_project(campaign))
        data = _valid(s.PageSaveSerializer, request.data)
        page = editor.page_save(campaign=campaign, actor=self.membership, **data)
        return Response({"version": page.version, "published": page.is_published, "saved_at": page.updated_at})

    @extend_schema(parameters=[_ID], responses={(200, "application/zip"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def export(self, request, pk=None):
        campaign = self.get_object()
        response = HttpResponse(editor.export_zip(campaign), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{campaign.slug}.zip"'
        return response


@extend_schema_view(retrieve=extend_schema(parameters=[_ID]), partial_update=extend_schema(parameters=[_ID]),
                    destroy=extend_schema(parameters=[_ID]))  # fmt: skip
class ComponentViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Campaign components in page order (all versions; `current=true` for the page's)."""

    queryset = CampaignComponent.objects.all()
    serializer_class = s.CampaignComponentSerializer

    def scope_queryset(self, queryset):
        if self.action == "list":
            query = _query(s.ComponentQuerySerializer, self.request)
            if "campaign" in query:
                queryset = queryset.filter(campaign_id=query["campaign"])
            if query.get("current") is not None:
                queryset = queryset.filter(is_current=query["current"])
        return queryset.order_by("campaign_id", "sort_order", "version", "id")

    @extend_schema(parameters=[s.ComponentQuerySerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=s.ComponentCreateSerializer, responses={201: s.CampaignComponentSerializer})
    def create(self, request):
        data = _valid(s.ComponentCreateSerializer, request.data)
        campaign = svc.campaign_for_account(self.account, data.pop("campaign"))
        component = components.component_create(campaign=campaign, actor=self.membership, data=data)
        return Response(s.CampaignComponentSerializer(component).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.ComponentUpdateSerializer, responses={200: s.CampaignComponentSerializer})
    def partial_update(self, request, pk=None):
        component = self.get_object()
        data = _valid(s.ComponentUpdateSerializer, request.data)
        new = components.component_update(component=component, actor=self.membership, data=data)
        return Response(s.CampaignComponentSerializer(new).data)

    def destroy(self, request, pk=None):
        components.component_delete(component=self.get_object(), actor=self.membership)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=s.ComponentOrderSerializer, responses={200: s.CampaignComponentSerializer(many=True)})
    @action(detail=False, methods=["post"])
    def reorder(self, request):
        data = _valid(s.ComponentOrderSerializer, request.data)
        campaign = svc.campaign_for_account(self.account, data["campaign"])
        ordered = components.components_reorder(campaign=campaign, actor=self.membership,
                                                order=[str(i) for i in data["order"]])  # fmt: skip
        return Response(s.CampaignComponentSerializer(ordered, many=True).data)

    @extend_schema(parameters=[_ID], request=s.RegenerateSerializer, responses={202: s.GenerationSerializer})
    @action(detail=True, methods=["post"])
    def regenerate(self, request, pk=None):
        component = self.get_object()
        data = _valid(s.RegenerateSerializer, request.data)
        gen = generation.component_regenerate(
            account=self.account, actor=self.membership, component=component, instruction=data["instruction"]
        )
        gen.refresh_from_db()
        return Response(s.GenerationSerializer(gen).data, status=status.HTTP_202_ACCEPTED)


@extend_schema_view(retrieve=extend_schema(parameters=[_ID]))
class GenerationViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """AI generations of the builder, newest first, with tokens, cost and credits."""

    queryset = AIGeneration.objects.all()
    serializer_class = s.GenerationSerializer

    @extend_schema(parameters=[_ID], request=s.FeedbackSerializer, responses={200: s.GenerationSerializer})
    @action(detail=True, methods=["post"])
    def feedback(self, request, pk=None):
        row = self.get_object()
        data = _valid(s.FeedbackSerializer, request.data)
        gen = generation.generation_feedback(generation=row, actor=self.membership, **data)
        return Response(s.GenerationSerializer(gen).data)


routes = [
    ("campaigns", CampaignViewSet, "campaign"),
    ("campaign-components", ComponentViewSet, "campaign-component"),
    ("campaign-generations", GenerationViewSet, "campaign-generation"),
]
