"""REST API of the publishing integrations and platform analyses.

- `integrations/` the account's connections (credentials never leave the server):
  `POST integrations/connect/` {platform_type: wordpress|simvoly|custom, ...form};
  `POST integrations/gohighlevel/authorize/` {redirect_uri} -> {authorize_url};
  `POST integrations/gohighlevel/callback/` {code, state};
  `PATCH integrations/{id}/` {domain, page_status}; `POST .../disconnect/`,
  `.../test/`, `.../publish/` {campaign, target, path}, `.../leads/` {email, ...}.
- `campaign-publications/` what was published where, with status and errors.
- `platform-analyses/` list, read, `POST` {analysis_type, source_url | integration + source_ref}.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import Role
from accounts.tenancy.drf import TenantViewSet

from .models import CampaignPublication, PlatformAnalysis, PlatformIntegration
from .services import analyses
from .services.integrations import service as svc
from .services.integrations.base import IntegrationError


class IntegrationSerializer(serializers.ModelSerializer):
    needs_reconnect = serializers.SerializerMethodField()
    capabilities = serializers.SerializerMethodField()
    domain = serializers.SerializerMethodField()

    class Meta:
        model = PlatformIntegration
        fields = ["id", "platform_type", "connection_status", "needs_reconnect", "account_name", "account_email",
                  "sync_status", "last_sync_at", "sync_error_message", "capabilities", "domain", "created_at",
                  "updated_at"]  # fmt: skip
        read_only_fields = fields

    def get_needs_reconnect(self, obj) -> bool:
        return obj.connection_status == "error"

    def get_capabilities(self, obj) -> list[str]:
        from .services.integrations import adapter_for

        return sorted(adapter_for(obj.platform_type).capabilities)

    def get_domain(self, obj) -> str:
        return (obj.platform_metadata or {}).get("domain", "")


class ConnectSerializer(serializers.Serializer):
    platform_type = serializers.ChoiceField(choices=["wordpress", "simvoly", "custom"])
    site_url = serializers.CharField(required=False, max_length=500)
    username = serializers.CharField(required=False, max_length=200)
    app_password = serializers.CharField(required=False, max_length=200, trim_whitespace=False)
    domain = serializers.CharField(required=False, max_length=500)
    api_key = serializers.CharField(required=False, max_length=500)
    url = serializers.CharField(required=False, max_length=2000)
    signing_secret = serializers.CharField(required=False, allow_blank=True, max_length=200)


class AuthorizeSerializer(serializers.Serializer):
    redirect_uri = serializers.URLField(max_length=500)


class CallbackSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=2000, allow_blank=True)
    state = serializers.CharField(max_length=200)


class ConfigureSerializer(serializers.Serializer):
    domain = serializers.CharField(required=False, allow_blank=True, max_length=253)
    page_status = serializers.CharField(required=False, max_length=20)


class PublishSerializer(serializers.Serializer):
    campaign = serializers.UUIDField()
    target = serializers.CharField(required=False, allow_blank=True, max_length=50)
    path = serializers.CharField(required=False, allow_blank=True, max_length=200)


class LeadSerializer(serializers.Serializer):
    email = serializers.EmailField()
    first_name = serializers.CharField(required=False, allow_blank=True, max_length=100)
    last_name = serializers.CharField(required=False, allow_blank=True, max_length=100)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=40)
    source = serializers.CharField(required=False, allow_blank=True, max_length=100)
    tags = serializers.ListField(child=serializers.CharField(max_length=50), required=False, max_length=20)


class PublicationSerializer(serializers.ModelSerializer):
    platform_type = serializers.CharField(source="integration.platform_type", read_only=True)

    class Meta:
        model = CampaignPublication
        fields = ["id", "integration", "platform_type", "campaign", "target", "external_id", "external_url", "status",
                  "error_message", "last_published_at", "created_at", "updated_at"]  # fmt: skip
        read_only_fields = fields


class IntegrationViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    queryset = PlatformIntegration.objects.order_by("platform_type", "id")
    serializer_class = IntegrationSerializer
    write_role = Role.ADMIN
    action_roles = {"publish": Role.MEMBER, "leads": Role.MEMBER, "test": Role.MEMBER}

    @extend_schema(request=ConnectSerializer, responses={201: IntegrationSerializer})
    @action(detail=False, methods=["post"])
    def connect(self, request):
        """Connect (or reconnect) WordPress, Simvoly or a custom webhook; the platform checks the credentials first."""
        data = ConnectSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        platform_type = fields.pop("platform_type")
        row = svc.integration_connect(account=self.account, actor=self.membership, platform_type=platform_type,
                                      data=fields)  # fmt: skip
        return Response(self.get_serializer(row).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=AuthorizeSerializer, responses={200: dict})
    @action(detail=False, methods=["post"], url_path="gohighlevel/authorize")
    def ghl_authorize(self, request):
        data = AuthorizeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        url = svc.ghl_connect_start(account=self.account, actor=self.membership, **data.validated_data)
        return Response({"authorize_url": url})

    @extend_schema(request=CallbackSerializer, responses={201: IntegrationSerializer})
    @action(detail=False, methods=["post"], url_path="gohighlevel/callback")
    def ghl_callback(self, request):
        data = CallbackSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        row = svc.ghl_connect_finish(account=self.account, actor=self.membership, **data.validated_data)
        return Response(self.get_serializer(row).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ConfigureSerializer, responses=IntegrationSerializer)
    def partial_update(self, request, pk=None):
        row = self.get_object()
        data = ConfigureSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        row = svc.integration_configure(account=self.account, actor=self.membership, integration_id=row.pk,
                                        data=data.validated_data)  # fmt: skip
        return Response(self.get_serializer(row).data)

    @extend_schema(request=None, responses=IntegrationSerializer)
    @action(detail=True, methods=["post"])
    def disconnect(self, request, pk=None):
        row = svc.integration_disconnect(
            account=self.account, actor=self.membership, integration_id=self.get_object().pk
        )
        return Response(self.get_serializer(row).data)

    @extend_schema(request=None, responses=IntegrationSerializer)
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        """Ask the platform whether the stored credentials still work."""
        row = svc.integration_test(account=self.account, actor=self.membership, integration_id=self.get_object().pk)
        return Response(self.get_serializer(row).data)

    @extend_schema(request=PublishSerializer, responses={202: PublicationSerializer})
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        """Queue the campaign's publication; a relaunch updates the same remote page."""
        row = self.get_object()
        data = PublishSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        publication = svc.campaign_publish(account=self.account, actor=self.membership, campaign_id=v["campaign"],
                                           integration_id=row.pk, target=v.get("target", ""),
                                           path=v.get("path", ""))  # fmt: skip
        return Response(PublicationSerializer(publication).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=LeadSerializer, responses={201: dict})
    @action(detail=True, methods=["post"])
    def leads(self, request, pk=None):
        """Send one lead to the platform now (e.g. to try the connection)."""
        row = self.get_object()
        data = LeadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            external_id = svc.lead_push(account_id=self.account.id, integration_id=row.pk, lead=data.validated_data)
        except IntegrationError as exc:
            code = "integration_reconnect" if exc.needs_reconnect else "integration_failed"
            return Response({"error": {"code": code, "message": exc.message}},
                            status=(status.HTTP_409_CONFLICT if exc.needs_reconnect
                                    else status.HTTP_502_BAD_GATEWAY))  # fmt: skip
        return Response({"external_id": external_id}, status=status.HTTP_201_CREATED)


class PublicationViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    queryset = CampaignPublication.objects.select_related("integration").order_by("-updated_at", "id")
    serializer_class = PublicationSerializer


class PlatformAnalysisSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlatformAnalysis
        fields = ["id", "integration", "analysis_type", "status", "source_url", "source_ref", "summary",
                  "campaigns_analyzed", "recommendations", "migration_assessment", "ai_model_used", "ai_cost",
                  "credits_charged", "processing_time_seconds", "error_message", "created_at",
                  "completed_at"]  # fmt: skip
        read_only_fields = fields


class AnalysisRequestSerializer(serializers.Serializer):
    analysis_type = serializers.ChoiceField(choices=["full_audit", "campaign_analysis", "migration_assessment"])
    source_url = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    integration = serializers.UUIDField(required=False, allow_null=True)
    source_ref = serializers.CharField(required=False, allow_blank=True, max_length=255)


class AnalysisViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    queryset = PlatformAnalysis.objects.order_by("-created_at", "id")
    serializer_class = PlatformAnalysisSerializer

    @extend_schema(request=AnalysisRequestSerializer, responses={202: PlatformAnalysisSerializer})
    def create(self, request):
        """Queue an analysis; its credits are held now and settled when it completes."""
        data = AnalysisRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        row = analyses.analysis_request(
            account=self.account, actor=self.membership, analysis_type=v["analysis_type"],
            source_url=v.get("source_url", ""), integration_id=v.get("integration"), source_ref=v.get("source_ref", ""),
        )  # fmt: skip
        return Response(self.get_serializer(row).data, status=status.HTTP_202_ACCEPTED)


routes = [
    ("integrations", IntegrationViewSet, "platform-integration"),
    ("campaign-publications", PublicationViewSet, "campaign-publication"),
    ("platform-analyses", AnalysisViewSet, "platform-analysis"),
]
