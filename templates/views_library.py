"""Pages of the component library and marketplace: search (ranked full-text,
tags, category, scope), a component's page with a sandboxed preview and its
actions (like, use, buy, share), and the account's own library with the save form."""

from __future__ import annotations

import uuid

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from accounts.flags import feature_enabled
from accounts.models import Role
from accounts.tenancy.views import TenantViewMixin
from aiplatform.flash import run_and_report

from . import library_selectors as sel
from .services import library as svc

PAGE_SIZE = 24


class LibraryView(TenantViewMixin, View):
    """The marketplace and the account's library, one search page."""

    def get(self, request):
        p = request.GET
        scope = p.get("scope") if p.get("scope") in sel.SCOPES else "public"
        tags = [t for t in (p.get("tags") or "").split(",") if t.strip()]
        qs = sel.library_search(self.account, q=p.get("q", "")[:200], tags=tags, category=p.get("category", ""),
                                scope=scope, sort=p.get("sort", "relevance"))  # fmt: skip
        page = Paginator(qs, PAGE_SIZE).get_page(p.get("page"))
        return render(request, "library/index.html", {
            "page": page, "q": p.get("q", ""), "tags": ",".join(tags), "category": p.get("category", ""),
            "scope": scope, "sort": p.get("sort", "relevance"), "categories": sel.categories(self.account),
            "marketplace_on": feature_enabled("marketplace", account_id=self.account.id),
            "can_write": request.account_role.at_least(Role.MEMBER),
        })  # fmt: skip

    def post(self, request):
        """Save a new component to the library."""
        if not request.account_role.at_least(Role.MEMBER):
            raise Http404
        data = {k: request.POST.get(k, "") for k in ("name", "description", "category", "component_type", "code",
                                                     "css_styles", "preview_image_url")}  # fmt: skip
        data["tags"] = request.POST.get("tags", "")
        holder = {}

        def save():
            holder["row"] = svc.library_component_save(account=self.account, actor=self.membership, data=data)
            return holder["row"]

        if run_and_report(request, save, _("Saved to your library.")):
            return redirect("templates:library_component", pk=holder["row"].pk)
        return redirect(reverse("templates:library") + "?scope=mine")


class ComponentView(TenantViewMixin, View):
    def _row(self, pk):
        row = sel.library_visible(self.account, pk)
        if row is None:
            raise Http404
        return row

    def get(self, request, pk):
        row = self._row(pk)
        own = row.account_id == self.account.id
        locked = row.is_marketplace_item and row.price > 0 and not own and not row.purchased
        return render(request, "library/component.html", {
            "row": row, "own": own, "locked": locked, "idempotency_key": uuid.uuid4().hex,
            "fee": svc.fee_percent(), "can_write": request.account_role.at_least(Role.MEMBER),
        })  # fmt: skip

    def post(self, request, pk):
        row = self._row(pk)
        action = request.POST.get("action")
        a, m = self.account, self.membership
        if action == "like":
            run_and_report(request, lambda: svc.library_like(account=a, user=request.user, component_id=row.pk),
                           _("Liked."))  # fmt: skip
        elif action == "unlike":
            run_and_report(request, lambda: svc.library_unlike(account=a, user=request.user, component_id=row.pk),
                           _("Like removed."))  # fmt: skip
        elif action == "use":
            run_and_report(request, lambda: svc.library_use(account=a, actor=m, component_id=row.pk),
                           _("Copied to your library."))  # fmt: skip
        elif action == "buy":
            run_and_report(
                request,
                lambda: svc.library_buy(account=a, actor=m, component_id=row.pk,
                                        idempotency_key=request.POST.get("idempotency_key") or None),  # fmt: skip
                lambda r: _("You already own this component.") if r.replayed else
                _("Bought for %(price)s credits: a copy is in your library.") % {"price": r.purchase.price},
            )  # fmt: skip
        elif action == "share":
            run_and_report(
                request,
                lambda: svc.library_component_share(account=a, actor=m, component_id=row.pk,
                                                    visibility=request.POST.get("visibility", "private"),
                                                    price=request.POST.get("price") or None),  # fmt: skip
                _("Sharing updated."),
            )
        elif action == "delete":
            if run_and_report(request, lambda: svc.library_component_delete(account=a, actor=m, component_id=row.pk),
                              _("Deleted.")):  # fmt: skip
                return redirect(reverse("templates:library") + "?scope=mine")
        return redirect("templates:library_component", pk=row.pk)
