"""Knowledge pages: the units list, a unit (documents with live status, upload,
test retrieval, settings), a document (stages, chunk preview) and the controls.

Every object is fetched through the account-first selectors: another account's
unit or document is a 404 on every page and method. A refused action becomes a
flash message and a redirect back."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, gettext_lazy
from django.views import View

from accounts.models import Role
from accounts.tenancy.views import TenantViewMixin
from aiplatform.ai.models import AiModel
from aiplatform.ai.registry import model_names
from aiplatform.errors import ServiceError
from aiplatform.flash import run_and_report, service_error_text

from .events import document_frame
from .models import DecisionUnit, Document
from .selectors import (
    chunks_of_document,
    document_get_for_account,
    documents_of_unit,
    unit_get_for_account,
    units_for_account,
)
from .services import documents as docs
from .services.retrieval import Retrieval, retrieve
from .services.storage import human_bytes, storage_used_bytes
from .services.units import unit_create, unit_delete, unit_update

CHUNKS_PER_PAGE = 20


class _KnowledgeView(TenantViewMixin, View):
    # A foreign or missing id raises NotFound: the 404 page (TenantViewMixin).
    def unit(self, pk) -> DecisionUnit:
        return unit_get_for_account(self.account, pk)

    def document(self, pk) -> Document:
        return document_get_for_account(self.account, pk)

    def can(self, role: Role) -> bool:
        return self.request.account_role.at_least(role)


class UnitListView(_KnowledgeView):
    def get(self, request):
        used = storage_used_bytes(self.account)
        return render(
            request,
            "knowledge/units.html",
            {
                "units": list(units_for_account(self.account)),
                "can_create": self.can(Role.MEMBER),
                "storage_used": human_bytes(used),
                "storage_limit_gb": self.account.storage_limit_gb,
            },
        )

    def post(self, request):
        fields = {"name": request.POST.get("name", ""), "description": request.POST.get("description", "")}
        try:
            unit = unit_create(account=self.account, actor=self.membership, **fields)
        except ServiceError as exc:
            messages.error(request, service_error_text(exc))
            return redirect("knowledge:units")
        messages.success(request, gettext("Created '%(name)s'. Upload documents to fill it.") % {"name": unit.name})
        return redirect("knowledge:unit", unit.pk)


class UnitDetailView(_KnowledgeView):
    def get(self, request, pk):
        unit = self.unit(pk)
        query = request.GET.get("q", "").strip()
        retrieval: Retrieval | None = None
        search_error = ""
        if query:
            try:
                retrieval = retrieve(account=self.account, unit_ids=[unit.pk], query=query, k=5, user=request.user)
            except ServiceError as exc:
                search_error = service_error_text(exc)
        documents = list(documents_of_unit(self.account, unit))
        return render(
            request,
            "knowledge/unit_detail.html",
            {
                "unit": unit,
                "documents": documents,
                "any_in_progress": any(d.in_progress for d in documents),
                "q": query,
                "retrieval": retrieval,
                "search_error": search_error,
                "can_edit": self.can(Role.MEMBER),
                "can_delete": self.can(Role.ADMIN),
                "embedding_models": model_names(kind=AiModel.Kind.EMBEDDING),
                "status_url": reverse("knowledge:unit_status", args=[unit.pk]),
            },
        )


class UnitStatusView(_KnowledgeView):
    """What the unit page polls while documents are in progress."""

    def get(self, request, pk):
        unit = self.unit(pk)
        documents = [document_frame(d) for d in documents_of_unit(self.account, unit)]
        return JsonResponse({"unit": {"id": str(unit.pk), "status": unit.status, "chunk_count": unit.chunk_count},
                             "documents": documents})  # fmt: skip


class UnitEditView(_KnowledgeView):
    required_role = Role.MEMBER

    def post(self, request, pk):
        unit = self.unit(pk)
        changes = {k: request.POST[k] for k in ("name", "description", "embedding_model", "vector_weight",
                                               "text_weight") if k in request.POST}  # fmt: skip
        run_and_report(request, lambda: unit_update(unit=unit, actor=self.membership, **changes), gettext("Saved."))
        return redirect("knowledge:unit", unit.pk)


class UnitDeleteView(_KnowledgeView):
    required_role = Role.ADMIN

    def post(self, request, pk):
        unit = self.unit(pk)
        if run_and_report(
            request,
            lambda: unit_delete(unit=unit, actor=self.membership),
            gettext("Deleted '%(name)s'.") % {"name": unit.name},
        ):
            return redirect("knowledge:units")
        return redirect("knowledge:unit", unit.pk)


class UnitUploadView(_KnowledgeView):
    required_role = Role.MEMBER

    def post(self, request, pk):
        unit = self.unit(pk)
        files = request.FILES.getlist("files")
        if not files:
            messages.error(request, gettext("Choose or drop at least one file."))
        for upload in files:
            try:
                document = docs.document_upload(account=self.account, actor=self.membership, unit=unit, upload=upload)
            except ServiceError as exc:
                messages.error(request, f"{upload.name}: {service_error_text(exc)}")
                continue
            if document.status == Document.Status.ERROR:
                messages.error(request, f"{document.name}: {document.error}")
            else:
                messages.success(request, gettext("%(name)s: uploaded, ingestion queued.") % {"name": document.name})
        return redirect("knowledge:unit", unit.pk)


class DocumentDetailView(_KnowledgeView):
    def get(self, request, pk):
        document = self.document(pk)
        page = Paginator(chunks_of_document(self.account, document), CHUNKS_PER_PAGE).get_page(request.GET.get("page"))
        return render(
            request,
            "knowledge/document_detail.html",
            {"document": document, "unit": document.unit, "page": page, "can_edit": self.can(Role.MEMBER)},
        )


class DocumentDownloadView(_KnowledgeView):
    def get(self, request, pk):
        document = self.document(pk)
        if not document.file:
            raise Http404("This upload was not stored.")
        return FileResponse(document.file.open("rb"), as_attachment=True, filename=document.name)


class _DocumentControl(_KnowledgeView):
    required_role = Role.MEMBER
    service = None
    done = ""

    def post(self, request, pk):
        document = self.document(pk)
        run_and_report(request, lambda: type(self).service(document=document, actor=self.membership), self.done)
        back = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            back = reverse("knowledge:unit", args=[document.unit_id])
        return redirect(back)


class DocumentPauseView(_DocumentControl):
    service = docs.document_pause
    done = gettext_lazy("Paused. Resume to continue where it stopped.")


class DocumentResumeView(_DocumentControl):
    service = docs.document_resume
    done = gettext_lazy("Resumed.")


class DocumentCancelView(_DocumentControl):
    service = docs.document_cancel
    done = gettext_lazy("Cancelled.")


class DocumentRetryView(_DocumentControl):
    service = docs.document_retry
    done = gettext_lazy("Queued again.")


class DocumentDeleteView(_KnowledgeView):
    required_role = Role.MEMBER

    def post(self, request, pk):
        document = self.document(pk)
        unit_id = document.unit_id
        run_and_report(
            request,
            lambda: docs.document_delete(document=document, actor=self.membership),
            gettext("Deleted %(name)s.") % {"name": document.name},
        )
        return redirect("knowledge:unit", unit_id)
