"""Billing pages, included by the root URLconf under `billing/`."""

from django.urls import path

from . import views

app_name = "billing"

urlpatterns = [
    path("", views.WalletView.as_view(), name="wallet"),
    path("transactions.csv", views.TransactionsCsvView.as_view(), name="transactions_csv"),
    path("buy/", views.BuyView.as_view(), name="buy"),
    path("top-up-rules/", views.TopUpRuleSaveView.as_view(), name="top_up_rule_save"),
    path("top-up-rules/<uuid:pk>/disable/", views.TopUpRuleDisableView.as_view(), name="top_up_rule_disable"),
    path("usage/", views.UsageView.as_view(), name="usage"),
    path("usage/plan/", views.PlanChangeView.as_view(), name="plan_change"),
    path("usage/plan/cancel/", views.PlanCancelView.as_view(), name="plan_cancel"),
    path("usage/cost-controls/", views.CostControlView.as_view(), name="cost_controls"),
    path("usage/shutoff/", views.ShutoffEngageView.as_view(), name="shutoff_engage"),
    path("usage/shutoff/lift/", views.ShutoffLiftView.as_view(), name="shutoff_lift"),
]
