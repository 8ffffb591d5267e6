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

from django.conf import settings
from django.urls import reverse

from billing.models import Payment

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
        event = {
            "id": f"evt_dev_{uuid.uuid4().hex}", "object": "event", "type": event_type,
            "created": int(time.time()), "livemode": False, "data": {"object": obj},
        }  # fmt: skip
        body = json.dumps(event).encode()
        secret = settings.DEV_PAYMENT_WEBHOOK_SECRET
        return SignedWebhook(body=body, headers={SIGNATURE_HEADER: signature_header(secret, body)})

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> ProviderEvent:
        if not self.enabled():
            raise WebhookRejected("The dev payment provider is not enabled here.", code="provider_disabled")
        verify_signature(
            secret=settings.DEV_PAYMENT_WEBHOOK_SECRET, body=body, header=header_value(headers, SIGNATURE_HEADER),
            tolerance=settings.STRIPE_WEBHOOK_TOLERANCE,
        )  # fmt: skip
        return parse_event(body)
