"""URLconf for the pool-leak test: the project's routes plus one view that
reads tenant rows and then fails mid-request."""

from django.db import connection
from django.http import JsonResponse
from django.urls import include, path

from accounts.models import Membership


def read_then_fail(request):
    seen = list(Membership.objects.values_list("account_id", flat=True))
    if request.GET.get("mode") == "sql":
        with connection.cursor() as cur:
            cur.execute("SELECT 1/0")  # aborts the transaction
    if request.GET.get("mode") == "raise":
        raise RuntimeError(f"failing after reading {len(seen)} rows")
    return JsonResponse({"accounts": sorted({str(a) for a in seen})})


urlpatterns = [
    path("__leak__/", read_then_fail),
    path("", include("aiplatform.urls")),
]
