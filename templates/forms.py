"""HTML forms. The parameter form is generated from a template's parameters;
its only job is to render the right inputs. The rules are checked once, by
`parameters_validate`, whose field errors are put back on this form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.utils import ErrorDict
from django.utils.translation import gettext_lazy as _

from templates.services.parameters import DEFAULT_MAX_LENGTH, enum_choices, localized
from templates.services.sharing import MAX_SHARE_DAYS, MAX_VIEW_CAP


def _field(spec: dict, lang: str) -> forms.Field:
    kind = spec["type"]
    common = {
        "label": localized(spec, "label", lang),
        "help_text": localized(spec, "help", lang),
        "required": bool(spec.get("required")) and kind != "boolean",
        "initial": spec.get("default"),
    }
    if kind == "image":
        # Checked by the service (by its bytes, not this widget's `accept`).
        return forms.FileField(widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
                               **common)  # fmt: skip
    if "enum" in spec:
        choices = [(str(v), label) for v, label in enum_choices(spec, lang)]
        if not common["required"] and "default" not in spec:
            choices = [("", "—"), *choices]
        return forms.ChoiceField(choices=choices, **common)
    if kind in ("string", "text"):
        widget = forms.Textarea(attrs={"rows": 5}) if kind == "text" else forms.TextInput()
        return forms.CharField(
            max_length=spec.get("max_length", DEFAULT_MAX_LENGTH[kind]), min_length=spec.get("min_length"),
            widget=widget, strip=True, **common,
        )  # fmt: skip
    if kind == "integer":
        return forms.IntegerField(min_value=spec.get("minimum"), max_value=spec.get("maximum"), **common)
    if kind == "number":
        return forms.FloatField(min_value=spec.get("minimum"), max_value=spec.get("maximum"), **common)
    if kind == "boolean":
        return forms.BooleanField(**common)
    if kind == "date":
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    return forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"), **common)


class ParametersForm(forms.Form):
    def __init__(self, definition: list[dict], lang: str, *args, initial_language: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.definition = definition
        for spec in definition:
            self.fields[spec["name"]] = _field(spec, lang)
            if spec["name"] == "language" and initial_language and "enum" in spec:
                # Answer in the reader's language unless they choose otherwise.
                if initial_language in [str(v) for v in spec["enum"]]:
                    self.fields["language"].initial = initial_language

    def full_clean(self) -> None:
        # No second rule book: `parameters_validate` judges the input, and its errors are added here.
        self._errors = ErrorDict()
        self.cleaned_data = {}

    def raw_values(self) -> dict[str, Any]:
        """What was posted, as the API would send it: the service validates and converts."""
        values: dict[str, Any] = {}
        for spec in self.definition:
            name = spec["name"]
            if spec["type"] == "image":
                continue  # a file: `uploads()`
            if spec["type"] == "boolean":
                values[name] = name in self.data
            else:
                values[name] = self.data.get(name, "")
        return values

    def uploads(self) -> dict[str, Any]:
        """The files sent for image parameters, by name."""
        names = [spec["name"] for spec in self.definition if spec["type"] == "image"]
        return {name: self.files[name] for name in names if name in self.files}

    @property
    def takes_files(self) -> bool:
        return any(spec["type"] == "image" for spec in self.definition)


class ShareForm(forms.Form):
    expires_in_days = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_SHARE_DAYS, label=_("Expires after (days)"),
        help_text=_("Empty: until the result itself expires."),
    )  # fmt: skip
    max_views = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_VIEW_CAP, label=_("View limit"),
        help_text=_("Empty: no limit."),
    )  # fmt: skip


class RateForm(forms.Form):
    rating = forms.TypedChoiceField(choices=[(i, str(i)) for i in range(1, 6)], coerce=int)
    feedback = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


def form_error_text(form: forms.Form) -> str:
    return " ".join(f"{form.fields[n].label if n in form.fields else n}: {' '.join(e)}" for n, e in form.errors.items())
