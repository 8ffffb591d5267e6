"""Operators: platform personas (account empty) and every account's personas.

The system prompt is decrypted into the form for operators (admin requests run
with row-level security lifted, see TenantMiddleware) and validated like
everywhere else. Each persona has a "test chat" page that sends one message
through `persona_preview` and shows what a user would see, with the guard's verdict.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from accounts.models import Account
from aiplatform.ai.registry import model_names
from aiplatform.errors import InvalidInput, ServiceError
from aiplatform.flash import service_error_text

from .config import DEFAULT_TEMPERATURE
from .forms import PreviewForm
from .models import Persona, PersonaDecisionUnit
from .services import persona_fields_clean, persona_preview


class PersonaAdminForm(forms.ModelForm):
    icon_url = forms.URLField(max_length=500, required=False, assume_scheme="https", label=_("Icon URL"))
    model = forms.ChoiceField(label="Model")
    temperature = forms.DecimalField(min_value=0, max_value=2, decimal_places=2, initial=DEFAULT_TEMPERATURE)
    max_tokens = forms.IntegerField(min_value=1, required=False, help_text=_("Empty: the model's maximum."))

    class Meta:
        model = Persona
        fields = ["account", "name", "role_title", "icon_url", "is_public", "system_prompt"]
        widgets = {"system_prompt": forms.Textarea(attrs={"rows": 16, "cols": 100})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        names = model_names()
        config = self.instance.model_config or {}
        current = config.get("model")
        if current and current not in names:
            names = [current, *names]
        self.fields["model"].choices = [(n, n) for n in names]
        if self.instance.pk:
            self.initial.update(
                model=current, temperature=config.get("temperature"), max_tokens=config.get("max_tokens")
            )

    def clean(self):
        data = super().clean()
        fields = {k: data.get(k) or "" for k in ("name", "role_title", "system_prompt", "icon_url")}
        temperature = data.get("temperature")
        fields["model_config"] = {
            "model": data.get("model"),
            "temperature": float(temperature) if temperature is not None else None,
            "max_tokens": data.get("max_tokens"),
        }
        try:
            cleaned = persona_fields_clean(fields)
        except InvalidInput as exc:
            for name, errors in (exc.fields or {}).items():
                self.add_error(name if name in self.fields else None, errors)
            return data
        data.update(cleaned)
        self.instance.model_config = cleaned["model_config"]
        return data


class ScopeFilter(admin.SimpleListFilter):
    title = "scope"
    parameter_name = "scope"

    def lookups(self, request, model_admin):
        return [("platform", "Platform"), ("account", "Account")]

    def queryset(self, request, queryset):
        if self.value() == "platform":
            return queryset.filter(account__isnull=True)
        if self.value() == "account":
            return queryset.filter(account__isnull=False)
        return queryset


class TestChatForm(PreviewForm):
    account = forms.ModelChoiceField(
        queryset=Account.objects.order_by("name"),
        required=False,
        help_text=_("The account whose usage records this call (not charged). Default: the persona's own account."),
    )


@admin.register(Persona)
class PersonaAdmin(admin.ModelAdmin):
    form = PersonaAdminForm
    change_form_template = "admin/personas/persona/change_form.html"
    list_display = ["name", "role_title", "scope", "account", "is_public", "model_used", "updated_at"]
    list_filter = [ScopeFilter, "is_public"]
    search_fields = ["name", "role_title", "account__name"]
    list_select_related = ["account"]
    autocomplete_fields = ["account"]
    readonly_fields = ["knowledge_links", "created_by", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["account", "name", "role_title", "icon_url", "is_public"]}),
        ("Model", {"fields": ["model", "temperature", "max_tokens"]}),
        ("Instructions", {"fields": ["system_prompt"], "description": "Encrypted at rest; users never see it."}),
        ("Knowledge", {"fields": ["knowledge_links"], "description": "Accounts choose these on the persona's page."}),
        ("History", {"fields": ["created_by", "created_at", "updated_at"]}),
    ]

    @admin.display(description="scope")
    def scope(self, obj: Persona) -> str:
        return "platform" if obj.is_platform else "account"

    @admin.display(description="model")
    def model_used(self, obj: Persona) -> str:
        return obj.model_name

    @admin.display(description="decision units read")
    def knowledge_links(self, obj: Persona) -> str:
        links = (
            PersonaDecisionUnit.objects.filter(persona=obj)
            .select_related("account", "decision_unit")
            .order_by("account__name", "decision_unit__name")
        )
        rows = format_html_join("", "<div>{}: {}</div>", ((x.account.name, x.decision_unit.name) for x in links))
        return rows or "—"

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def get_urls(self):
        return [
            path(
                "<path:object_id>/test-chat/",
                self.admin_site.admin_view(self.test_chat_view),
                name="personas_persona_test_chat",
            ),
            *super().get_urls(),
        ]

    def test_chat_view(self, request, object_id):
        persona = self.get_object(request, object_id)
        if persona is None or not self.has_view_permission(request, persona):
            self.message_user(request, "There is no such persona.", messages.WARNING)
            return redirect(reverse("admin:personas_persona_changelist"))
        form = TestChatForm(request.POST or None, initial={"account": persona.account_id})
        result = None
        if request.method == "POST" and form.is_valid() and not (form.cleaned_data["account"] or persona.account):
            form.add_error(
                "account", _("A platform persona has no account: choose the account that records this call.")
            )
        elif request.method == "POST" and form.is_valid():
            try:
                # A savepoint: a failed call leaves the request's transaction usable for the page.
                with transaction.atomic():
                    result = persona_preview(
                        persona=persona,
                        message=form.cleaned_data["message"],
                        user=request.user,
                        account=form.cleaned_data["account"] or persona.account,
                    )
            except ServiceError as exc:
                self.message_user(request, service_error_text(exc), messages.ERROR)
            except Exception as exc:  # the page must explain, never 500, whatever the provider does
                self.message_user(request, f"The model call failed: {exc.__class__.__name__}.", messages.ERROR)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": persona,
            "title": f"Test chat: {persona.name}",
            "form": form,
            "result": result,
        }
        return TemplateResponse(request, "admin/personas/persona/test_chat.html", context)
