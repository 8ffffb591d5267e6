"""The payment-provider interface: one module per provider behind it.

Both providers speak Stripe's webhook dialect: a JSON event signed with
HMAC-SHA256 in a `t=<unix time>,v1=<hex digest>` header over `f"{t}.{body}"`.
The dev provider signs its own events that way, so every credit goes through
the same verified path (billing.services.payments.webhook_process).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext

from aiplatform.errors import NotFound, ServiceError

if TYPE_CHECKING:
    from billing.models import Payment, Plan

PROVIDERS = {
    "dev": "billing.providers.dev.DevProvider",
    "stripe": "billing.providers.stripe.StripeProvider",
}


class PaymentProviderError(ServiceError):
    """The provider could not be reached, timed out, or refused the request."""

    status = 502
    code = "payment_provider_error"


class WebhookRejected(ServiceError):
    """A webhook that is not provably from the provider, or cannot be read."""

    status = 400
    code = "invalid_signature"


class WebhookNotConfigured(WebhookRejected):
    """Our side is missing its signing secret: nothing can be verified (operator's fix)."""

    status = 503
    code = "webhook_not_configured"


class UnknownProvider(NotFound):
    code = "unknown_payment_provider"


class ChargeStatus:
    SUCCEEDED = "succeeded"
    PENDING = "pending"  # the provider reports the outcome later, by webhook
    FAILED = "failed"


class EventStatus:
    """What an event says about its subject; empty when it changes nothing."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    EXPIRED = "expired"
    ACTIVE = "active"  # subscription paid (invoice.paid)
    PAST_DUE = "past_due"  # subscription payment failed (invoice.payment_failed)
    UPDATED = "updated"  # the provider changed the subscription (customer.subscription.updated)
    ENDED = "ended"  # the subscription is over (customer.subscription.deleted)


class EventSubject:
    PAYMENT = "payment"
    SUBSCRIPTION = "subscription"
    NONE = ""


@dataclass(frozen=True)
class CheckoutSession:
    provider_ref: str
    url: str


@dataclass(frozen=True)
class SignedWebhook:
    """A webhook as a provider would deliver it: raw body plus headers."""

    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class ChargeResult:
    provider_ref: str
    status: str  # ChargeStatus
    message: str = ""
    # Set by providers that settle at once (dev): the event to process now.
    webhook: SignedWebhook | None = None


@dataclass(frozen=True)
class SavedMethod:
    """A customer at the provider and the card a checkout saved for off-session use."""

    customer_ref: str
    payment_method_ref: str = ""
    card_brand: str = ""
    card_last4: str = ""


@dataclass(frozen=True)
class ProviderEvent:
    event_id: str
    type: str
    provider_ref: str  # checkout session, payment intent or subscription id
    amount: Decimal | None  # in major units of `currency`
    currency: str  # upper case, "" when the event carries none
    status: str  # EventStatus, "" when the event changes nothing
    raw: dict
    subject: str = EventSubject.NONE
    # Our ids as we sent them to the provider (metadata / client_reference_id).
    metadata: Mapping[str, str] = field(default_factory=dict)
    failure_message: str = ""
    # Subscriptions: the provider's subscription and customer, the invoice's period
    # (unix times), why it was billed, and what the provider says of the subscription.
    subscription_ref: str = ""
    customer_ref: str = ""
    period_start: int | None = None
    period_end: int | None = None
    billing_reason: str = ""
    subscription_status: str = ""
    cancel_at_period_end: bool | None = None


class PaymentProvider(ABC):
    name: ClassVar[str]
    # Whether automatic top-ups need a card saved at the provider.
    requires_saved_method: ClassVar[bool] = False

    @abstractmethod
    def create_checkout(
        self, payment: Payment, success_url: str, cancel_url: str, *, customer_ref: str = ""
    ) -> CheckoutSession:
        """Open a hosted payment page for `payment`. Raises PaymentProviderError.

        `customer_ref` is the account's customer at the provider, when one is saved.
        """

    @abstractmethod
    def charge_saved(self, payment: Payment, payment_method_ref: str) -> ChargeResult:
        """Charge a saved payment method off-session. Raises PaymentProviderError."""

    def saved_method(self, event: ProviderEvent) -> SavedMethod | None:
        """The customer and card a completed checkout saved, if any (may call the provider).

        Raises PaymentProviderError when the provider cannot be asked.
        """
        return None

    # --- plans (recurring billing) ----------------------------------------------------

    @abstractmethod
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
        """A hosted page where the customer subscribes to `plan` (monthly). The plan
        starts with the provider's paid invoice, not here. Raises PaymentProviderError."""

    @abstractmethod
    def subscription_change_plan(self, subscription_ref: str, plan: Plan, *, upgrade: bool) -> SignedWebhook | None:
        """Move the provider's subscription to `plan`. An upgrade is invoiced now
        (prorated) and refused when that payment fails; a downgrade is billed from the
        next period. Providers that settle at once return the resulting event."""

    @abstractmethod
    def subscription_set_cancel(self, subscription_ref: str, *, cancel: bool) -> None:
        """End the subscription at the period end (`cancel`), or withdraw that."""

    @abstractmethod
    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> ProviderEvent:
        """The event in `body`, once its signature and age are proven. Raises WebhookRejected."""


def get_provider(name: str | None = None) -> PaymentProvider:
    name = name or settings.PAYMENT_PROVIDER
    path = PROVIDERS.get(name)
    if path is None:
        raise UnknownProvider(gettext("Unknown payment provider '%(name)s'.") % {"name": name})
    return import_string(path)()


# --- Stripe's signature scheme (shared by the dev provider) -------------------------


def header_value(headers: Mapping[str, str], name: str) -> str:
    """`headers[name]`, case-insensitively (Django's request.headers or a plain dict)."""
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return value or ""


def compute_signature(secret: str, body: bytes, timestamp: int) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={compute_signature(secret, body, timestamp)}"


def verify_signature(*, secret: str, body: bytes, header: str, tolerance: int, now: float | None = None) -> int:
    """Check a `t=...,v1=...` header as Stripe documents it; return its timestamp.

    Every v1 signature is compared in constant time (several are sent while a
    secret is being rolled); the timestamp must be within `tolerance` seconds of
    now either way, which bounds replays.
    """
    if not secret:
        raise WebhookNotConfigured(gettext("The webhook signing secret is not configured."))
    if not header:
        raise WebhookRejected(gettext("The signature header is missing."))
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                timestamp = None
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise WebhookRejected(gettext("The signature header is malformed: it needs t=<timestamp> and v1=<signature>."))
    expected = compute_signature(secret, body, timestamp)
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise WebhookRejected(gettext("The signature does not match the body."))
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        raise WebhookRejected(
            gettext("The signature timestamp is outside the %(tolerance)s s tolerance (replayed or clock skew).")
            % {"tolerance": tolerance},
            code="stale_signature",
        )
    return timestamp
