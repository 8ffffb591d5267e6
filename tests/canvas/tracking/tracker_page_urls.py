"""A test-only URLconf: the project's URLs plus a page that carries the tracker tag
the way a hosted campaign page does (tests/canvas/tracking/test_tracker_browser.py)."""

from django.http import HttpResponse
from django.template import engines
from django.urls import include, path

PAGE = """<!doctype html><html><head><title>Spring sale</title>
{% include "canvas/tracking/tracker_tag.html" with campaign=campaign %}</head><body>
<section data-component-id="{{ hero }}"><h1>Spring sale</h1>
  <button type="button" data-track="cta" data-track-prop-plan="pro">Get started</button></section>
<section data-component-id="{{ form_id }}">
  <form data-track="signup" data-track-conversion="signup" data-track-value="19.90" data-track-currency="eur"
        action="/tracker-test/thanks/" method="get"><input name="email" value="a@b.example">
    <button>Sign up</button></form>
</section></body></html>"""


class _Campaign:
    def __init__(self, pk):
        self.pk = pk


def page(request, campaign_id, hero, form_id):
    html = (
        engines["django"]
        .from_string(PAGE)
        .render({"campaign": _Campaign(campaign_id), "hero": hero, "form_id": form_id}, request)
    )
    return HttpResponse(html)


def thanks(request):
    return HttpResponse("<!doctype html><html><body><p>Thanks</p></body></html>")


urlpatterns = [
    path("tracker-test/thanks/", thanks),
    path("tracker-test/<uuid:campaign_id>/<uuid:hero>/<uuid:form_id>/", page),
    path("", include("aiplatform.urls")),
]
