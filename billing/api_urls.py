"""Routes this app adds to the one API router (see aiplatform/api/urls.py)."""

from django.urls import path

from . import api

routes = [
    ("transactions", api.TransactionViewSet, "transaction"),
    ("top-ups", api.TopUpViewSet, "top-up"),
    ("top-up-rules", api.TopUpRuleViewSet, "top-up-rule"),
]

paths = [
    path("wallet/", api.WalletView.as_view(), name="wallet"),
    path("credit-packs/", api.CreditPackListView.as_view(), name="credit-packs"),
    path("plans/", api.PlanListView.as_view(), name="plans"),
    path("plan/", api.PlanView.as_view(), name="plan"),
    path("usage/", api.UsageView.as_view(), name="usage"),
    path("cost-controls/", api.CostControlView.as_view(), name="cost-controls"),
    path("cost-controls/shutoff/", api.ShutoffView.as_view(), name="cost-controls-shutoff"),
]
