"""Pages of the publishing integrations and platform analyses: connect each
platform (GoHighLevel through its OAuth page), see status / last sync / errors
and "Reconnect", publish a campaign, request an analysis and read it."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from accounts.flags import feature_enabled
from accounts.models import Role
from accounts.tenancy.views import TenantViewMixin
from aiplatform.errors import ServiceError
from aiplatform.flash import run_and_report, service_error_text

from .models import Campaign, CampaignPublication, PlatformAnalysis, PlatformIntegration, PlatformType
from .services import analyses
from .services.integrations import ADAPTERS, flag_of
from .services.integrations import service as svc
from .services.integrations.gohighlevel import configured as ghl_configured


def _callback_url(request) -> str:
    return request.build_absolute_uri(reverse("canvas:integration_ghl_callback"))


class IntegrationsView(TenantViewMixin, View):
    def get(self, request):
        rows = {i.platform_type: i for i in self.scoped(PlatformIntegration)}
        platforms = []
        for value, label in PlatformType.choices:
            row = rows.get(value)
            platforms.append({
                "type": value, "label": label, "row": row, "status": svc.integration_status(row) if row else None,
                "enabled": feature_enabled(flag_of(value), account_id=self.account.id),
                "capabilities": sorted(ADAPTERS[value].capabilities), "targets": svc.TARGETS[value],
            })  # fmt: skip
        return render(request, "canvas/integrations/index.html", {
            "platforms": platforms, "ghl_configured": ghl_configured(),
            "campaigns": self.scoped(Campaign).order_by("-updated_at")[:100],
            "publications": self.scoped(CampaignPublication).select_related("integration", "campaign")[:50],
            "is_admin": request.account_role.at_least(Role.ADMIN),
            "can_write": request.account_role.at_least(Role.MEMBER),
        })  # fmt: skip

    def post(self, request):
        action = request.POST.get("action", "")
        a, m, post = self.account, self.membership, request.POST
        if action == "connect":
            platform = post.get("platform_type", "")
            if platform == PlatformType.GOHIGHLEVEL:
                try:
                    return redirect(svc.ghl_connect_start(account=a, actor=m, redirect_uri=_callback_url(request)))
                except ServiceError as exc:
                    messages.error(request, service_error_text(exc))
                    return redirect("canvas:integrations")
            data = {k: post.get(k, "") for k in ("site_url", "username", "app_password", "domain", "api_key", "url",
                                                  "signing_secret")}  # fmt: skip
            run_and_report(request, lambda: svc.integration_connect(account=a, actor=m, platform_type=platform,
                                                                    data=data), _("Connected."))  # fmt: skip
            return redirect("canvas:integrations")
        row = self.get_scoped_object(PlatformIntegration, pk=post.get("integration"))
        if action == "disconnect":
            run_and_report(request, lambda: svc.integration_disconnect(account=a, actor=m, integration_id=row.pk),
                           _("Disconnected; the stored credentials were deleted."))  # fmt: skip
        elif action == "test":
            run_and_report(request, lambda: svc.integration_test(account=a, actor=m, integration_id=row.pk),
                           lambda r: _("The connection works.") if r.connection_status == "connected"
                           else _("The platform refused: %(e)s") % {"e": r.sync_error_message})  # fmt: skip
        elif action == "configure":
            run_and_report(request, lambda: svc.integration_configure(
                account=a, actor=m, integration_id=row.pk,
                data={k: post[k] for k in ("domain", "page_status") if k in post}), _("Saved."))  # fmt: skip
        elif action == "publish":
            run_and_report(request, lambda: svc.campaign_publish(
                account=a, actor=m, campaign_id=post.get("campaign"), integration_id=row.pk,
                target=post.get("target", ""), path=post.get("path", "")),
                _("Publishing… the status below updates when it is done."))  # fmt: skip
        return redirect("canvas:integrations")


class GhlCallbackView(TenantViewMixin, View):
    required_role = Role.ADMIN

    def get(self, request):
        if request.GET.get("error"):
            messages.error(request, _("GoHighLevel did not authorise the connection."))
            return redirect("canvas:integrations")
        run_and_report(request, lambda: svc.ghl_connect_finish(
            account=self.account, actor=self.membership, code=request.GET.get("code", ""),
            state=request.GET.get("state", "")), _("GoHighLevel connected."))  # fmt: skip
        return redirect("canvas:integrations")


class AnalysesView(TenantViewMixin, View):
    def get(self, request):
        return render(request, "canvas/integrations/analyses.html", {
            "rows": self.scoped(PlatformAnalysis).order_by("-created_at")[:50],
            "integrations": self.scoped(PlatformIntegration).filter(connection_status="connected"),
            "types": PlatformAnalysis._meta.get_field("analysis_type").choices,
            "enabled": feature_enabled("platform_analysis", account_id=self.account.id),
        })  # fmt: skip

    def post(self, request):
        holder = {}

        def ask():
            holder["row"] = analyses.analysis_request(
                account=self.account, actor=self.membership, analysis_type=request.POST.get("analysis_type", ""),
                source_url=request.POST.get("source_url", ""), integration_id=request.POST.get("integration") or None,
                source_ref=request.POST.get("source_ref", ""),
            )  # fmt: skip
            return holder["row"]

        if run_and_report(request, ask, _("Analysis queued: its credits are held and settled when it is done.")):
            return redirect("canvas:analysis", pk=holder["row"].pk)
        return redirect("canvas:analyses")


class AnalysisView(TenantViewMixin, View):
    def get(self, request, pk):
        row = self.get_scoped_object(PlatformAnalysis, pk=pk)
        if row is None:
            raise Http404
        return render(request, "canvas/integrations/analysis.html", {"row": row})
