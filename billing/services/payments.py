"""Money in: checkout of credit packs, and the provider webhooks that settle payments.

A payment is credited only by a verified provider event, in the transaction
that records the event, exactly once: the event id is recorded once per
provider, and the ledger's provider payment id is unique.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import Account, User
from accounts.tenancy.context import account_context, rls_bypass
from aiplatform.errors import Conflict, InvalidInput, NotFound
from billing.models import CreditPack, CreditTransaction, Payment, PaymentCustomer, Subscription, WebhookEvent
from billing.providers.base import (
    EventStatus,
    EventSubject,
    PaymentProvider,
    PaymentProviderError,
    ProviderEvent,
    SavedMethod,
    get_provider,
)
from billing.providers.dev import DevProvider

from .idempotency import claim_key, fingerprint, remember
from .ledger import PaymentInfo, Reference, wallet_credit

log = logging.getLogger("billing.payments")

WALLET_PATH = "/billing/"
CENTS = Decimal("0.01")


@dataclass(frozen=True)
class _Outcome:
    account_id: UUID | None
    note: str = ""


def _wallet_url(query: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}{WALLET_PATH}?{query}"


def payment_fail(payment: Payment, reason: str) -> Payment:
    """Mark a pending payment failed. A later success event from the provider still credits it."""
    now = timezone.now()
    with account_context(payment.account_id):
        Payment.objects.filter(pk=payment.pk, status=Payment.Status.PENDING).update(
            status=Payment.Status.FAILED, failure_reason=reason, completed_at=now
        )
        payment.refresh_from_db(fields=["status", "failure_reason", "completed_at"])
    return payment


def checkout_start(
    *,
    account: Account,
    actor: User | None,
    pack: CreditPack,
    success_url: str | None = None,
    cancel_url: str | None = None,
) -> Payment:
    """A pending payment for `pack` and the provider's page to pay it at (`checkout_url`).

    The payment row is written before the provider is called, so that a
    provider failure leaves a failed payment to show, and raises
    PaymentProviderError.
    """
    if not CreditPack.objects.filter(pk=pack.pk, is_active=True).exists():
        raise InvalidInput(
            gettext("This credit pack is not available."), fields={"pack": ["Choose an available pack."]}
        )
    provider = get_provider()
    with account_context(account.id):
        payment = Payment.objects.create(
            account=account, pack=pack, kind=Payment.Kind.CHECKOUT, credits=pack.credits, amount=pack.price,
            currency=pack.currency.upper(), provider=provider.name, created_by=actor,
        )  # fmt: skip
        customer_ref = (
            PaymentCustomer.objects.filter(account=account, provider=provider.name)
            .values_list("customer_ref", flat=True)
            .first()
        )
    try:
        session = provider.create_checkout(
            payment,
            success_url or _wallet_url("checkout=success"),
            cancel_url or _wallet_url("checkout=cancelled"),
            customer_ref=customer_ref or "",
        )
    except PaymentProviderError as exc:
        payment_fail(payment, exc.message)
        exc.extra["payment_id"] = str(payment.id)
        raise
    with account_context(account.id):
        Payment.objects.filter(pk=payment.pk).update(provider_ref=session.provider_ref, checkout_url=session.url)
    payment.provider_ref, payment.checkout_url = session.provider_ref, session.url
    return payment


def credit_purchase(
    *, account: Account, actor: User | None, pack_code: str, idempotency_key: str | None = None, **urls
) -> Payment:
    """Buy a credit pack, for the API and the wallet page alike: one transaction that
    claims the idempotency key (a retry with the same key gets the first payment back,
    the same key for another pack is a 409) and starts the checkout."""
    pack = CreditPack.objects.filter(code=pack_code, is_active=True).first()
    if pack is None:
        raise InvalidInput(gettext("There is no such credit pack."), fields={"pack": ["Choose an available pack."]})
    failure: PaymentProviderError | None = None
    with transaction.atomic():
        if idempotency_key:
            first = claim_key(account.id, idempotency_key, fingerprint("top_up", pack=pack.code))
            if first is not None:
                if first.payment is not None and first.payment.status == Payment.Status.FAILED:
                    raise PaymentProviderError(
                        gettext("This purchase already failed at the payment provider; start a new one."),
                        extra={"payment_id": str(first.payment.pk)},
                    )
                return first.payment
        try:
            payment = checkout_start(account=account, actor=actor, pack=pack, **urls)
        except PaymentProviderError as exc:
            # Kept, with its key: the failed payment stays to show (as checkout_start intends).
            failure = exc
            remember(account.id, idempotency_key, payment_id=exc.extra.get("payment_id"))
        else:
            remember(account.id, idempotency_key, payment_id=payment.id)
    if failure is not None:
        raise failure
    return payment


def dev_checkout_pay(*, account: Account, actor: User | None, payment_id) -> Payment:
    """The Pay button of the dev checkout page: the dev provider's signed event,
    processed like any provider's webhook."""
    with account_context(account.id):
        payment = (
            Payment.objects.select_related("plan")
            .filter(account=account, pk=payment_id, provider=DevProvider.name)
            .first()
        )
    if payment is None or not DevProvider.enabled():
        raise NotFound(gettext("No such payment in this account."))
    if payment.status != Payment.Status.PENDING:
        raise Conflict(
            gettext("This payment is already %(lower)s.") % {"lower": payment.get_status_display().lower()},
            code="payment_closed",
        )
    if payment.kind == Payment.Kind.SUBSCRIPTION:
        with account_context(account.id):
            trial_used = Subscription.objects.filter(account=account, trial_used_at__isnull=False).exists()
        trial = payment.plan.trial_days if not trial_used else 0
        webhooks = DevProvider().signed_subscription_checkout(payment, trial_days=trial)
    else:
        webhooks = [DevProvider().signed_event(payment, "checkout.session.completed")]
    for webhook in webhooks:
        webhook_process(provider_name=DevProvider.name, body=webhook.body, headers=webhook.headers)
    with account_context(account.id):
        payment.refresh_from_db()
    return payment


def webhook_process(*, provider_name: str, body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
    """Verify, record once, and apply a provider event. Returns the recorded event.

    Raises WebhookRejected (400) before writing anything when the signature,
    its age or the body is bad. A redelivered event returns the stored row and
    changes nothing.
    """
    provider = get_provider(provider_name)
    event = provider.verify_webhook(body, headers)
    saved = _saved_method(provider, event)  # before the transaction: it may call the provider
    with transaction.atomic():
        try:
            with transaction.atomic():
                stored = WebhookEvent.objects.create(
                    provider=provider.name, event_id=event.event_id, type=event.type, payload=event.raw
                )
        except IntegrityError:
            # Delivered before (or concurrently, and that delivery committed first).
            return WebhookEvent.objects.get(provider=provider.name, event_id=event.event_id)
        if event.subject == EventSubject.PAYMENT:
            outcome = _payment_event(provider.name, event, saved)
        elif event.subject == EventSubject.SUBSCRIPTION:
            outcome = _subscription_event(provider.name, event)
        else:
            outcome = _Outcome(None, f"ignored: {event.type} is not handled")
        stored.account_ref = outcome.account_id
        stored.error = outcome.note
        stored.processed_at = timezone.now()
        stored.save(update_fields=["account_ref", "error", "processed_at"])
    log.info("webhook %s %s %s: %s", provider.name, event.type, event.event_id, outcome.note or "applied")
    return stored


def _saved_method(provider: PaymentProvider, event: ProviderEvent) -> SavedMethod | None:
    """The card a paid checkout saved. Best effort: the credit never waits on it."""
    if event.subject != EventSubject.PAYMENT or event.status != EventStatus.SUCCEEDED:
        return None
    if WebhookEvent.objects.filter(provider=provider.name, event_id=event.event_id).exists():
        return None  # a redelivery: handled the first time
    try:
        return provider.saved_method(event)
    except PaymentProviderError as exc:
        log.warning("webhook %s %s: the saved card could not be read: %s", provider.name, event.event_id, exc.message)
        return None


def _save_method(account_id: UUID, provider_name: str, saved: SavedMethod) -> None:
    """Keep the account's customer and card at the provider (the caller set the account context)."""
    current = PaymentCustomer.objects.select_for_update().filter(account_id=account_id).first()
    if current is None:
        current = PaymentCustomer(account_id=account_id)
    elif (
        current.provider == provider_name
        and current.customer_ref == saved.customer_ref
        and not saved.payment_method_ref
    ):
        return  # the same customer, and no news about its card
    current.provider, current.customer_ref = provider_name, saved.customer_ref
    current.payment_method_ref = saved.payment_method_ref
    current.card_brand, current.card_last4 = saved.card_brand, saved.card_last4
    current.save()


def _as_uuid(value: str | None) -> UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def _find_payment(provider_name: str, event: ProviderEvent) -> tuple[UUID, UUID] | None:
    """(payment id, account id) of the payment the event is about."""
    with rls_bypass("payment webhook lookup"):
        found = (
            Payment.objects.filter(provider=provider_name, provider_ref=event.provider_ref)
            .values_list("id", "account_id")
            .first()
        )
        payment_id = _as_uuid(event.metadata.get("payment_id"))
        if found is None and payment_id is not None:
            # An automatic top-up's event can overtake the saving of its provider ref;
            # our own payment id travels in the provider's metadata.
            found = (
                Payment.objects.filter(provider=provider_name, pk=payment_id, provider_ref__isnull=True)
                .values_list("id", "account_id")
                .first()
            )
    if found is not None and _as_uuid(event.metadata.get("account_id")) not in (None, found[1]):
        return None
    return found


def _money(amount: Decimal, currency: str) -> str:
    return f"{amount.quantize(CENTS)} {currency}".strip()


def _mismatch(payment: Payment, event: ProviderEvent) -> str:
    if event.amount is None or event.amount != payment.amount or event.currency != payment.currency.upper():
        paid = _money(event.amount, event.currency) if event.amount is not None else "an unknown amount"
        return f"Paid {paid}, but the payment is for {_money(payment.amount, payment.currency)}."
    return ""


def _payment_event(provider_name: str, event: ProviderEvent, saved: SavedMethod | None = None) -> _Outcome:
    if not event.status:
        return _Outcome(None, f"ignored: {event.type} does not settle a payment yet")
    found = _find_payment(provider_name, event)
    if found is None:
        return _Outcome(None, f"ignored: no payment matches {event.provider_ref}")
    payment_id, account_id = found
    with account_context(account_id):
        payment = Payment.objects.select_for_update(of=("self",)).select_related("pack").get(pk=payment_id)
        if saved is not None and payment.kind == Payment.Kind.CHECKOUT:
            _save_method(account_id, provider_name, saved)
        if event.status == EventStatus.SUCCEEDED and payment.kind == Payment.Kind.SUBSCRIPTION:
            from .subscriptions import subscription_checkout_paid

            note = subscription_checkout_paid(payment=payment, event=event)
        elif event.status == EventStatus.SUCCEEDED:
            note = _credit(payment, provider_name, event)
        elif payment.status != Payment.Status.PENDING:
            note = f"ignored: the payment is already {payment.status}"
        else:
            payment.status = event.status  # failed or expired
            payment.failure_reason = event.failure_message or (
                "The checkout expired before it was paid."
                if event.status == EventStatus.EXPIRED
                else "The payment failed."
            )
            payment.completed_at = timezone.now()
            payment.save(update_fields=["status", "failure_reason", "completed_at"])
            note = ""
    return _Outcome(account_id, note)


def _credit(payment: Payment, provider_name: str, event: ProviderEvent) -> str:
    """Credit a paid payment once. Money taken after a failure report still counts."""
    mismatch = _mismatch(payment, event)
    if mismatch:
        if payment.status == Payment.Status.SUCCEEDED:
            return f"ignored: {mismatch}"
        payment.status = Payment.Status.FAILED
        payment.failure_reason = f"Not credited: {mismatch} Needs review."
        payment.completed_at = timezone.now()
        payment.save(update_fields=["status", "failure_reason", "completed_at"])
        return f"not credited: {mismatch}"
    if payment.transaction_id is not None:
        return "ignored: already credited"
    if not payment.provider_ref:
        payment.provider_ref = event.provider_ref
    credits = f"{payment.credits.normalize():f}"
    tx = wallet_credit(
        account=payment.account, amount=payment.credits, type=CreditTransaction.Type.TOP_UP,
        actor=payment.created_by, reference=Reference("payment", str(payment.id)),
        description=f"{payment.pack.name if payment.pack else 'Top-up'}: {credits} credits",
        payment=PaymentInfo(
            method=payment.kind, provider=provider_name, provider_payment_id=payment.provider_ref,
            amount_paid=event.amount, currency=event.currency,
        ),
    )  # fmt: skip
    payment.transaction = tx
    payment.status = Payment.Status.SUCCEEDED
    payment.failure_reason = ""
    payment.completed_at = timezone.now()
    payment.save(update_fields=["provider_ref", "transaction", "status", "failure_reason", "completed_at"])
    return ""


def _subscription_event(provider_name: str, event: ProviderEvent) -> _Outcome:
    """Invoices and subscription changes drive the plan (billing.services.subscriptions)."""
    from .subscriptions import SUBSCRIPTION_HANDLERS, subscription_event_account

    handler = SUBSCRIPTION_HANDLERS.get(event.status)
    if handler is None:
        return _Outcome(None, f"ignored: {event.type} is not handled")
    account_id = subscription_event_account(provider_name=provider_name, event=event)
    if account_id is None:
        return _Outcome(None, f"ignored: no subscription matches {event.subscription_ref}")
    with account_context(account_id):
        note = handler(account_id=account_id, provider_name=provider_name, event=event)
    return _Outcome(account_id, note)
