"""Forms of the billing pages. They only parse choices: amounts and limits are
validated by the services, so the page and the API refuse the same input with
the same message."""

from __future__ import annotations

from django import forms

from billing.models import CreditPack, TopUpRule


class _PackField(forms.ModelChoiceField):
    def __init__(self, **kwargs):
        super().__init__(
            queryset=CreditPack.objects.filter(is_active=True),
            to_field_name="code",
            error_messages={"invalid_choice": "This credit pack is not available."},
            **kwargs,
        )


class BuyForm(forms.Form):
    pack = _PackField()


class TopUpRuleForm(forms.Form):
    kind = forms.ChoiceField(choices=TopUpRule.Kind.choices)
    pack = _PackField()
    threshold = forms.CharField(required=False, max_length=40)
    interval_days = forms.CharField(required=False, max_length=10)
    enabled = forms.BooleanField(required=False)


class PlanForm(forms.Form):
    plan = forms.SlugField(max_length=30)


class CostControlForm(forms.Form):
    daily_limit = forms.CharField(required=False, max_length=40)
    monthly_limit = forms.CharField(required=False, max_length=40)
    auto_shutoff = forms.BooleanField(required=False)


class ShutoffForm(forms.Form):
    reason = forms.CharField(required=False, max_length=500)


class UsageQueryForm(forms.Form):
    days = forms.IntegerField(min_value=1, max_value=366, required=False)


def form_error_text(form: forms.Form) -> str:
    """All of a form's errors as one sentence for a flash message."""
    parts = []
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        label = (field.label or name.replace("_", " ").capitalize()) if field is not None else ""
        parts.append(f"{label}: {' '.join(errors)}" if label else " ".join(errors))
    return " ".join(parts)
