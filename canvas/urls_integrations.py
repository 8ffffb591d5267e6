"""HTML routes of the publishing integrations and platform analyses."""

from django.urls import path

from . import views_integrations as v

urlpatterns = [
    path("integrations/", v.IntegrationsView.as_view(), name="integrations"),
    path("integrations/gohighlevel/callback/", v.GhlCallbackView.as_view(), name="integration_ghl_callback"),
    path("analyses/", v.AnalysesView.as_view(), name="analyses"),
    path("analyses/<uuid:pk>/", v.AnalysisView.as_view(), name="analysis"),
]
