from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from canvas import urls_builder as builder_urls
from workspace import views as workspace_views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("auth/", include("allauth.urls")),
    path("api/v1/", include("aiplatform.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("billing/", include("billing.urls")),
    path("billing/", include("billing.payment_urls")),
    path("personas/", include("personas.urls")),
    path("services/", include("templates.urls")),
    path("knowledge/", include("knowledge.urls")),
    path("chats/", include("chats.urls")),
    path("inbox/", include("channels_bot.urls")),
    path("canvas/", include("canvas.urls")),
    path("search/", include("workspace.urls")),
    path("library/from-component/<uuid:pk>/", workspace_views.ComponentToLibraryView.as_view(),
         name="component_to_library"),  # fmt: skip
    path("library/<uuid:pk>/to-campaign/", workspace_views.LibraryToCampaignView.as_view(),
         name="library_to_campaign"),  # fmt: skip
    path("channels/connect/", include("channels_bot.connect.urls")),
    path("webhooks/", include("channels_bot.webhooks.urls")),
    path("t/", include("canvas.tracking.urls")),  # campaign tracker: collector, email pixel/redirect
    path("p/", include(builder_urls.hosted_urlpatterns)),  # launched web-builder campaigns (public)
    path("", include("accounts.urls")),
]

handler400 = "aiplatform.api.errors.bad_request"
handler404 = "aiplatform.api.errors.page_not_found"
handler500 = "aiplatform.api.errors.server_error"
