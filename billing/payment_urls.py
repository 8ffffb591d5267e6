"""Payment routes outside the API: provider webhooks and the dev provider's checkout page.

Included by the root URLconf under `billing/`.
"""

from django.urls import path

from . import payment_views

app_name = "payments"

urlpatterns = [
    path("webhooks/<slug:provider>/", payment_views.webhook, name="webhook"),
    path("dev-checkout/<uuid:pk>/", payment_views.DevCheckoutView.as_view(), name="dev_checkout"),
]
