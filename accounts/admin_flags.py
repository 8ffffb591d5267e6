"""The operators' feature-flag form on App settings: for a `feature.<name>` row,
the platform switch and the accounts switched on or off regardless of it
(stored in the row's JSON value, read by accounts.flags). Saving drops the
cached value so every process sees the change at once."""

from __future__ import annotations

from django import forms
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .flags import FLAGS, PREFIX, app_setting_forget
from .models import Account, AppSetting


class AppSettingForm(forms.ModelForm):
    enabled = forms.BooleanField(required=False, help_text=_("Feature flags: on for the whole platform."))
    accounts_on = forms.ModelMultipleChoiceField(
        queryset=Account.objects.order_by("name"),
        required=False,
        widget=FilteredSelectMultiple("accounts", False),
        help_text=_("Feature flags: on for these accounts even when the platform switch is off."),
    )
    accounts_off = forms.ModelMultipleChoiceField(
        queryset=Account.objects.order_by("name"),
        required=False,
        widget=FilteredSelectMultiple("accounts", False),
        help_text=_("Feature flags: off for these accounts."),
    )

    class Meta:
        model = AppSetting
        fields = ["key", "value", "description"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        value = self.instance.value if isinstance(self.instance.value, dict) else {}
        flag = FLAGS.get((self.instance.key or "").removeprefix(PREFIX))
        self.fields["enabled"].initial = value.get("enabled", flag.default if flag else True)
        overrides = value.get("accounts") or {}
        self.fields["accounts_on"].initial = [k for k, v in overrides.items() if v]
        self.fields["accounts_off"].initial = [k for k, v in overrides.items() if not v]
        self.fields["value"].required = False
        names = ", ".join(PREFIX + n for n in FLAGS)
        self.fields["key"].help_text = (
            f"Feature flags: {names}. "
            'Other keys: marketplace.fee_percent ({"value": 20}).'
        )  # fmt: skip

    def clean(self):
        data = super().clean()
        key = data.get("key") or ""
        if key.startswith(PREFIX):
            if key.removeprefix(PREFIX) not in FLAGS:
                self.add_error("key", gettext("No such feature flag."))
            on = {str(a.pk) for a in data.get("accounts_on") or []}
            off = {str(a.pk) for a in data.get("accounts_off") or []}
            if on & off:
                self.add_error("accounts_off", gettext("An account cannot be both on and off."))
            data["value"] = {"enabled": bool(data.get("enabled")),
                             "accounts": {**{k: True for k in on}, **{k: False for k in off}}}  # fmt: skip
        elif data.get("value") is None:
            data["value"] = {}
        return data


class AppSettingAdminMixin:
    form = AppSettingForm
    fields = ["key", "description", "enabled", "accounts_on", "accounts_off", "value"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        app_setting_forget(obj.key)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        app_setting_forget(obj.key)
