"""The one REST router under /api/v1/; every app contributes `routes` and `paths`."""

from rest_framework.routers import DefaultRouter

from accounts import api_urls as accounts_api

router = DefaultRouter()
for prefix, viewset, basename in accounts_api.routes:
    router.register(prefix, viewset, basename=basename)

urlpatterns = [*accounts_api.paths, *router.urls]
