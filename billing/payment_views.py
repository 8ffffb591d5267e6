"""Provider webhooks (signed, not signed-in) and the dev provider's checkout page."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.models import Role
from accounts.tenancy.views import TenantViewMixin
from aiplatform.api.errors import error_body
from aiplatform.errors import ServiceError

from .models import Payment
from .providers.dev import DevProvider
from .services.payments import WALLET_PATH, dev_checkout_pay, webhook_process


@csrf_exempt
@require_POST
def webhook(request, provider: str):
    """200 once the event is recorded (a redelivery too); 400 when it is not provably the provider's."""
    try:
        event = webhook_process(provider_name=provider, body=request.body, headers=request.headers)
    except ServiceError as exc:
        return JsonResponse(error_body(exc.code, exc.message, exc.fields), status=exc.status)
    return JsonResponse({"received": True, "event_id": event.event_id})


class DevCheckoutView(TenantViewMixin, View):
    """The dev provider's stand-in for a hosted checkout page: one Pay button, no real money."""

    # Buying credits is an admin's act, as in the API (top-ups).
    required_role = Role.ADMIN

    def _payment(self, pk) -> Payment:
        if not DevProvider.enabled():
            raise Http404("The dev payment provider is not enabled.")
        return self.get_scoped_object(Payment, pk=pk, provider=DevProvider.name)

    def get(self, request, pk):
        return render(request, "billing/dev_checkout.html", {"payment": self._payment(pk), "wallet_url": WALLET_PATH})

    def post(self, request, pk):
        payment = self._payment(pk)
        try:
            payment = dev_checkout_pay(account=self.account, actor=request.user, payment_id=payment.pk)
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            if payment.kind == Payment.Kind.SUBSCRIPTION:
                messages.success(
                    request, gettext("Payment received: you are on the %(plan)s plan.") % {"plan": payment.plan.name}
                )
                return redirect("billing:usage")
            messages.success(
                request,
                gettext("Payment received: %(credits)s credits were added.")
                % {"credits": f"{payment.credits.normalize():f}"},
            )
        return redirect(WALLET_PATH)
