"""The offline provider of the embedded default: no network, no real money.

Checkout is our own page (/billing/dev-checkout/<payment id>/) with a Pay
button; paying produces a Stripe-shaped event signed with
DEV_PAYMENT_WEBHOOK_SECRET, which goes through the same verified webhook path
as Stripe's. Saved-card charges succeed at once and come with their event.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from billing.models import Payment, Plan, Subscription

from .base import (
    ChargeResult,
    ChargeStatus,
    CheckoutSession,
    PaymentProvider,
    ProviderEvent,
    SignedWebhook,
    WebhookRejected,
    header_value,
    signature_header,
    verify_signature,
)
from .stripe import parse_event, to_minor_units

SIGNATURE_HEADER = "Dev-Signature"


class DevProvider(PaymentProvider):
    name = "dev"

    @staticmethod
    def enabled() -> bool:
        """Only where it is the configured provider: elsewhere it would hand out free credits."""
        return settings.PAYMENT_PROVIDER == DevProvider.name

    def create_checkout(
        self, payment: Payment, success_url: str, cancel_url: str, *, customer_ref: str = ""
    ) -> CheckoutSession:
        url = settings.SITE_URL.rstrip("/") + reverse("payments:dev_checkout", args=[payment.id])
        return CheckoutSession(provider_ref=f"dev_cs_{payment.id.hex}", url=url)

    def charge_saved(self, payment: Payment, payment_method_ref: str) -> ChargeResult:
        ref = f"dev_pi_{payment.id.hex}"
        webhook = self.signed_event(payment, "payment_intent.succeeded", provider_ref=ref)
        return ChargeResult(provider_ref=ref, status=ChargeStatus.SUCCEEDED, webhook=webhook)

    def signed_event(self, payment: Payment, event_type: str, *, provider_ref: str | None = None) -> SignedWebhook:
        """The event Stripe would send once `payment` is paid, signed as Stripe signs it."""
        ref = provider_ref or payment.provider_ref
        minor = to_minor_units(payment.amount, payment.currency)
        ids = {"account_id": str(payment.account_id), "payment_id": str(payment.id)}
        if event_type.startswith("checkout.session."):
            obj = {
                "id": ref, "object": "checkout.session", "amount_total": minor, "currency": payment.currency.lower(),
                "payment_status": "paid", "status": "complete", "client_reference_id": str(payment.id),
                "metadata": ids,
            }  # fmt: skip
        else:
            obj = {
                "id": ref, "object": "payment_intent", "amount": minor, "amount_received": minor,
                "currency": payment.currency.lower(), "status": "succeeded", "metadata": ids,
            }  # fmt: skip
        return self._signed(event_type, obj)

    @staticmethod
    def _signed(event_type: str, obj: dict) -> SignedWebhook:
        event = {
            "id": f"evt_dev_{uuid.uuid4().hex}", "object": "event", "type": event_type,
            "created": int(time.time()), "livemode": False, "data": {"object": obj},
        }  # fmt: skip
        body = json.dumps(event).encode()
        secret = settings.DEV_PAYMENT_WEBHOOK_SECRET
        return SignedWebhook(body=body, headers={SIGNATURE_HEADER: signature_header(secret, body)})

    # --- plans: the dev provider "bills" by signing the events Stripe Billing would send ---

    def create_subscription_checkout(
        self,
        payment: Payment,
        plan: Plan,
        success_url: str,
        cancel_url: str,
        *,
        trial_days: int = 0,
        customer_ref: str = "",
    ) -> CheckoutSession:
        url = settings.SITE_URL.rstrip("/") + reverse("payments:dev_checkout", args=[payment.id])
        return CheckoutSession(provider_ref=f"dev_cs_{payment.id.hex}", url=url)

    def signed_subscription_checkout(self, payment: Payment, *, trial_days: int = 0) -> list[SignedWebhook]:
        """Paying the dev checkout of a plan: the session completes and the first invoice is
        paid (0 during a trial), as Stripe reports a subscription checkout."""
        plan = payment.plan
        subscription_ref = f"dev_sub_{payment.id.hex}"
        ids = {"account_id": str(payment.account_id), "payment_id": str(payment.id), "plan": plan.code}
        session = {
            "id": payment.provider_ref, "object": "checkout.session", "mode": "subscription",
            "amount_total": 0 if trial_days else to_minor_units(payment.amount, payment.currency),
            "currency": payment.currency.lower(), "status": "complete",
            "payment_status": "no_payment_required" if trial_days else "paid",
            "client_reference_id": str(payment.id), "metadata": ids, "subscription": subscription_ref,
            "customer": f"dev_cus_{payment.account_id.hex}",
        }  # fmt: skip
        start = timezone.now()
        end = start + (relativedelta(days=trial_days) if trial_days else relativedelta(months=1))
        invoice = self.signed_invoice(
            subscription_ref, plan, amount=Decimal("0") if trial_days else plan.monthly_price, start=start, end=end,
            reason="subscription_create", metadata=ids,
        )  # fmt: skip
        return [self._signed("checkout.session.completed", session), invoice]

    def signed_invoice(
        self,
        subscription_ref: str,
        plan: Plan,
        *,
        amount: Decimal,
        start: datetime,
        end: datetime,
        reason: str,
        metadata: Mapping[str, str] | None = None,
    ) -> SignedWebhook:
        """A paid invoice of `subscription_ref` for `plan` over [start, end)."""
        minor = to_minor_units(amount.quantize(Decimal(1).scaleb(-2)), plan.currency)
        invoice = {
            "id": f"dev_in_{uuid.uuid4().hex}", "object": "invoice", "subscription": subscription_ref,
            "amount_paid": minor, "amount_due": minor, "currency": plan.currency.lower(), "billing_reason": reason,
            "status": "paid", "subscription_details": {"metadata": {**(metadata or {}), "plan": plan.code}},
            "lines": {"data": [{"period": {"start": int(start.timestamp()), "end": int(end.timestamp())}}]},
        }  # fmt: skip
        return self._signed("invoice.paid", invoice)

    def signed_subscription_ended(self, subscription_ref: str) -> SignedWebhook:
        return self._signed(
            "customer.subscription.deleted",
            {"id": subscription_ref, "object": "subscription", "status": "canceled", "cancel_at_period_end": False},
        )

    def subscription_change_plan(self, subscription_ref: str, plan: Plan, *, upgrade: bool) -> SignedWebhook | None:
        """An upgrade is paid at once: the prorated difference for the rest of the period."""
        if not upgrade:
            return None  # billed from the next period, by the renewal's invoice
        current = Subscription.objects.select_related("plan").get(provider_subscription_id=subscription_ref)
        now = timezone.now()
        total = (current.current_period_end - current.current_period_start).total_seconds() or 1
        left = max(0.0, (current.current_period_end - now).total_seconds()) / total
        amount = max(Decimal("0"), (plan.monthly_price - current.plan.monthly_price) * Decimal(str(round(left, 6))))
        return self.signed_invoice(
            subscription_ref, plan, amount=amount, start=current.current_period_start, end=current.current_period_end,
            reason="subscription_update",
        )  # fmt: skip

    def subscription_set_cancel(self, subscription_ref: str, *, cancel: bool) -> None:
        """Nothing to tell: the renewal (beat) ends a dev subscription that is set to cancel."""

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> ProviderEvent:
        if not self.enabled():
            raise WebhookRejected(gettext("The dev payment provider is not enabled here."), code="provider_disabled")
        verify_signature(
            secret=settings.DEV_PAYMENT_WEBHOOK_SECRET, body=body, header=header_value(headers, SIGNATURE_HEADER),
            tolerance=settings.STRIPE_WEBHOOK_TOLERANCE,
        )  # fmt: skip
        return parse_event(body)
