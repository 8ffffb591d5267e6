"""REST API of the service catalog: services and running them, the account's
results (rate, share), the public shared result, and for platform staff the
prompt templates and experiments."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from accounts.tenancy.drf import TenantRolePermission, TenantViewSet
from aiplatform.errors import ServiceError

from . import selectors
from . import serializers as s
from .filters import ResultFilter
from .models import PromptExperiment, PromptTemplate, ServiceResult
from .services import experiments, versions
from .services.files import result_file_response
from .services.ratings import result_rate
from .services.run import service_run, template_for_run
from .services.sharing import public_view, result_share, result_unshare, shared_result_open

LANG_PARAM = OpenApiParameter("lang", str, enum=["en", "ko"], required=False, description="Language of names.")


def _language(request) -> str:
    """`?lang=` if given (one of LANG_PARAM's, else a 400 naming it), else the request's language."""
    requested = request.query_params.get("lang")
    if requested is not None and requested.lower() not in selectors.LANGUAGES:
        raise exceptions.ValidationError({"lang": [f"Choose one of: {', '.join(selectors.LANGUAGES)}."]})
    return selectors.language_of(request, requested)


class LanguageMixin:
    extra_query_params = ("lang",)  # accepted beside the filters (aiplatform.api.filters)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["lang"] = _language(self.request)
        return context


class ServiceViewSet(LanguageMixin, viewsets.GenericViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """The catalog. Running a service spends the account's credits (members and up)."""

    queryset = selectors.services_active()
    serializer_class = s.ServiceSerializer
    lookup_field = "service_type"
    lookup_url_kwarg = "code"
    lookup_value_regex = "[a-z0-9-]+"
    pagination_class = None

    def get_permissions(self):
        if self.action == "run":
            return [permissions.IsAuthenticated(), TenantRolePermission()]
        return [permissions.IsAuthenticated()]

    def required_role(self) -> Role:
        return Role.MEMBER

    @extend_schema(parameters=[LANG_PARAM])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(parameters=[LANG_PARAM], responses=s.ServiceDetailSerializer)
    def retrieve(self, request, *args, **kwargs):
        service = self.get_object()
        try:
            template = template_for_run(service, user=request.user).template
        except ServiceError:
            template = None
        service.available = template is not None
        service.output_format = template.output_format if template else None
        service.parameters = template.parameters if template else []
        service.versions = selectors.service_versions(service)
        return Response(s.ServiceDetailSerializer(service, context=self.get_serializer_context()).data)

    @extend_schema(
        request=s.RunSerializer,
        responses={202: s.ResultSerializer},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False)],
    )
    @action(detail=True, methods=["post"])
    def run(self, request, code=None):
        """Start a run: the price is held now and charged only if it succeeds. Poll the result."""
        data = s.RunSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = service_run(
            account=request._request.account, user=request.user, service_code=code,
            params=data.validated_data["params"], template_version=data.validated_data.get("template_version"),
            idempotency_key=request.headers.get("Idempotency-Key"), files=request.FILES,
        )  # fmt: skip
        body = s.ResultSerializer(result, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_202_ACCEPTED)


class ResultViewSet(LanguageMixin, TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """The account's results, newest first; status is live (pending, running, completed, failed)."""

    queryset = ServiceResult.objects.select_related("service", "user").order_by("-created_at")
    serializer_class = s.ResultSerializer
    filterset_class = ResultFilter

    def scope_queryset(self, queryset):
        return selectors.results_live(queryset)

    @extend_schema(parameters=[LANG_PARAM])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=None, responses={(200, "application/octet-stream"): bytes})
    @action(detail=True, methods=["get"], url_path=r"files/(?P<kind>input|result)/(?P<index>[0-9]+)", url_name="file")
    def file(self, request, pk=None, kind=None, index=None):
        """A photo sent (`input`) or an image made (`result`), by its place in `input_files` / `result_files`."""
        return result_file_response(self.get_object(), kind, int(index))

    @extend_schema(request=s.RateSerializer, responses=s.ResultSerializer)
    @action(detail=True, methods=["post"])
    def rate(self, request, pk=None):
        result = self.get_object()  # first: another account's id is a 404 whatever the body
        data = s.RateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = result_rate(result=result, user=request.user, **data.validated_data)
        return Response(self.get_serializer(result).data)

    @extend_schema(request=s.ShareSerializer, responses=s.ResultSerializer)
    @action(detail=True, methods=["post"])
    def share(self, request, pk=None):
        """Make the result public: the response's `share_url` opens it without signing in."""
        result = self.get_object()
        data = s.ShareSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        days = data.validated_data.get("expires_in_days")
        result = result_share(
            result=result, actor=self.membership, expires_in=timedelta(days=days) if days else None,
            max_views=data.validated_data.get("max_views"),
        )  # fmt: skip
        return Response(self.get_serializer(result).data)

    @extend_schema(request=None, responses=s.ResultSerializer)
    @action(detail=True, methods=["post"])
    def unshare(self, request, pk=None):
        """Make it private again; the old link stops working for good."""
        result = result_unshare(result=self.get_object(), actor=self.membership)
        return Response(self.get_serializer(result).data)


class SharedResultView(APIView):
    """A shared result, by its link's token. No sign-in; only the public allowlist."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(parameters=[LANG_PARAM], responses=s.SharedResultSerializer, auth=[])
    def get(self, request, token: str):
        result = shared_result_open(token)
        return Response(public_view(result, _language(request)))


# --- platform staff -----------------------------------------------------------------------------


class IsPlatformStaff(permissions.BasePermission):
    """Platform admins, signed in (an API key acts for an account, never as an operator)."""

    message = "Only platform operators can manage prompt templates and experiments."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_staff and request.auth is None)


class StaffViewSet(viewsets.GenericViewSet):
    permission_classes = [IsPlatformStaff]

    def permission_denied(self, request, message=None, code=None):
        # Operator routes do not exist for tenants: 404, as for any id they may not see.
        if request.user and request.user.is_authenticated:
            raise exceptions.NotFound()
        super().permission_denied(request, message=message, code=code)


class PromptTemplateViewSet(StaffViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Versions of every service's prompt. Changes go into new versions; activating one is atomic."""

    queryset = PromptTemplate.objects.select_related("created_by").order_by("service_type", "-created_at")
    serializer_class = s.PromptTemplateSerializer
    filterset_fields = ["service_type", "is_active", "output_format"]

    @extend_schema(request=s.TemplateCreateSerializer, responses={201: s.PromptTemplateSerializer})
    def create(self, request):
        data = s.TemplateCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        template = versions.template_create(actor=request.user, **data.validated_data)
        return Response(self.get_serializer(template).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.TemplateWriteSerializer, responses=s.PromptTemplateSerializer)
    def partial_update(self, request, pk=None):
        """Change a draft (never active, never used)."""
        data = s.TemplateWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        template = versions.template_update(template=self.get_object(), actor=request.user, **data.validated_data)
        return Response(self.get_serializer(template).data)

    @extend_schema(request=s.TemplateWriteSerializer, responses={201: s.PromptTemplateSerializer})
    @action(detail=True, methods=["post"], url_path="new-version")
    def new_version(self, request, pk=None):
        """Copy this version into the next one, with the given changes."""
        data = s.TemplateWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        template = versions.template_new_version(template=self.get_object(), actor=request.user, **data.validated_data)
        return Response(self.get_serializer(template).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=s.PromptTemplateSerializer)
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        template = versions.template_activate(template=self.get_object(), actor=request.user)
        return Response(self.get_serializer(template).data)

    @extend_schema(request=s.RollbackSerializer, responses=s.PromptTemplateSerializer)
    @action(detail=False, methods=["post"])
    def rollback(self, request):
        """Activate the version that was active before the current one."""
        data = s.RollbackSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        template = versions.template_rollback(service_type=data.validated_data["service_type"], actor=request.user)
        return Response(self.get_serializer(template).data)


class ExperimentViewSet(StaffViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """A/B experiments with live counts, ratings and the winner by the stated rule."""

    queryset = PromptExperiment.objects.select_related("template_a", "template_b").order_by("-created_at")
    serializer_class = s.ExperimentSerializer
    filterset_fields = ["service_type", "status"]

    @extend_schema(request=s.ExperimentSerializer, responses={201: s.ExperimentSerializer})
    def create(self, request):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        experiment = experiments.experiment_create(
            actor=request.user, service_type=v["service_type"], template_a=v["template_a"],
            template_b=v["template_b"], traffic_split=v.get("traffic_split", 50), name=v.get("name", ""),
        )  # fmt: skip
        return Response(self.get_serializer(experiment).data, status=status.HTTP_201_CREATED)

    def _change(self, change):
        with transaction.atomic():
            experiment = change(experiment=self.get_object(), actor=self.request.user)
        return Response(self.get_serializer(experiment).data)

    @extend_schema(request=None, responses=s.ExperimentSerializer)
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        return self._change(experiments.experiment_start)

    @extend_schema(request=None, responses=s.ExperimentSerializer)
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        return self._change(experiments.experiment_pause)

    @extend_schema(request=None, responses=s.ExperimentSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        return self._change(experiments.experiment_complete)

    @extend_schema(request=None, responses=s.ExperimentSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Abandon it: status `cancelled`, no winner, nothing activated (409 once ended)."""
        return self._change(experiments.experiment_cancel)

    @extend_schema(request=None, responses=s.ExperimentSerializer)
    @action(detail=True, methods=["post"], url_path="declare-winner")
    def declare_winner(self, request, pk=None):
        """End with the rule's winner and activate its template (409 while there is none)."""
        return self._change(experiments.experiment_declare_winner)
