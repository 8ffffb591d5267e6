"""The global search (a results page and a small JSON endpoint for the top bar's
type-ahead), and the shell's one cross-product action: saving a campaign component to
the component library."""

from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.generic import TemplateView, View

from accounts.models import Role
from accounts.tenancy.views import TenantViewMixin
from aiplatform.flash import run_and_report

from .library_bridge import (
    campaign_component,
    campaigns_to_add_to,
    component_to_library,
    library_item,
    library_to_campaign,
)
from .search import KINDS, MAX_QUERY_CHARS, workspace_search

PAGE_LIMIT = 20  # per kind on the page
SUGGEST_LIMIT = 3  # per kind in the type-ahead
SUGGEST_MAX = 8


class SearchView(TenantViewMixin, TemplateView):
    template_name = "workspace/search.html"

    def get_context_data(self, **kwargs):
        query = self.request.GET.get("q", "")[:MAX_QUERY_CHARS]
        kind = self.request.GET.get("kind", "")
        kind = kind if kind in KINDS else ""
        results = workspace_search(account=self.account, user=self.request.user, query=query,
                                   kinds=[kind] if kind else None, limit=PAGE_LIMIT)  # fmt: skip
        base = reverse("workspace:search")
        kinds = [
            {"key": k.key, "label": k.label, "count": results.counts.get(k.key, 0),
             "url": f"{base}?{urlencode({'q': query, 'kind': k.key})}", "active": k.key == kind}
            for k in KINDS.values()
        ]  # fmt: skip
        return super().get_context_data(
            search_query=query, results=results, kind=kind, kinds=kinds, limit=PAGE_LIMIT,
            all_url=f"{base}?{urlencode({'q': query})}", **kwargs,
        )  # fmt: skip


class SearchSuggestView(TenantViewMixin, View):
    """GET ?q=… → {"query", "results": [{kind, kind_label, title, url}], "search_url", …}."""

    def get(self, request):
        query = request.GET.get("q", "")[:MAX_QUERY_CHARS]
        results = workspace_search(account=self.account, user=request.user, query=query, limit=SUGGEST_LIMIT)
        hits = [
            {"kind": h.kind, "kind_label": h.kind_label, "title": h.title, "url": h.url}
            for h in results.hits[:SUGGEST_MAX]
        ]
        return JsonResponse({
            "query": query,
            "results": hits,
            "search_url": f"{reverse('workspace:search')}?{urlencode({'q': query})}",
            "all_text": _("All results for “%(query)s”") % {"query": query},
            "empty_text": _("Nothing in this account matches."),
        })  # fmt: skip


class ComponentToLibraryView(TenantViewMixin, View):
    """The campaign page's "Save to library": a copy in the account's component
    library, then its library page (back to the campaign when it failed)."""

    required_role = Role.MEMBER

    def post(self, request, pk):
        campaign_component(self.account, pk)  # another account's id: the 404 page (TenantViewMixin)
        saved = []
        action = lambda: saved.append(component_to_library(account=self.account, actor=self.membership,  # noqa: E731
                                                           component_id=pk))  # fmt: skip
        if run_and_report(request, action, _("Saved to your component library (private until you share it).")):
            return redirect("templates:library_component", pk=saved[0].pk)
        return redirect(request.POST.get("back") or "templates:library")


class LibraryToCampaignView(TenantViewMixin, View):
    """A library component's "Add to a campaign": choose the campaign, then its page."""

    required_role = Role.MEMBER

    def get(self, request, pk):
        library_item(self.account, pk)  # another account's id: the 404 page
        return render(request, "workspace/library_to_campaign.html",
                      {"library_id": pk, "campaigns": campaigns_to_add_to(self.account)})  # fmt: skip

    def post(self, request, pk):
        library_item(self.account, pk)
        added = []
        action = lambda: added.append(library_to_campaign(  # noqa: E731
            account=self.account, actor=self.membership, library_id=pk, campaign_id=request.POST.get("campaign")))
        if run_and_report(request, action, _("Added at the end of the campaign's page.")):
            return redirect("canvas:builder_campaign", pk=added[0].campaign_id)
        return redirect("library_to_campaign", pk=pk)
