"""REST API of billing: wallet, transactions, top-ups, plan, usage, cost controls."""

from __future__ import annotations

import csv

from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from accounts.tenancy.drf import TenantAPIView, TenantViewSet

from . import serializers as s
from .filters import TransactionFilter
from .models import CreditPack, CreditTransaction, Payment, Plan, TopUpRule
from .services.controls import cost_control_for, cost_control_update, shutoff_engage, shutoff_lift
from .services.ledger import wallet_for
from .services.limits import plan_usage
from .services.subscriptions import subscription_change, subscription_for
from .services.usage import usage_summary

CSV_COLUMNS = ["created_at", "type", "amount", "balance_after", "description", "reference_type", "reference_id", "id"]


class Echo:
    def write(self, value):
        return value


def transactions_csv(transactions, filename: str) -> StreamingHttpResponse:
    """`transactions` must be read already: the response streams after the request's tenant context."""
    writer = csv.writer(Echo())
    rows = ([getattr(tx, c) for c in CSV_COLUMNS] for tx in transactions)
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in [CSV_COLUMNS, *rows]), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class WalletView(TenantAPIView):
    @extend_schema(responses=s.WalletSerializer)
    def get(self, request):
        return Response(s.WalletSerializer(wallet_for(self.account)).data)


class TransactionViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """The ledger of the active account, newest first. Filter by type and date."""

    queryset = CreditTransaction.objects.select_related("actor").order_by("-created_at", "-id")
    serializer_class = s.TransactionSerializer
    filterset_class = TransactionFilter

    @extend_schema(responses={(200, "text/csv"): str})
    @action(detail=False, methods=["get"], url_path="export")
    def export(self, request):
        """The filtered ledger as CSV."""
        queryset = self.filter_queryset(self.get_queryset())
        # Rows stream after the request transaction: read them now, inside the tenant context.
        return transactions_csv(list(queryset), f"ledger-{self.account.id}.csv")


class CreditPackListView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=s.CreditPackSerializer(many=True))
    def get(self, request):
        return Response(s.CreditPackSerializer(CreditPack.objects.filter(is_active=True), many=True).data)


class PlanListView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=s.PlanSerializer(many=True))
    def get(self, request):
        return Response(s.PlanSerializer(Plan.objects.filter(is_active=True), many=True).data)


class TopUpViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Purchases of credit packs. Creating one returns the checkout URL to pay at."""

    queryset = Payment.objects.select_related("pack").order_by("-created_at")
    serializer_class = s.PaymentSerializer
    read_role = Role.ADMIN
    write_role = Role.ADMIN

    @extend_schema(
        request=s.TopUpCreateSerializer,
        responses={201: s.PaymentSerializer},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False)],
    )
    def create(self, request):
        from .services.payments import credit_purchase

        data = s.TopUpCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        payment = credit_purchase(
            account=self.account, actor=request.user, pack_code=data.validated_data["pack"],
            idempotency_key=request.headers.get("Idempotency-Key"),
        )  # fmt: skip
        return Response(self.get_serializer(payment).data, status=status.HTTP_201_CREATED)


class TopUpRuleViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Automatic top-ups: below a threshold, or every N days."""

    queryset = TopUpRule.objects.select_related("pack").order_by("kind")
    serializer_class = s.TopUpRuleSerializer
    read_role = Role.ADMIN
    write_role = Role.ADMIN

    @extend_schema(request=s.TopUpRuleSerializer, responses={201: s.TopUpRuleSerializer})
    def create(self, request):
        from .services.top_ups import top_up_rule_save

        data = s.TopUpRuleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rule = top_up_rule_save(account=self.account, actor=request.user, **data.validated_data)
        return Response(self.get_serializer(rule).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, pk=None):
        rule = self.get_object()
        from .services.top_ups import top_up_rule_disable

        top_up_rule_disable(account=self.account, actor=request.user, rule=rule)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PlanView(TenantAPIView):
    write_role = Role.ADMIN

    @extend_schema(responses=s.SubscriptionSerializer)
    def get(self, request):
        subscription = subscription_for(self.account)
        data = s.SubscriptionSerializer(subscription).data
        data["limits"] = s.LimitUsageSerializer(plan_usage(self.account), many=True).data
        return Response(data)

    @extend_schema(request=s.PlanChangeSerializer, responses=s.PlanChangeResultSerializer)
    def post(self, request):
        """A paid plan from Free answers `checkout` with the provider's `checkout_url`:
        the plan starts when that payment is confirmed. Downgrades are `scheduled`."""
        data = s.PlanChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = subscription_change(account=self.account, actor=self.membership, plan_code=data.validated_data["plan"])
        return Response(s.PlanChangeResultSerializer(result).data)


class UsageView(TenantAPIView):
    serializer_class = s.UsageSummarySerializer

    @extend_schema(parameters=[s.UsageQuerySerializer], responses=s.UsageSummarySerializer)
    def get(self, request):
        query = s.UsageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        summary = usage_summary(self.account, days=query.validated_data["days"])
        return Response(s.UsageSummarySerializer(summary).data)


class CostControlView(TenantAPIView):
    write_role = Role.ADMIN

    @extend_schema(responses=s.CostControlSerializer)
    def get(self, request):
        return Response(s.CostControlSerializer(cost_control_for(self.account)).data)

    @extend_schema(request=s.CostControlSerializer, responses=s.CostControlSerializer)
    def put(self, request):
        data = s.CostControlSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        control = cost_control_update(account=self.account, actor=self.membership, **data.validated_data)
        return Response(s.CostControlSerializer(control).data)


class ShutoffView(TenantAPIView):
    """POST engages the emergency shut-off of AI calls; DELETE lifts it (owners)."""

    write_role = Role.ADMIN

    @extend_schema(request=s.ShutoffSerializer, responses=s.CostControlSerializer)
    def post(self, request):
        data = s.ShutoffSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        control = shutoff_engage(
            account=self.account, actor=self.membership, reason=data.validated_data.get("reason", "")
        )
        return Response(s.CostControlSerializer(control).data)

    @extend_schema(request=None, responses=s.CostControlSerializer)
    def delete(self, request):
        return Response(s.CostControlSerializer(shutoff_lift(account=self.account, actor=self.membership)).data)
