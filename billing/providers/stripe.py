"""Stripe: Checkout sessions, off-session PaymentIntents, signed webhooks.

Plain HTTPS against the REST API (form-encoded, as Stripe's API takes it), so
tests run this very code against a loopback server (tests/support/fake_stripe.py).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx
from django.conf import settings
from django.utils.translation import gettext

from billing.models import Payment, Plan

from .base import (
    ChargeResult,
    ChargeStatus,
    CheckoutSession,
    EventStatus,
    EventSubject,
    PaymentProvider,
    PaymentProviderError,
    ProviderEvent,
    SavedMethod,
    SignedWebhook,
    WebhookRejected,
    header_value,
    verify_signature,
)

log = logging.getLogger("billing.stripe")

SIGNATURE_HEADER = "Stripe-Signature"
DEFAULT_TIMEOUT = 20.0  # seconds; settings.STRIPE_TIMEOUT overrides

# Stripe amounts are integers in the currency's smallest unit; these currencies have none.
ZERO_DECIMAL = frozenset("BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split())
THREE_DECIMAL = frozenset("BHD JOD KWD OMR TND".split())


def _exponent(currency: str) -> int:
    code = currency.upper()
    return 0 if code in ZERO_DECIMAL else 3 if code in THREE_DECIMAL else 2


def to_minor_units(amount: Decimal, currency: str) -> int:
    minor = Decimal(amount).scaleb(_exponent(currency))
    if minor != minor.to_integral_value():
        raise PaymentProviderError(
            gettext("%(amount)s %(currency)s cannot be charged: too many decimal places for %(currency)s.")
            % {"amount": amount, "currency": currency}
        )
    return int(minor)


def from_minor_units(value: int, currency: str) -> Decimal:
    return Decimal(value).scaleb(-_exponent(currency))


def _form(data: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Stripe's nested form encoding: {"a": {"b": [1]}} -> {"a[b][0]": "1"}."""
    flat: dict[str, str] = {}
    for key, value in data.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, Mapping):
            flat.update(_form(value, name))
        elif isinstance(value, list | tuple):
            flat.update(_form({str(i): v for i, v in enumerate(value)}, name))
        elif isinstance(value, bool):
            flat[name] = "true" if value else "false"
        elif value is not None:
            flat[name] = str(value)
    return flat


# --- events (also the dev provider's format) -------------------------------------------

_CHECKOUT_STATUS = {
    "checkout.session.async_payment_succeeded": EventStatus.SUCCEEDED,
    "checkout.session.async_payment_failed": EventStatus.FAILED,
    "checkout.session.expired": EventStatus.EXPIRED,
}
_INTENT_STATUS = {
    "payment_intent.succeeded": EventStatus.SUCCEEDED,
    "payment_intent.payment_failed": EventStatus.FAILED,
}
_INVOICE_STATUS = {"invoice.paid": EventStatus.ACTIVE, "invoice.payment_failed": EventStatus.PAST_DUE}


def _text(value: Any, what: str, *, max_length: int = 255) -> str:
    if not isinstance(value, str) or not value or len(value) > max_length:
        raise WebhookRejected(gettext("The event has no valid %(what)s.") % {"what": what}, code="invalid_payload")
    return value


def _amount(obj: Mapping, *keys: str) -> tuple[Decimal | None, str]:
    currency = obj.get("currency")
    currency = currency.upper() if isinstance(currency, str) else ""
    for key in keys:
        value = obj.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and currency:
            return from_minor_units(value, currency), currency
    return None, currency


def _metadata(obj: Mapping) -> dict[str, str]:
    raw = obj.get("metadata")
    metadata = {k: v for k, v in raw.items() if isinstance(v, str)} if isinstance(raw, Mapping) else {}
    if isinstance(obj.get("client_reference_id"), str):
        metadata.setdefault("payment_id", obj["client_reference_id"])
    return metadata


def _ref(value: Any) -> str:
    """An object's id, whether Stripe sent the id or the expanded object; "" when neither."""
    if isinstance(value, Mapping):
        value = value.get("id")
    return value if isinstance(value, str) and 0 < len(value) <= 255 else ""


def _subscription_id(invoice: Mapping) -> str:
    """The invoice's subscription ("" for a one-off invoice)."""
    sub = invoice.get("subscription")
    if sub is None:  # API versions from 2025-03-31 moved it under `parent`
        details = (invoice.get("parent") or {}).get("subscription_details") or {}
        sub = details.get("subscription") if isinstance(details, Mapping) else None
    return _ref(sub)


def _invoice_metadata(invoice: Mapping) -> dict[str, str]:
    """Our ids as the subscription carried them when the invoice was made (the
    subscription's metadata is copied onto its invoices and their lines)."""
    found: dict[str, str] = {}
    parent = invoice.get("parent") if isinstance(invoice.get("parent"), Mapping) else {}
    lines = invoice.get("lines") if isinstance(invoice.get("lines"), Mapping) else {}
    first = (lines.get("data") or [None])[0] if isinstance(lines.get("data"), list) else None
    for source in (
        first if isinstance(first, Mapping) else {},
        invoice.get("subscription_details") or {},
        parent.get("subscription_details") or {},
    ):
        if isinstance(source, Mapping):
            found.update(_metadata(source))
    return found


def _unix(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _invoice_period(invoice: Mapping) -> tuple[int | None, int | None]:
    """The service period the invoice bills: its subscription line's, else the invoice's."""
    lines = invoice.get("lines") if isinstance(invoice.get("lines"), Mapping) else {}
    for line in lines.get("data") or []:
        period = line.get("period") if isinstance(line, Mapping) else None
        if isinstance(period, Mapping) and _unix(period.get("start")) and _unix(period.get("end")):
            return period["start"], period["end"]
    return _unix(invoice.get("period_start")), _unix(invoice.get("period_end"))


def _subscription_period(sub: Mapping) -> tuple[int | None, int | None]:
    start, end = _unix(sub.get("current_period_start")), _unix(sub.get("current_period_end"))
    if start is None:  # API versions from 2025-03-31 keep the period on the items
        items = sub.get("items") if isinstance(sub.get("items"), Mapping) else {}
        first = (items.get("data") or [None])[0] if isinstance(items.get("data"), list) else None
        if isinstance(first, Mapping):
            start, end = _unix(first.get("current_period_start")), _unix(first.get("current_period_end"))
    return start, end


_SUBSCRIPTION_STATUS = {
    "customer.subscription.updated": EventStatus.UPDATED,
    "customer.subscription.deleted": EventStatus.ENDED,
}


def parse_event(body: bytes) -> ProviderEvent:
    """Read a Stripe event (already verified) into a ProviderEvent."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise WebhookRejected(gettext("The webhook body is not valid JSON."), code="invalid_payload")
    if not isinstance(payload, dict):
        raise WebhookRejected(gettext("The webhook body is not a JSON object."), code="invalid_payload")
    event_id = _text(payload.get("id"), "id")
    event_type = _text(payload.get("type"), "type", max_length=100)
    obj = (payload.get("data") or {}).get("object") if isinstance(payload.get("data"), dict) else None
    if not isinstance(obj, dict):
        raise WebhookRejected(gettext("The event has no data.object."), code="invalid_payload")
    common = {"event_id": event_id, "type": event_type, "raw": payload}

    if event_type == "checkout.session.completed" or event_type in _CHECKOUT_STATUS:
        amount, currency = _amount(obj, "amount_total")
        status = _CHECKOUT_STATUS.get(event_type, "")
        paid = ("paid", "no_payment_required") if obj.get("mode") == "subscription" else ("paid",)
        if event_type == "checkout.session.completed" and obj.get("payment_status") in paid:
            status = EventStatus.SUCCEEDED  # otherwise an async method is still settling
        return ProviderEvent(
            **common, provider_ref=_text(obj.get("id"), "checkout session id"), amount=amount, currency=currency,
            status=status, subject=EventSubject.PAYMENT, metadata=_metadata(obj),
            subscription_ref=_ref(obj.get("subscription")), customer_ref=_ref(obj.get("customer")),
        )  # fmt: skip
    if event_type in _INTENT_STATUS:
        status = _INTENT_STATUS[event_type]
        keys = ("amount_received", "amount") if status == EventStatus.SUCCEEDED else ("amount",)
        amount, currency = _amount(obj, *keys)
        error = obj.get("last_payment_error")
        message = error.get("message", "") if isinstance(error, dict) else ""
        return ProviderEvent(
            **common, provider_ref=_text(obj.get("id"), "payment intent id"), amount=amount, currency=currency,
            status=status, subject=EventSubject.PAYMENT, metadata=_metadata(obj),
            failure_message=message if isinstance(message, str) else "",
        )  # fmt: skip
    if event_type in _INVOICE_STATUS:
        keys = ("amount_paid",) if event_type == "invoice.paid" else ("amount_due",)
        amount, currency = _amount(obj, *keys)
        start, end = _invoice_period(obj)
        reason = obj.get("billing_reason")
        subscription = _subscription_id(obj)
        return ProviderEvent(
            **common, provider_ref=_text(obj.get("id"), "invoice id"), amount=amount, currency=currency,
            status=_INVOICE_STATUS[event_type] if subscription else "",
            subject=EventSubject.SUBSCRIPTION if subscription else EventSubject.NONE,
            metadata=_invoice_metadata(obj), subscription_ref=subscription, customer_ref=_ref(obj.get("customer")),
            period_start=start, period_end=end, billing_reason=reason if isinstance(reason, str) else "",
        )  # fmt: skip
    if event_type in _SUBSCRIPTION_STATUS:
        ref = _text(obj.get("id"), "subscription id")
        start, end = _subscription_period(obj)
        status, cancel = obj.get("status"), obj.get("cancel_at_period_end")
        return ProviderEvent(
            **common, provider_ref=ref, amount=None, currency="", status=_SUBSCRIPTION_STATUS[event_type],
            subject=EventSubject.SUBSCRIPTION, metadata=_metadata(obj), subscription_ref=ref,
            customer_ref=_ref(obj.get("customer")), period_start=start, period_end=end,
            subscription_status=status if isinstance(status, str) else "",
            cancel_at_period_end=cancel if isinstance(cancel, bool) else None,
        )  # fmt: skip
    ref = obj.get("id") if isinstance(obj.get("id"), str) else ""
    return ProviderEvent(**common, provider_ref=ref[:255], amount=None, currency="", status="")


class StripeProvider(PaymentProvider):
    name = "stripe"
    requires_saved_method = True

    def _post(self, path: str, data: Mapping[str, Any], *, idempotency_key: str) -> dict:
        return self._request("POST", path, data, idempotency_key=idempotency_key)

    def _get(self, path: str, params: Mapping[str, Any] | None = None) -> dict:
        return self._request("GET", path, params or {})

    def _request(self, method: str, path: str, data: Mapping[str, Any], *, idempotency_key: str = "") -> dict:
        key = settings.STRIPE_SECRET_KEY
        if not key:
            raise PaymentProviderError(
                gettext("Stripe is not configured: set STRIPE_SECRET_KEY."), code="provider_not_configured"
            )
        url = settings.STRIPE_API_BASE.rstrip("/") + path
        timeout = float(getattr(settings, "STRIPE_TIMEOUT", DEFAULT_TIMEOUT))
        headers = {"Authorization": f"Bearer {key}"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        form = _form(data)
        try:
            response = httpx.request(
                method, url, timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)), headers=headers,
                **({"params": form} if method == "GET" else {"data": form}),
            )  # fmt: skip
        except httpx.TimeoutException:
            raise PaymentProviderError(
                gettext("Stripe did not answer within %(timeout)s s. No payment was taken.")
                % {"timeout": f"{timeout:g}"}
            )
        except httpx.HTTPError as exc:
            raise PaymentProviderError(
                gettext("Stripe could not be reached (%(error)s). No payment was taken.")
                % {"error": type(exc).__name__}
            )
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400 or not isinstance(body, dict):
            error = body.get("error") if isinstance(body, dict) else None
            error = error if isinstance(error, dict) else {}
            message = error.get("message") or f"HTTP {response.status_code}"
            intent = error.get("payment_intent")
            raise PaymentProviderError(
                gettext("Stripe refused the request: %(message)s") % {"message": message},
                code="payment_declined" if error.get("type") == "card_error" else None,
                extra={
                    "provider_status": response.status_code,
                    "provider_ref": intent.get("id") if isinstance(intent, dict) else None,
                },
            )
        return body

    def create_checkout(
        self, payment: Payment, success_url: str, cancel_url: str, *, customer_ref: str = ""
    ) -> CheckoutSession:
        """A Checkout session that also saves the card for automatic top-ups (off-session).

        Without a saved customer Stripe creates one, so the card has a customer to belong to.
        """
        ids = {"account_id": str(payment.account_id), "payment_id": str(payment.id)}
        customer = {"customer": customer_ref} if customer_ref else {"customer_creation": "always"}
        name = payment.pack.name if payment.pack_id else f"{payment.credits.normalize():f} credits"
        session = self._post(
            "/v1/checkout/sessions",
            {
                "mode": "payment",
                "success_url": success_url,
                "cancel_url": cancel_url,
                "client_reference_id": str(payment.id),
                "line_items": [
                    {
                        "quantity": 1,
                        "price_data": {
                            "currency": payment.currency.lower(),
                            "unit_amount": to_minor_units(payment.amount, payment.currency),
                            "product_data": {"name": name},
                        },
                    }
                ],
                **customer,
                "metadata": ids,
                "payment_intent_data": {"metadata": ids, "setup_future_usage": "off_session"},
            },
            idempotency_key=f"checkout-{payment.id}",
        )
        ref, url = session.get("id"), session.get("url")
        if not isinstance(ref, str) or not isinstance(url, str):
            raise PaymentProviderError(gettext("Stripe answered without a checkout session id and URL."))
        return CheckoutSession(provider_ref=ref, url=url)

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
        """Checkout in subscription mode: Stripe makes the customer, the subscription and
        its first invoice; our ids and the plan travel in the subscription's metadata,
        which Stripe copies onto every invoice (that is how an invoice names its plan)."""
        ids = {"account_id": str(payment.account_id), "payment_id": str(payment.id), "plan": plan.code}
        subscription_data: dict[str, Any] = {"metadata": ids}
        if trial_days:
            subscription_data["trial_period_days"] = trial_days
        session = self._post(
            "/v1/checkout/sessions",
            {
                "mode": "subscription",
                "success_url": success_url,
                "cancel_url": cancel_url,
                "client_reference_id": str(payment.id),
                "line_items": [
                    {
                        "quantity": 1,
                        "price_data": {
                            "currency": plan.currency.lower(),
                            "unit_amount": to_minor_units(plan.monthly_price, plan.currency),
                            "recurring": {"interval": "month"},
                            "product_data": {"name": f"{plan.name} plan"},
                        },
                    }
                ],
                **({"customer": customer_ref} if customer_ref else {}),
                "metadata": ids,
                "subscription_data": subscription_data,
            },
            idempotency_key=f"plan-checkout-{payment.id}",
        )
        ref, url = session.get("id"), session.get("url")
        if not isinstance(ref, str) or not isinstance(url, str):
            raise PaymentProviderError(gettext("Stripe answered without a checkout session id and URL."))
        return CheckoutSession(provider_ref=ref, url=url)

    def subscription_change_plan(self, subscription_ref: str, plan: Plan, *, upgrade: bool) -> SignedWebhook | None:
        """Swap the subscription's one item to the plan's price. An upgrade is invoiced
        at once, prorated, and Stripe refuses the change (402) if that invoice cannot be
        paid (`error_if_incomplete`); a downgrade is not prorated: the lower price is
        billed from the next period, when its invoice applies the plan here."""
        path = f"/v1/subscriptions/{quote(subscription_ref, safe='')}"
        current = self._get(path)
        items = current.get("items") if isinstance(current.get("items"), Mapping) else {}
        item = (items.get("data") or [None])[0] if isinstance(items.get("data"), list) else None
        price = item.get("price") if isinstance(item, Mapping) else None
        product = _ref(price.get("product")) if isinstance(price, Mapping) else ""
        if not isinstance(item, Mapping) or not _ref(item) or not product:
            raise PaymentProviderError(gettext("Stripe answered with a subscription that has no item to change."))
        metadata = current.get("metadata") if isinstance(current.get("metadata"), Mapping) else {}
        self._post(
            path,
            {
                "items": [
                    {
                        "id": _ref(item),
                        "price_data": {
                            "currency": plan.currency.lower(),
                            "product": product,
                            "unit_amount": to_minor_units(plan.monthly_price, plan.currency),
                            "recurring": {"interval": "month"},
                        },
                    }
                ],
                "metadata": {**metadata, "plan": plan.code},
                "proration_behavior": "always_invoice" if upgrade else "none",
                "payment_behavior": "error_if_incomplete" if upgrade else "allow_incomplete",
                "cancel_at_period_end": False,
            },
            idempotency_key=f"plan-change-{subscription_ref}-{plan.code}-{uuid.uuid4().hex}",
        )
        return None

    def subscription_set_cancel(self, subscription_ref: str, *, cancel: bool) -> None:
        self._post(
            f"/v1/subscriptions/{quote(subscription_ref, safe='')}",
            {"cancel_at_period_end": cancel},
            idempotency_key=f"plan-cancel-{subscription_ref}-{uuid.uuid4().hex}",
        )

    def charge_saved(self, payment: Payment, payment_method_ref: str) -> ChargeResult:
        """`payment_method_ref` is "cus_…/pm_…": Stripe needs the customer of a saved card."""
        customer, _, method = payment_method_ref.rpartition("/")
        if not method:
            raise PaymentProviderError(
                gettext("No card is saved for automatic top-ups. Pay once by checkout to save one."),
                code="no_saved_payment_method",
            )
        intent = self._post(
            "/v1/payment_intents",
            {
                "amount": to_minor_units(payment.amount, payment.currency),
                "currency": payment.currency.lower(),
                "customer": customer or None,
                "payment_method": method,
                "off_session": True,
                "confirm": True,
                "description": f"Automatic top-up: {payment.credits.normalize():f} credits",
                "metadata": {"account_id": str(payment.account_id), "payment_id": str(payment.id)},
            },
            idempotency_key=f"auto-top-up-{payment.id}",
        )
        ref = intent.get("id")
        if not isinstance(ref, str):
            raise PaymentProviderError(gettext("Stripe answered without a payment intent id."))
        status = intent.get("status")
        if status == "succeeded":
            return ChargeResult(ref, ChargeStatus.SUCCEEDED)
        if status == "processing":
            return ChargeResult(ref, ChargeStatus.PENDING)
        if status == "requires_action":
            return ChargeResult(ref, ChargeStatus.FAILED, "The card needs the cardholder's authentication.")
        return ChargeResult(ref, ChargeStatus.FAILED, f"Stripe left the payment in status '{status}'.")

    def saved_method(self, event: ProviderEvent) -> SavedMethod | None:
        """The customer and card of a paid Checkout session.

        The session names its customer and PaymentIntent; the card is the intent's
        payment method, fetched (with its brand and last digits) when the event
        does not carry the intent expanded. A failed lookup keeps the customer only.
        """
        if not event.type.startswith("checkout.session.") or event.status != EventStatus.SUCCEEDED:
            return None
        obj = event.raw["data"]["object"]
        customer = _ref(obj.get("customer"))
        if not customer:
            return None
        intent = obj.get("payment_intent")
        if isinstance(intent, str) and intent:
            try:
                intent = self._get(f"/v1/payment_intents/{quote(intent, safe='')}", {"expand": ["payment_method"]})
            except PaymentProviderError as exc:
                # The customer is still worth keeping: the next checkout saves a card to it.
                log.warning("the card of payment intent %s could not be read: %s", intent, exc.message)
                return SavedMethod(customer_ref=customer)
        method = intent.get("payment_method") if isinstance(intent, Mapping) else None
        card = method.get("card") if isinstance(method, Mapping) else None
        card = card if isinstance(card, Mapping) else {}
        brand, last4 = card.get("brand"), card.get("last4")
        return SavedMethod(
            customer_ref=customer, payment_method_ref=_ref(method),
            card_brand=brand[:30] if isinstance(brand, str) else "",
            card_last4=last4 if isinstance(last4, str) and len(last4) <= 4 else "",
        )  # fmt: skip

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> ProviderEvent:
        verify_signature(
            secret=settings.STRIPE_WEBHOOK_SECRET, body=body, header=header_value(headers, SIGNATURE_HEADER),
            tolerance=settings.STRIPE_WEBHOOK_TOLERANCE,
        )  # fmt: skip
        return parse_event(body)
