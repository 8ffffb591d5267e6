"""Server-rendered billing pages: the wallet (balance, ledger, top-ups) and usage
(charts, plan, limits, cost controls).

Pages are for every member of the account; what they may change is decided by
the services (plan, cost controls, shut-off take the membership and check its
role) or, for payments, whose services take the acting user, here: buying
credits is an admin's act, as in the API. A refused or invalid action becomes
a flash message and a redirect back, never an error page.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy
from django.views import View

from accounts.models import Role
from accounts.tenancy.views import TenantViewMixin
from aiplatform.charts import Series, bar_chart, display_number, line_chart
from aiplatform.errors import ServiceError
from aiplatform.flash import run_and_report, service_error_text

from . import forms, selectors
from .api import transactions_csv
from .context_processors import WALLET_ATTRIBUTE
from .filters import TransactionFilter
from .models import TopUpRule
from .services.controls import cost_control_update, shutoff_engage, shutoff_lift
from .services.ledger import wallet_for
from .services.limits import plan_usage
from .services.payments import credit_purchase
from .services.subscriptions import subscription_cancel, subscription_change, subscription_for
from .services.top_ups import top_up_rule_disable, top_up_rule_save
from .services.usage import spend_totals, usage_summary

LEDGER_PAGE_SIZE = 50
USAGE_DAYS = 30
USAGE_DAY_CHOICES = (7, 30, 90)
PLAN_NOTES = {
    "success": gettext_lazy("Thank you: the plan starts as soon as the payment provider confirms the payment."),
    "cancelled": gettext_lazy("Checkout was cancelled; the plan did not change and nothing was charged."),
}
CHECKOUT_NOTES = {
    "success": gettext_lazy("Thank you: your credits are added as soon as the payment provider confirms the payment."),
    "cancelled": gettext_lazy("Checkout was cancelled; nothing was charged."),
}


def _invalid(request, form) -> None:
    messages.error(request, forms.form_error_text(form))


LEDGER_FILTER_LABELS = {
    "type": "Type",
    "date_from": "From",
    "date_to": "To",
    "created_from": "From",
    "created_to": "To",
}


def _ledger_filter(request, account) -> TransactionFilter:
    ledger = TransactionFilter(request.GET or None, queryset=selectors.ledger_of(account))
    for name, label in LEDGER_FILTER_LABELS.items():
        ledger.form.fields[name].label = label
    return ledger


# --- wallet ---------------------------------------------------------------------------


class WalletView(TenantViewMixin, View):
    def get(self, request):
        account = self.account
        wallet = wallet_for(account)
        setattr(request, WALLET_ATTRIBUTE, wallet)  # the credits badge reads this instead of the database
        ledger = _ledger_filter(request, account)
        page = Paginator(ledger.qs, LEDGER_PAGE_SIZE).get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        query.pop("checkout", None)
        history = selectors.wallet_history(account, balance_now=wallet.balance)
        can_buy = request.account_role.at_least(Role.ADMIN)
        note = CHECKOUT_NOTES.get(request.GET.get("checkout", ""))
        context = {
            "wallet": wallet,
            "filter": ledger,
            "types": ledger.form.fields["type"].choices,
            "selected_types": request.GET.getlist("type"),
            "page": page,
            "filter_query": query.urlencode(),
            "chart": line_chart(
                title=gettext("Balance and spend, last 30 days"),
                desc=gettext("Credits at the end of each day, and credits used each day."),
                labels=[d.day.isoformat() for d in history],
                series=[
                    Series("Balance", [d.balance for d in history]),
                    Series("Spent", [d.spent for d in history], axis="right"),
                ],
                y_label="Credits",
                chart_id="wallet-history",
            ),
            "spent_30_days": sum((d.spent for d in history), start=Decimal("0")),
            "can_buy": can_buy,
            "idempotency_key": uuid.uuid4(),  # one per page shown: the buy forms resend it on a double submit
            "checkout_note": note,
            "shutoff": selectors.active_shutoff_of(account),
        }
        if can_buy:
            rules = selectors.top_up_rules_of(account)
            context.update(
                packs=list(selectors.packs_for_sale()),
                threshold_rule=rules.get(TopUpRule.Kind.THRESHOLD),
                recurring_rule=rules.get(TopUpRule.Kind.RECURRING),
                payments=selectors.recent_payments_of(account),
                saved_card=selectors.saved_card_of(account),
            )
        return render(request, "billing/wallet.html", context)


class TransactionsCsvView(TenantViewMixin, View):
    """The wallet page's ledger, with the same filters, as CSV."""

    def get(self, request):
        ledger = _ledger_filter(request, self.account)
        if ledger.is_bound and not ledger.is_valid():
            text = forms.form_error_text(ledger.form)
            return HttpResponse(f"Invalid filter. {text}\n", status=400, content_type="text/plain; charset=utf-8")
        # Read now, inside the tenant context: the response streams after the request transaction.
        return transactions_csv(list(ledger.qs), f"ledger-{self.account.id}.csv")


class BuyView(TenantViewMixin, View):
    """Buy a credit pack: open the provider's checkout page."""

    required_role = Role.ADMIN

    def post(self, request):
        form = forms.BuyForm(request.POST)
        if not form.is_valid():
            _invalid(request, form)
            return redirect("billing:wallet")
        # A double submit of the page's form opens the same checkout; a refusal is a flash (error_url).
        key = request.POST.get("idempotency_key", "").strip()
        payment = credit_purchase(
            account=self.account, actor=request.user, pack_code=form.cleaned_data["pack"].code,
            idempotency_key=f"web-{key}"[:255] if key else None,
        )  # fmt: skip
        return HttpResponseRedirect(payment.checkout_url)

    def error_url(self) -> str:
        return reverse("billing:wallet")


class TopUpRuleSaveView(TenantViewMixin, View):
    required_role = Role.ADMIN

    def post(self, request):
        form = forms.TopUpRuleForm(request.POST)
        if not form.is_valid():
            _invalid(request, form)
            return redirect("billing:wallet")
        data = form.cleaned_data
        kind = data["kind"]
        run_and_report(
            request,
            lambda: top_up_rule_save(
                account=self.account,
                actor=request.user,
                kind=kind,
                pack=data["pack"],
                threshold=data["threshold"] if kind == TopUpRule.Kind.THRESHOLD else None,
                interval_days=data["interval_days"] if kind == TopUpRule.Kind.RECURRING else None,
                enabled=data["enabled"],
            ),
            _rule_saved_text,
        )
        return redirect("billing:wallet")


def _rule_saved_text(rule: TopUpRule) -> str:
    if not rule.enabled:
        return gettext("Automatic top-up saved, turned off.")
    if rule.kind == TopUpRule.Kind.THRESHOLD:
        below = display_number(rule.threshold)
        return gettext("Automatic top-up saved: %(pack)s whenever the balance falls below %(below)s.") % {
            "pack": rule.pack.name,
            "below": below,
        }
    return gettext("Automatic top-up saved: %(pack)s every %(days)s days.") % {
        "pack": rule.pack.name,
        "days": rule.interval_days,
    }


class TopUpRuleDisableView(TenantViewMixin, View):
    required_role = Role.ADMIN

    def post(self, request, pk):
        rule = self.get_scoped_object(TopUpRule, pk=pk)
        run_and_report(
            request,
            lambda: top_up_rule_disable(account=self.account, actor=request.user, rule=rule),
            gettext("Automatic top-up turned off."),
        )
        return redirect("billing:wallet")


# --- usage, plan, cost controls ----------------------------------------------------------


class UsageView(TenantViewMixin, View):
    def get(self, request):
        account = self.account
        query = forms.UsageQueryForm(request.GET)
        days = (query.cleaned_data.get("days") if query.is_valid() else None) or USAGE_DAYS
        summary = usage_summary(account, days=days)
        daily = summary["daily"]
        labels = [d["date"].isoformat() for d in daily]
        subscription = subscription_for(account)
        control = selectors.cost_control_of(account)
        spent_today, spent_month = spend_totals(account)
        role = request.account_role
        members = selectors.member_usage_of(account)
        context = {
            "days": days,
            "day_choices": USAGE_DAY_CHOICES,
            "summary": summary,
            "total_credits": sum((d["credits"] for d in daily), start=Decimal("0")),
            "total_calls": sum(d["calls"] for d in daily),
            "daily_chart": line_chart(
                title=gettext("Usage per day, last %(days)s days") % {"days": days},
                desc=gettext("Credits used and AI calls made each day."),
                labels=labels,
                series=[
                    Series("Credits", [d["credits"] for d in daily]),
                    Series("Calls", [d["calls"] for d in daily], axis="right"),
                ],
                y_label="Credits",
                chart_id="usage-daily",
            ),
            "feature_chart": bar_chart(
                title=gettext("Credits per feature, last %(days)s days") % {"days": days},
                labels=[row["feature"] for row in summary["by_feature"]],
                values=[row["credits"] for row in summary["by_feature"]],
                value_label="Credits",
                chart_id="usage-features",
            ),
            "model_chart": bar_chart(
                title=gettext("Credits per model, last %(days)s days") % {"days": days},
                labels=[row["model"] for row in summary["by_model"]],
                values=[row["credits"] for row in summary["by_model"]],
                value_label="Credits",
                chart_id="usage-models",
            ),
            "subscription": subscription,
            "plan_note": PLAN_NOTES.get(request.GET.get("checkout", "")),
            "plans": list(selectors.plans_for_sale()),
            "limits": plan_usage(account),
            "members": members,
            "members_chart": bar_chart(
                title=gettext("Credits per member this month"),
                labels=[m.user_label for m in members],
                values=[m.credits for m in members],
                value_label="Credits",
                chart_id="usage-members",
            ),
            "provider_costs": selectors.provider_costs_of(account, days=days),
            "activity": summary["activity"],
            "control": control,
            "shutoff": control if control.shutoff_active else None,
            "spent_today": spent_today,
            "spent_month": spent_month,
            "can_manage": role.at_least(Role.ADMIN),
            "is_owner": role.at_least(Role.OWNER),
        }
        return render(request, "billing/usage.html", context)


class PlanChangeView(TenantViewMixin, View):
    """A paid plan opens the provider's checkout (the plan starts once it is paid);
    a downgrade is scheduled for the period end."""

    def post(self, request):
        form = forms.PlanForm(request.POST)
        if not form.is_valid():
            _invalid(request, form)
            return redirect("billing:usage")
        try:
            result = subscription_change(
                account=self.account, actor=self.membership, plan_code=form.cleaned_data["plan"]
            )
        except ServiceError as exc:
            messages.error(request, service_error_text(exc))
            return redirect("billing:usage")
        if result.checkout_url:
            return HttpResponseRedirect(result.checkout_url)
        messages.success(request, result.message)
        return redirect("billing:usage")


class PlanCancelView(TenantViewMixin, View):
    def post(self, request):
        run_and_report(
            request,
            lambda: subscription_cancel(account=self.account, actor=self.membership),
            lambda sub: (
                gettext("The subscription ends on %(date)s; the account then returns to the Free plan.")
                % {"date": f"{sub.current_period_end:%Y-%m-%d}"}
            ),
        )
        return redirect("billing:usage")


class CostControlView(TenantViewMixin, View):
    def post(self, request):
        form = forms.CostControlForm(request.POST)
        if not form.is_valid():
            _invalid(request, form)
        else:
            run_and_report(
                request,
                lambda: cost_control_update(account=self.account, actor=self.membership, **form.cleaned_data),
                gettext("Cost controls saved."),
            )
        return redirect("billing:usage")


class ShutoffEngageView(TenantViewMixin, View):
    def post(self, request):
        form = forms.ShutoffForm(request.POST)
        reason = form.cleaned_data["reason"] if form.is_valid() else ""
        run_and_report(
            request,
            lambda: shutoff_engage(account=self.account, actor=self.membership, reason=reason),
            gettext("Emergency shut-off engaged: AI features are paused for this account."),
        )
        return redirect("billing:usage")


class ShutoffLiftView(TenantViewMixin, View):
    def post(self, request):
        run_and_report(
            request,
            lambda: shutoff_lift(account=self.account, actor=self.membership),
            gettext("Emergency shut-off lifted: AI features work again."),
        )
        return redirect("billing:usage")
