"""The persona editor's form. It parses and offers choices; the services decide
what is valid, so the page and the API refuse the same input with the same words."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from aiplatform.ai.registry import model_names
from aiplatform.errors import InvalidInput

from .config import DEFAULT_TEMPERATURE
from .models import Persona


class PersonaForm(forms.Form):
    name = forms.CharField(max_length=100, label=_("Name"))
    role_title = forms.CharField(max_length=120, label=_("Role title"))
    icon_url = forms.URLField(
        max_length=500,
        required=False,
        label=_("Icon URL"),
        help_text=_("Leave empty to show the initials."),
        assume_scheme="https",
    )
    model = forms.ChoiceField(label=_("Model"))
    temperature = forms.DecimalField(
        min_value=0, max_value=2, decimal_places=2, initial=DEFAULT_TEMPERATURE,
        label=_("Temperature"), help_text=_("0 answers the same way each time; 2 is the most varied."),
    )  # fmt: skip
    max_tokens = forms.IntegerField(min_value=1, label=_("Max tokens"), help_text=_("Longest answer, in tokens."))
    system_prompt = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 12}),
        label=_("System prompt"),
        help_text=_("Instructions the model follows. Encrypted at rest; only owners, admins and the creator see it."),
        strip=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        names = model_names()
        current = self.initial.get("model")
        if current and current not in names:
            names = [current, *names]  # keep a disabled model visible; saving then explains why it is refused
        self.fields["model"].choices = [(n, n) for n in names]

    @classmethod
    def initial_for(cls, persona: Persona) -> dict[str, Any]:
        config = persona.model_config or {}
        return {
            "name": persona.name,
            "role_title": persona.role_title,
            "icon_url": persona.icon_url,
            "model": config.get("model", ""),
            "temperature": config.get("temperature", DEFAULT_TEMPERATURE),
            "max_tokens": config.get("max_tokens"),
            "system_prompt": persona.system_prompt,
        }

    def service_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "role_title": data["role_title"],
            "icon_url": data["icon_url"],
            "system_prompt": data["system_prompt"],
            "model_config": {
                "model": data["model"],
                "temperature": float(data["temperature"]),
                "max_tokens": data["max_tokens"],
            },
        }

    def add_service_error(self, exc: InvalidInput) -> None:
        for name, errors in (exc.fields or {}).items():
            for error in errors:
                self.add_error(name if name in self.fields else None, error)
        if not exc.fields:
            self.add_error(None, exc.message)


class PreviewForm(forms.Form):
    message = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)
