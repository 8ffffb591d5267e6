"""URLs of the web builder. `urlpatterns` join the canvas namespace
(canvas/urls.py); `hosted_urlpatterns` are the public pages (aiplatform/urls.py
mounts them at /p/)."""

from django.urls import path

from . import views_builder as v

urlpatterns = [
    path("builder/", v.CampaignListView.as_view(), name="campaigns"),
    path("builder/campaigns/<uuid:pk>/", v.CampaignView.as_view(), name="builder_campaign"),
    path("builder/campaigns/<uuid:pk>/transition/", v.CampaignTransitionView.as_view(), name="builder_transition"),
    path("builder/campaigns/<uuid:pk>/generate/", v.CampaignGenerateView.as_view(), name="builder_generate"),
    path("builder/campaigns/<uuid:pk>/editor/", v.EditorView.as_view(), name="builder_editor"),
    path("builder/campaigns/<uuid:pk>/export/", v.ExportView.as_view(), name="builder_export"),
    path("builder/components/<uuid:pk>/regenerate/", v.ComponentRegenerateView.as_view(), name="builder_regenerate"),
    path("builder/generations/<uuid:pk>/feedback/", v.GenerationFeedbackView.as_view(), name="builder_feedback"),
    path("builder/generations/<uuid:pk>/events/", v.GenerationEventsView.as_view(), name="builder_generation_events"),
]

hosted_urlpatterns = [
    path("<slug:slug>/", v.hosted_view, name="builder_hosted"),
]
