"""REST API of the canvas studio (gathered by aiplatform/api/urls.py)."""

from django.urls import path

from . import api, api_builder, api_content, api_integrations, api_jobs, api_media, api_tracking

routes = [
    ("creator-categories", api.CreatorCategoryViewSet, "creator-category"),
    ("creators", api.CreatorViewSet, "creator"),
    ("followed-creators", api.FollowedCreatorViewSet, "followed-creator"),
    ("projects", api.ProjectViewSet, "canvas-project"),
    ("project-collaborators", api.CollaboratorViewSet, "project-collaborator"),
    ("jobs", api_jobs.JobViewSet, "canvas-job"),
    ("builder-jobs", api_jobs.BuilderJobViewSet, "builder-job"),
    ("content-pieces", api_content.ContentPieceViewSet, "content-piece"),
    ("content-annotations", api_content.AnnotationViewSet, "content-annotation"),
    ("generated-scripts", api_content.ScriptViewSet, "generated-script"),
    ("voice-models", api_media.VoiceModelViewSet, "voice-model"),
    ("avatar-models", api_media.AvatarModelViewSet, "avatar-model"),
    ("generated-media", api_media.GeneratedMediaViewSet, "generated-media"),
    *api_builder.routes,
    *api_integrations.routes,
]
paths: list = [
    path("campaigns/<uuid:pk>/analytics/", api_tracking.CampaignAnalyticsAPIView.as_view(), name="campaign-analytics"),
    path("campaigns/<uuid:pk>/analytics/ab/", api_tracking.CampaignABAPIView.as_view(), name="campaign-ab"),
    path("media/heygen-webhook/", api_media.HeyGenWebhookView.as_view(), name="heygen-webhook"),
]
