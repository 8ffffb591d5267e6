"""Server-rendered pages: the catalog in the reader's language, a form per
service, the result page with live status, sharing and rating, the history,
and the public page of a shared result (no sign-in)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views import View

from accounts.models import Role
from accounts.tenancy.views import TenantViewMixin
from aiplatform.errors import NotFound, ServiceError
from aiplatform.flash import service_error_text

from . import forms, selectors
from .filters import ResultFilter
from .models import ServiceResult
from .services.files import result_file_response
from .services.offline import DEMO_LABEL, offline_service_types, uses_offline_model
from .services.parameters import enum_choices, localized
from .services.ratings import result_rate
from .services.run import service_for_code, service_run, template_for_run
from .services.sharing import ShareGone, public_view, result_share, result_unshare, shared_result_open
from .services.validation import output_for_display

HISTORY_PAGE_SIZE = 25


def _lang(request) -> str:
    return selectors.language_of(request, request.GET.get("lang"))


PROGRESS = {
    ServiceResult.Status.PENDING: gettext_noop("Waiting for a worker to start…"),
    ServiceResult.Status.RUNNING: gettext_noop("The AI is writing your result…"),
}


def _progress_text(result: ServiceResult) -> str:
    if result.status == ServiceResult.Status.RUNNING and result.attempts > 1:
        return _("The first answer was not in the expected form; the AI is correcting it…")
    text = PROGRESS.get(result.status)
    return _(text) if text else ""


def status_payload(result: ServiceResult) -> dict:
    return {
        "id": str(result.id),
        "status": result.status,
        "status_label": str(result.get_status_display()),
        "finished": result.is_finished,
        "progress": _progress_text(result),
        "error": _(result.error) if result.error else "",
    }


class CatalogView(TenantViewMixin, View):
    def get(self, request):
        lang = _lang(request)
        demo = offline_service_types()
        services = [
            {"service": s, "name": s.name_in(lang), "description": s.description_in(lang),
             "demo": s.service_type in demo}
            for s in selectors.services_active()
        ]  # fmt: skip
        context = {"services": services, "lang": lang, "demo_label": _(DEMO_LABEL)}
        return render(request, "services/catalog.html", context)


class ServiceView(TenantViewMixin, View):
    """The form of one service (GET) and starting a run (POST)."""

    def _context(self, request, service, form, template):
        lang = _lang(request)
        return {
            "service": service,
            "name": service.name_in(lang),
            "description": service.description_in(lang),
            "form": form,
            "template": template,
            "demo": template is not None and uses_offline_model(template.ai_model),
            "demo_label": _(DEMO_LABEL),
            "can_run": request.account_role.at_least(Role.MEMBER),
            "idempotency_key": uuid.uuid4(),
            "lang": lang,
        }

    def _template(self, service):
        try:
            return template_for_run(service, user=self.request.user).template
        except ServiceError:
            return None

    def get(self, request, code: str):
        service = _service_or_404(code)
        template = self._template(service)
        lang = _lang(request)
        form = forms.ParametersForm(template.parameters if template else [], lang, initial_language=lang)
        return render(request, "services/service.html", self._context(request, service, form, template))

    def post(self, request, code: str):
        service = _service_or_404(code)
        template = self._template(service)
        definition = template.parameters if template else []
        form = forms.ParametersForm(definition, _lang(request), request.POST, request.FILES)
        if not request.account_role.at_least(Role.MEMBER):
            messages.error(request, _("Viewers cannot run services; ask an admin of this account for a member role."))
            return render(request, "services/service.html", self._context(request, service, form, template), status=403)
        try:
            result = service_run(
                account=self.account, user=request.user, service_code=code, params=form.raw_values(),
                files=form.uploads(),
                idempotency_key=f"web-{request.POST.get('idempotency_key', '')}"[:255]
                if request.POST.get("idempotency_key") else None,
            )  # fmt: skip
        except ServiceError as exc:
            for name, errors in (exc.fields or {}).items():
                form.add_error(name if name in form.fields else None, errors)
            if not exc.fields:
                messages.error(request, service_error_text(exc))
            context = self._context(request, service, form, template)
            return render(request, "services/service.html", context, status=exc.status)
        return redirect("templates:result", pk=result.pk)


def _service_or_404(code: str):
    return service_for_code(code)  # NotFound: the 404 page (TenantViewMixin)


class ResultView(TenantViewMixin, View):
    def get(self, request, pk):
        result = self.get_scoped_object(ServiceResult, pk=pk)
        if result.expires_at <= timezone.now():
            raise Http404("This result has expired.")
        lang = _lang(request)
        inputs = _input_rows(result, lang)
        context = {
            "result": result,
            "name": result.service.name_in(lang),
            "inputs": inputs,
            "output": output_for_display(result),
            "status": status_payload(result),
            "share_url": request.build_absolute_uri(reverse("templates:shared", args=[result.share_token]))
            if result.is_public and result.share_token
            else "",
            "share_state": result.share_state(),
            "share_form": forms.ShareForm(initial={"max_views": result.max_views}),
            "rate_form": forms.RateForm(initial={"rating": result.rating, "feedback": result.feedback}),
            "demo": uses_offline_model(result.ai_model),
            "demo_label": _(DEMO_LABEL),
            "input_file_urls": file_urls(result, "input", result.input_files),
            "result_file_urls": file_urls(result, "result", result.result_files),
            "can_rate": result.user_id == request.user.pk,
            "can_share": result.user_id == request.user.pk or request.account_role.at_least(Role.ADMIN),
            "lang": lang,
        }
        return render(request, "services/result.html", context)


def _input_rows(result: ServiceResult, lang: str) -> list[tuple[str, str]]:
    """The parameters as the form labelled them, in the form's order (the template may be gone: raw names)."""
    specs = {p["name"]: p for p in (result.prompt_template.parameters if result.prompt_template_id else [])}
    names = [n for n in specs if n in result.input_data] + [n for n in result.input_data if n not in specs]
    rows = []
    for name in names:
        value = result.input_data[name]
        spec = specs.get(name, {"name": name})
        label = localized(spec, "label", lang)
        shown = dict(enum_choices(spec, lang)).get(value, value) if "enum" in spec else value
        if isinstance(shown, bool):
            shown = _("Yes") if shown else _("No")
        rows.append((label, "" if shown is None else str(shown)))
    return rows


def file_urls(result: ServiceResult, kind: str, paths: list[str]) -> list[str]:
    return [reverse("templates:result_file", args=[result.pk, kind, i]) for i in range(len(paths))]


class ResultFileView(TenantViewMixin, View):
    """A photo the user sent or an image the service made: members of the account only
    (another account's result is a 404), by position, never by storage path."""

    def get(self, request, pk, kind: str, index: int):
        result = self.get_scoped_object(ServiceResult, pk=pk)
        if result.expires_at <= timezone.now():
            raise Http404("This result has expired.")
        return result_file_response(result, kind, index)


class ResultStatusView(TenantViewMixin, View):
    """The small JSON the result page polls every second."""

    def get(self, request, pk):
        result = self.get_scoped_object(ServiceResult, pk=pk)
        return JsonResponse(status_payload(result))


class _ResultActionView(TenantViewMixin, View):
    """An action on one result: a refusal is a flash message on the result page."""

    def error_url(self) -> str:
        return reverse("templates:result", kwargs={"pk": self.kwargs["pk"]})


class ResultShareView(_ResultActionView):
    required_role = Role.MEMBER

    def post(self, request, pk):
        result = self.get_scoped_object(ServiceResult, pk=pk)
        form = forms.ShareForm(request.POST)
        if not form.is_valid():
            messages.error(request, forms.form_error_text(form))
            return redirect("templates:result", pk=pk)
        days = form.cleaned_data.get("expires_in_days")
        result_share(
            result=result, actor=self.membership, expires_in=timedelta(days=days) if days else None,
            max_views=form.cleaned_data.get("max_views"),
        )  # fmt: skip
        messages.success(request, _("The result is public: anyone with the link can see its answer."))
        return redirect("templates:result", pk=pk)


class ResultUnshareView(_ResultActionView):
    required_role = Role.MEMBER

    def post(self, request, pk):
        result = self.get_scoped_object(ServiceResult, pk=pk)
        result_unshare(result=result, actor=self.membership)
        messages.success(request, _("The result is private again; the old link no longer works."))
        return redirect("templates:result", pk=pk)


class ResultRateView(_ResultActionView):
    def post(self, request, pk):
        result = self.get_scoped_object(ServiceResult, pk=pk)
        form = forms.RateForm(request.POST)
        if not form.is_valid():
            messages.error(request, forms.form_error_text(form))
            return redirect("templates:result", pk=pk)
        result_rate(result=result, user=request.user, **form.cleaned_data)
        messages.success(request, _("Thank you for rating this result."))
        return redirect("templates:result", pk=pk)


class HistoryView(TenantViewMixin, View):
    def get(self, request):
        lang = _lang(request)
        results = ResultFilter(request.GET or None, queryset=selectors.results_of(self.account).order_by("-created_at"))
        page = Paginator(results.qs, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        rows = [(r, r.service.name_in(lang)) for r in page]
        context = {
            "page": page,
            "rows": rows,
            "filter": results,
            "services": [(s.service_type, s.name_in(lang)) for s in selectors.services_active()],
            "statuses": ServiceResult.Status.choices,
            "selected_service": request.GET.get("service", ""),
            "selected_status": request.GET.getlist("status"),
            "filter_query": query.urlencode(),
            "lang": lang,
        }
        return render(request, "services/history.html", context)


def shared_page(request, token: str):
    """The public page of a shared link: no sign-in, only the allowlist of public_view."""
    lang = _lang(request)
    try:
        result = shared_result_open(token)
    except (NotFound, ShareGone) as exc:
        return render(request, "services/shared_unavailable.html", {"message": _(exc.message)}, status=exc.status)
    return render(request, "services/shared.html", {"shared": public_view(result, lang), "lang": lang})
