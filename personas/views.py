"""Persona pages: the gallery, a persona's page, the editor, deletion, and the
choice of the account's decision units a persona reads.

Every persona is fetched through `persona_get_for_account`, so another account's
persona is a 404 on every page and method. Reading a persona is open to every
member; changing it follows `rules.py`, and the system prompt is shown only to
those who may change it.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.views import View

from accounts.models import Role
from accounts.tenancy.views import TenantViewMixin
from aiplatform.errors import InvalidInput
from aiplatform.flash import run_and_report

from .forms import PersonaForm
from .models import Persona
from .rules import persona_can_create, persona_can_edit, persona_can_see_prompt, persona_can_set_units
from .selectors import SCOPES, persona_get_for_account, persona_unit_choices, persona_units, personas_visible_to
from .services import persona_create, persona_delete, persona_units_set, persona_update


class _PersonaView(TenantViewMixin, View):
    def persona(self, pk) -> Persona:
        return persona_get_for_account(self.account, pk)  # NotFound: the 404 page (TenantViewMixin)

    def editable(self, pk) -> Persona:
        persona = self.persona(pk)
        if not persona_can_edit(persona, self.membership):
            raise PermissionDenied(
                "Platform personas are managed by the platform."
                if persona.is_platform
                else "Only owners, admins and the persona's creator can change it."
            )
        return persona


class GalleryView(_PersonaView):
    def get(self, request):
        scope = request.GET.get("scope") if request.GET.get("scope") in SCOPES else ""
        search = request.GET.get("q", "").strip()[:100]
        personas = list(personas_visible_to(self.account, scope=scope, search=search))
        return render(
            request,
            "personas/gallery.html",
            {
                "personas": personas,
                "scope": scope,
                "q": search,
                "can_create": persona_can_create(self.membership),
                "editable_ids": {p.id for p in personas if persona_can_edit(p, self.membership)},
            },
        )


class DetailView(_PersonaView):
    def get(self, request, pk):
        persona = self.persona(pk)
        can_set_units = persona_can_set_units(persona, self.membership)
        return render(
            request,
            "personas/detail.html",
            {
                "persona": persona,
                "can_edit": persona_can_edit(persona, self.membership),
                "show_prompt": persona_can_see_prompt(persona, self.membership),
                "linked_units": list(persona_units(self.account, persona)),
                "can_set_units": can_set_units,
                # Only those who may choose are offered the account's other units.
                "unit_choices": list(persona_unit_choices(self.account)) if can_set_units else [],
            },
        )


class KnowledgeView(_PersonaView):
    """Saves the persona page's knowledge form: the checked units replace the set."""

    required_role = Role.MEMBER

    def post(self, request, pk):
        persona = self.persona(pk)
        unit_ids = request.POST.getlist("decision_units")
        run_and_report(
            request,
            lambda: persona_units_set(persona=persona, actor=self.membership, unit_ids=unit_ids),
            lambda ids: (
                ngettext(
                    "Saved: “%(name)s” reads %(n)s decision unit.",
                    "Saved: “%(name)s” reads %(n)s decision units.",
                    len(ids),
                )
                % {"name": persona.name, "n": len(ids)}
            ),
        )
        return redirect("personas:detail", pk=persona.pk)


class CreateView(_PersonaView):
    required_role = Role.MEMBER

    def get(self, request):
        return self._page(PersonaForm(initial={"max_tokens": 1024}))

    def post(self, request):
        form = PersonaForm(request.POST)
        if form.is_valid():
            try:
                persona = persona_create(account=self.account, actor=self.membership, **form.service_fields())
            except InvalidInput as exc:  # on the form, next to its fields; Forbidden: the 403 page
                form.add_service_error(exc)
            else:
                messages.success(request, gettext("Persona “%(name)s” created.") % {"name": persona.name})
                return redirect("personas:detail", pk=persona.pk)
        return self._page(form, status=400)

    def _page(self, form, status=200):
        return render(request=self.request, template_name="personas/editor.html",
                      context={"form": form, "persona": None}, status=status)  # fmt: skip


class EditView(_PersonaView):
    required_role = Role.MEMBER

    def get(self, request, pk):
        persona = self.editable(pk)
        return self._page(persona, PersonaForm(initial=PersonaForm.initial_for(persona)))

    def post(self, request, pk):
        persona = self.editable(pk)
        form = PersonaForm(request.POST, initial=PersonaForm.initial_for(persona))
        if form.is_valid():
            try:
                persona = persona_update(persona=persona, actor=self.membership, **form.service_fields())
            except InvalidInput as exc:
                form.add_service_error(exc)
            else:
                messages.success(request, gettext("Persona “%(name)s” saved.") % {"name": persona.name})
                return redirect("personas:detail", pk=persona.pk)
        return self._page(persona, form, status=400)

    def _page(self, persona, form, status=200):
        return render(self.request, "personas/editor.html", {"form": form, "persona": persona}, status=status)


class DeleteView(_PersonaView):
    required_role = Role.MEMBER

    def error_url(self) -> str:
        return reverse("personas:detail", kwargs={"pk": self.kwargs["pk"]})

    def get(self, request, pk):
        return render(request, "personas/confirm_delete.html", {"persona": self.editable(pk)})

    def post(self, request, pk):
        persona = self.editable(pk)
        persona_delete(persona=persona, actor=self.membership)
        messages.success(request, gettext("Persona “%(name)s” deleted.") % {"name": persona.name})
        return redirect("personas:gallery")
