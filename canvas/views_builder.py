"""HTML pages of the web builder: campaigns (search, create), a campaign
(status, generate, components and their versions, generations with rating),
the GrapesJS editor, the live generation frames (SSE), and the hosted page.

The editor and the hosted page carry a Content-Security-Policy that allows only
the platform's own scripts: even HTML that slipped past the sanitiser cannot run
an inline handler there (GrapesJS's canvas iframe inherits the policy)."""

from __future__ import annotations

import json

from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt

from accounts.models import Role
from accounts.tenancy.views import TenantViewMixin
from aiplatform.flash import run_and_report
from canvas.models import (
    CAMPAIGN_TRANSITIONS,
    AIGeneration,
    CampaignComponent,
    CampaignStatus,
    CampaignType,
    GenerationStatus,
)

from .services.builder import campaigns as svc
from .services.builder import editor, frames, generation, hosting

EDITOR_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https: http:; "
    "font-src 'self' data: https:; connect-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'"
)
HOSTED_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src * data:; font-src * data:; "
    "media-src *; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'"
)
LIST_SHOWN = 200


class _BuilderView(TenantViewMixin, View):
    def campaign(self, pk):
        return svc.campaign_for_account(self.account, pk)  # NotFound is the 404 page (TenantViewMixin)


class CampaignListView(_BuilderView):
    def get(self, request):
        q = request.GET.get("q", "")[:200]
        status = request.GET.get("status", "")
        if status not in CampaignStatus.values:
            status = ""
        rows = list(svc.campaigns_search(self.account, q=q, status=status)[:LIST_SHOWN])
        return render(request, "canvas/builder/campaigns.html", {
            "rows": rows, "q": q, "status": status, "statuses": CampaignStatus.choices, "types": CampaignType.choices,
            "can_create": request.account_role.at_least(Role.MEMBER),
        })  # fmt: skip

    def post(self, request):
        data = request.POST
        created = {}

        def create():
            created["campaign"] = svc.campaign_create(
                account=self.account, actor=self.membership, name=data.get("name", ""),
                description=data.get("description", ""), campaign_type=data.get("campaign_type") or "landing_page",
                target_audience=data.get("target_audience", ""), business_type=data.get("business_type", ""),
                goals=data.get("goals", ""), brand_guidelines=data.get("brand_guidelines", ""),
            )  # fmt: skip
            return created["campaign"]

        if run_and_report(request, create, _("Campaign created. Describe it and generate its components.")):
            return redirect("canvas:builder_campaign", pk=created["campaign"].pk)
        return redirect("canvas:campaigns")


class CampaignView(_BuilderView):
    def get(self, request, pk):
        campaign = self.campaign(pk)
        components = list(CampaignComponent.objects.filter(campaign=campaign).order_by("sort_order", "-version", "id"))
        generations = list(AIGeneration.objects.filter(campaign=campaign).order_by("-created_at")[:20])
        running = next((g for g in generations if g.status == GenerationStatus.PROCESSING), None)
        launched = campaign.status == CampaignStatus.LAUNCHED
        return render(request, "canvas/builder/campaign.html", {
            "campaign": campaign, "components": components, "generations": generations, "running": running,
            "transitions": CAMPAIGN_TRANSITIONS[campaign.status],
            "can_edit": request.account_role.at_least(Role.MEMBER),
            "hosted_url": reverse("builder_hosted", args=[campaign.slug]) if launched else "",
        })  # fmt: skip


class CampaignTransitionView(_BuilderView):
    required_role = Role.MEMBER

    def post(self, request, pk):
        campaign = self.campaign(pk)
        target = request.POST.get("status", "")
        run_and_report(request,
                       lambda: svc.campaign_transition(campaign=campaign, actor=self.membership, status=target),
                       lambda c: _("The campaign is now %(status)s.") % {"status": c.get_status_display()})  # fmt: skip
        return redirect("canvas:builder_campaign", pk=pk)


class CampaignGenerateView(_BuilderView):
    required_role = Role.MEMBER

    def post(self, request, pk):
        campaign = self.campaign(pk)
        images = request.POST.get("reference_images", "").split()
        started = {}

        def start():
            started["g"] = generation.generation_start(
                account=self.account, actor=self.membership, campaign=campaign, prompt=request.POST.get("prompt", ""),
                reference_images=images,
            )  # fmt: skip
            return started["g"]

        if run_and_report(request, start, _("Generating: the components appear in the editor as they arrive.")):
            return redirect(reverse("canvas:builder_editor", args=[pk]) + f"?generation={started['g'].pk}")
        return redirect("canvas:builder_campaign", pk=pk)


class ComponentRegenerateView(_BuilderView):
    required_role = Role.MEMBER

    def post(self, request, pk):
        component = CampaignComponent.objects.filter(account=self.account, pk=pk).first()
        if component is None:
            raise Http404(_("No such component."))
        run_and_report(request, lambda: generation.component_regenerate(
            account=self.account, actor=self.membership, component=component,
            instruction=request.POST.get("instruction", "")), _("A new version is being generated."))  # fmt: skip
        return redirect("canvas:builder_campaign", pk=component.campaign_id)


class GenerationFeedbackView(_BuilderView):
    required_role = Role.MEMBER

    def post(self, request, pk):
        gen = AIGeneration.objects.filter(account=self.account, pk=pk).first()
        if gen is None:
            raise Http404(_("No such generation."))
        rating = request.POST.get("rating")
        accepted = {"accept": True, "reject": False}.get(request.POST.get("decision", ""))
        run_and_report(request, lambda: generation.generation_feedback(
            generation=gen, actor=self.membership, rating=int(rating) if rating and rating.isdigit() else None,
            feedback=request.POST.get("feedback") or None, accepted=accepted),
            _("Thank you: feedback saved."))  # fmt: skip
        return redirect("canvas:builder_campaign", pk=gen.campaign_id)


class EditorView(_BuilderView):
    def get(self, request, pk):
        campaign = self.campaign(pk)
        gen_id = request.GET.get("generation", "")
        gen = (
            AIGeneration.objects.filter(account=self.account, campaign=campaign, pk=gen_id).first() if gen_id else None
        )
        config = {
            "campaign": str(campaign.pk), "name": campaign.name,
            "pageUrl": reverse("campaign-page", args=[campaign.pk]),
            "componentsUrl": reverse("campaign-component-list") + f"?campaign={campaign.pk}&current=true",
            "eventsUrl": reverse("canvas:builder_generation_events", args=[gen.pk]) if gen else "",
            "readOnly": not request.account_role.at_least(Role.MEMBER),
            "text": {"saved": _("Saved"), "saving": _("Saving…"), "failed": _("Not saved: %(error)s"),
                     "generating": _("Generating…"), "done": _("Generation finished."),
                     "genError": _("Generation failed: %(error)s")},
        }  # fmt: skip
        response = render(request, "canvas/builder/editor.html", {"campaign": campaign, "config": config})
        response["Content-Security-Policy"] = EDITOR_CSP
        return response


def _sse(frame: dict) -> bytes:
    return f"event: {frame['type']}\ndata: {json.dumps(frame, ensure_ascii=False)}\n\n".encode()


class GenerationEventsView(_BuilderView):
    """SSE: the generation's frames from the start (Redis stream), or from the
    database when the stream has expired."""

    def get(self, request, pk):
        gen = AIGeneration.objects.filter(account=self.account, pk=pk).first()
        if gen is None:
            raise Http404(_("No such generation."))
        if gen.status != GenerationStatus.PROCESSING and not frames.exists(gen.pk):
            replay = generation.generation_frames_replay(gen)

            async def body():
                for frame in replay:
                    yield _sse(frame)
        else:
            gen_id = gen.pk

            async def body():
                async for frame in frames.follow(gen_id):
                    yield _sse(frame) if frame["type"] != "ping" else b": ping\n\n"

        response = StreamingHttpResponse(body(), content_type="text/event-stream")
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"
        return response


class ExportView(_BuilderView):
    def get(self, request, pk):
        campaign = self.campaign(pk)
        response = HttpResponse(editor.export_zip(campaign), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{campaign.slug}.zip"'
        return response


@csrf_exempt
@xframe_options_exempt
def hosted_view(request, slug=None, domain=None):
    """A launched campaign's page, public (no sign-in), with the tracker. A form of
    the page posted back to it (method="post", no action) is answered with the page
    again (303): its lead went to /t/f/ from the tracker, not here, and a public
    page has no session to hold a CSRF token."""
    if request.method == "POST":
        response = HttpResponse(status=303)
        response["Location"] = request.path
        return response
    found = hosting.hosted_page(slug=slug) if slug else hosting.hosted_page(domain=(domain or "").split(":")[0])
    if found is None:
        raise Http404(_("There is no live page here."))
    response = render(request, "canvas/builder/hosted.html", {"campaign": found.campaign, "page": found.page})
    response["Content-Security-Policy"] = HOSTED_CSP
    response["Cache-Control"] = "public, max-age=60"
    return response


class CampaignDomainMiddleware:
    """Custom domains: `/` on a host that is a launched campaign's `custom_domain`
    serves that campaign's page (point the domain's DNS at the platform and list
    it in ALLOWED_HOSTS). Every other request passes through; the lookup is cached
    per host (hosting.DOMAIN_CACHE_SECONDS)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        host = request.META.get("HTTP_HOST", "")
        if request.path == "/" and request.method in ("GET", "HEAD") and hosting.is_campaign_domain(host):
            return hosted_view(request, domain=host)
        return self.get_response(request)
