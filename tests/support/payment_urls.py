"""The root URLconf plus billing.payment_urls, for tests that run before the
root URLconf includes it (once it does, this is the root URLconf unchanged)."""

from django.urls import include, path

from aiplatform import urls as root

_wired = any(getattr(p, "namespace", None) == "payments" for p in root.urlpatterns)
urlpatterns = root.urlpatterns if _wired else [path("billing/", include("billing.payment_urls")), *root.urlpatterns]
handler404 = root.handler404
