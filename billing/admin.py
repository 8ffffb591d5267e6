"""Operators: wallets and the ledger read-only, bonus/fine/refund with a required
reason (each a ledger row, audited by trigger and in the admin log), plans,
packs, subscriptions, payments, usage and cost controls."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from aiplatform.admin import ReadOnlyAdmin
from aiplatform.errors import ServiceError

from .models import (
    AccountDailyUsage,
    ApiRequestLog,
    AuditLog,
    CostControl,
    CreditPack,
    CreditTransaction,
    DailyProviderCost,
    Payment,
    PaymentCustomer,
    Plan,
    PlanChange,
    Reservation,
    Subscription,
    TopUpRule,
    UsageRecord,
    UserMonthlyUsage,
    Wallet,
    WebhookEvent,
)
from .services.ledger import wallet_adjust, wallet_refund
from .services.subscriptions import subscription_comp


class AdjustForm(forms.Form):
    kind = forms.ChoiceField(choices=[("bonus", "Bonus (+)"), ("fine", "Fine (-)")])
    amount = forms.DecimalField(max_digits=18, decimal_places=4, min_value=0)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), help_text=_("Required; kept in the ledger."))


def _log(request, obj, message: str) -> None:
    LogEntry.objects.log_actions(
        user_id=request.user.pk, queryset=[obj], action_flag=CHANGE, change_message=message, single_object=True
    )


@admin.register(Wallet)
class WalletAdmin(ReadOnlyAdmin):
    list_display = ["account", "balance", "reserved", "lifetime_credits", "tier", "updated_at"]
    list_filter = ["tier"]
    search_fields = ["account__name", "account__id", "account__billing_email"]
    list_select_related = ["account"]
    actions = ["grant_bonus_or_fine"]

    def get_urls(self):
        return [
            path(
                "<path:object_id>/adjust/", self.admin_site.admin_view(self.adjust_view), name="billing_wallet_adjust"
            ),
            *super().get_urls(),
        ]

    @admin.action(description="Grant a bonus or a fine…")
    def grant_bonus_or_fine(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Choose exactly one wallet.", messages.WARNING)
            return None
        return redirect(reverse("admin:billing_wallet_adjust", args=[queryset.get().pk]))

    def adjust_view(self, request, object_id):
        wallet = self.get_object(request, object_id)
        form = AdjustForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                tx = wallet_adjust(
                    account=wallet.account, amount=data["amount"], actor=request.user, reason=data["reason"],
                    kind=data["kind"],
                )  # fmt: skip
            except ServiceError as exc:
                form.add_error(None, exc.message)
            else:
                _log(request, wallet, f"{data['kind']} {data['amount']}: {data['reason']}")
                self.message_user(
                    request, f"{tx.get_type_display()} of {abs(tx.amount)} recorded; balance {tx.balance_after}."
                )
                return redirect(reverse("admin:billing_wallet_changelist"))
        context = {**self.admin_site.each_context(request), "title": f"Bonus or fine for {wallet.account}",
                   "form": form, "wallet": wallet, "opts": self.model._meta}  # fmt: skip
        return TemplateResponse(request, "admin/billing/wallet_adjust.html", context)


class RefundForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))


@admin.register(CreditTransaction)
class CreditTransactionAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "account",
        "type",
        "amount",
        "balance_after",
        "actor",
        "reference_type",
        "description",
    ]
    list_filter = ["type", "provider", "created_at"]
    search_fields = ["account__name", "id", "reference_id", "provider_payment_id", "description", "actor__email"]
    list_select_related = ["account", "actor"]
    date_hierarchy = "created_at"
    actions = ["refund_charges"]

    @admin.action(description="Refund selected charges in full (reason: operator refund)")
    def refund_charges(self, request, queryset):
        done = 0
        for tx in queryset.filter(type__in=CreditTransaction.DEBIT_TYPES):
            try:
                wallet_refund(account=tx.account, transaction_id=tx.id, actor=request.user, reason="operator refund")
            except ServiceError as exc:
                self.message_user(request, f"{tx.id}: {exc.message}", messages.WARNING)
            else:
                _log(request, tx, "refunded in full")
                done += 1
        self.message_user(request, f"{done} charges refunded.")


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "table_name", "operation", "row_id", "account", "db_user", "app_user_id"]
    list_filter = ["table_name", "operation"]
    search_fields = ["row_id", "app_user_id", "account__name"]
    list_select_related = ["account"]


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "plan_type", "monthly_price", "monthly_credits", "user_limit", "is_active"]
    list_editable = ["is_active"]
    prepopulated_fields = {"code": ["name"]}


@admin.register(CreditPack)
class CreditPackAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "credits", "price", "currency", "is_active"]
    list_editable = ["is_active"]


class CompForm(forms.Form):
    plan = forms.ModelChoiceField(queryset=Plan.objects.filter(is_active=True))
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), help_text=_("Required; kept in the plan history.")
    )


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    """Plans change through the provider's paid invoices; an operator can only comp one (with a reason)."""

    list_display = ["account", "plan", "status", "provider", "current_period_end", "scheduled_plan",
                    "cancel_at_period_end"]  # fmt: skip
    list_filter = ["status", "plan", "provider"]
    search_fields = ["account__name", "provider_subscription_id"]
    list_select_related = ["account", "plan", "scheduled_plan"]
    actions = ["comp_plan"]

    def get_urls(self):
        return [
            path(
                "<path:object_id>/comp/", self.admin_site.admin_view(self.comp_view), name="billing_subscription_comp"
            ),
            *super().get_urls(),
        ]

    @admin.action(description="Comp a plan (free of charge, with a reason)…")
    def comp_plan(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Choose exactly one subscription.", messages.WARNING)
            return None
        return redirect(reverse("admin:billing_subscription_comp", args=[queryset.get().pk]))

    def comp_view(self, request, object_id):
        subscription = self.get_object(request, object_id)
        form = CompForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                sub = subscription_comp(
                    account=subscription.account, plan=data["plan"], operator=request.user, reason=data["reason"]
                )
            except ServiceError as exc:
                form.add_error(None, exc.message)
            else:
                _log(request, subscription, f"comped {data['plan'].code}: {data['reason']}")
                self.message_user(request, f"{sub.account} is on the {sub.plan.name} plan, comped.")
                return redirect(reverse("admin:billing_subscription_changelist"))
        context = {**self.admin_site.each_context(request), "title": f"Comp a plan for {subscription.account}",
                   "form": form, "subscription": subscription, "opts": self.model._meta}  # fmt: skip
        return TemplateResponse(request, "admin/billing/subscription_comp.html", context)


@admin.register(PlanChange)
class PlanChangeAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "account", "kind", "from_plan", "to_plan", "actor", "provider", "provider_ref",
                    "credits_granted", "reason"]  # fmt: skip
    list_filter = ["kind", "provider"]
    search_fields = ["account__name", "provider_ref", "reason"]
    list_select_related = ["account", "from_plan", "to_plan", "actor"]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "account", "kind", "pack", "credits", "amount", "currency", "provider", "status"]
    list_filter = ["status", "provider", "kind"]
    search_fields = ["account__name", "provider_ref", "id"]
    list_select_related = ["account", "pack"]


@admin.register(PaymentCustomer)
class PaymentCustomerAdmin(ReadOnlyAdmin):
    """Written only by the provider's checkout events."""

    list_display = ["account", "provider", "customer_ref", "card_brand", "card_last4", "updated_at"]
    list_filter = ["provider"]
    search_fields = ["account__name", "customer_ref"]
    list_select_related = ["account"]


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "provider", "type", "event_id", "processed_at", "error"]
    list_filter = ["provider", "type"]
    search_fields = ["event_id", "account_ref"]


@admin.register(TopUpRule)
class TopUpRuleAdmin(admin.ModelAdmin):
    list_display = ["account", "kind", "enabled", "pack", "threshold", "interval_days", "next_run_at", "last_error"]
    list_filter = ["kind", "enabled"]
    search_fields = ["account__name"]
    list_select_related = ["account", "pack"]


@admin.register(UsageRecord)
class UsageRecordAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "account",
        "feature",
        "model",
        "provider",
        "tokens_in",
        "tokens_out",
        "credits",
        "status",
    ]
    list_filter = ["feature", "provider", "status"]
    search_fields = ["account__name", "model", "reference_id"]
    list_select_related = ["account"]
    date_hierarchy = "created_at"


@admin.register(AccountDailyUsage)
class AccountDailyUsageAdmin(ReadOnlyAdmin):
    list_display = ["stat_date", "account", "total_credits_used", "ai_calls", "generations", "tokens_used",
                    "provider_cost", "projects_created", "content_pieces_added", "scripts_generated",
                    "voice_generations", "avatar_generations", "storage_used_gb"]  # fmt: skip
    search_fields = ["account__name"]
    list_select_related = ["account"]
    date_hierarchy = "stat_date"


@admin.register(UserMonthlyUsage)
class UserMonthlyUsageAdmin(ReadOnlyAdmin):
    """Seed 002 `user_usage`: per member per month."""

    list_display = ["month", "account", "user", "ai_credits_used", "provider_cost", "generations", "tokens_used",
                    "api_calls_made", "campaigns_generated", "storage_bytes_used"]  # fmt: skip
    search_fields = ["account__name", "user__email", "user__username"]
    list_select_related = ["account", "user"]
    date_hierarchy = "month"


@admin.register(DailyProviderCost)
class DailyProviderCostAdmin(ReadOnlyAdmin):
    """Seed 002 `ai_cost_tracking`: per member per day per provider."""

    list_display = ["date", "account", "user", "provider", "cost", "generations_count", "tokens_used"]
    list_filter = ["provider"]
    search_fields = ["account__name", "user__email"]
    list_select_related = ["account", "user"]
    date_hierarchy = "date"


@admin.register(ApiRequestLog)
class ApiRequestLogAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "account", "request_type", "endpoint", "status_code", "response_time_ms",
                    "tokens_used", "credits_cost", "error_message"]  # fmt: skip
    list_filter = ["status_code", "request_type"]
    search_fields = ["account__name", "endpoint"]
    list_select_related = ["account"]


@admin.register(CostControl)
class CostControlAdmin(admin.ModelAdmin):
    list_display = ["account", "daily_limit", "monthly_limit", "auto_shutoff", "shutoff_active", "shutoff_at"]
    list_filter = ["shutoff_active", "auto_shutoff"]
    search_fields = ["account__name"]
    list_select_related = ["account"]
    autocomplete_fields = ["account"]


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyAdmin):
    """What holds credits: a held reservation counts in the wallet's `reserved` until it
    is settled (charged by its transaction), released or expired. Written only by
    billing/services/reservations.py."""

    list_display = ["created_at", "account", "amount", "status", "type", "reference", "expires_at", "closed_at",
                    "transaction"]  # fmt: skip
    list_filter = ["status", "type", "expires_at"]
    search_fields = ["account__name", "=account__id", "=id", "reference_id", "reference_type"]  # ids whole
    list_select_related = ["account", "transaction"]
    date_hierarchy = "created_at"
    fields = ["account", "amount", "status", "type", "actor", "reference_type", "reference_id", "created_at",
              "expires_at", "closed_at", "transaction"]  # fmt: skip

    @admin.display(description="reference", ordering="reference_id")
    def reference(self, obj: Reservation) -> str:
        return f"{obj.reference_type}:{obj.reference_id}" if obj.reference_type else obj.reference_id
