"""HTML forms of the channel bot pages. They only parse and validate what a
person typed; the services decide (and refuse with a flash message)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Conversation, Order
from .models.catalog import currency_validator


class ProductForm(forms.Form):
    name = forms.CharField(max_length=200, label=_("Name"))
    description = forms.CharField(
        required=False, max_length=5000, label=_("Description"), widget=forms.Textarea(attrs={"rows": 3})
    )
    price = forms.DecimalField(max_digits=12, decimal_places=2, min_value=0, label=_("Price"))
    currency = forms.CharField(max_length=3, min_length=3, initial="USD", label=_("Currency"))
    sku = forms.CharField(required=False, max_length=64, label=_("SKU"))
    image_url = forms.URLField(required=False, max_length=1000, label=_("Image URL"), assume_scheme="https")
    is_available = forms.BooleanField(required=False, initial=True, label=_("Available"))

    def clean_currency(self) -> str:
        value = self.cleaned_data["currency"].strip().upper()
        currency_validator(value)
        return value


class ProductImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"))


class ReplyForm(forms.Form):
    text = forms.CharField(max_length=2000, strip=True)


class TransitionForm(forms.Form):
    status = forms.ChoiceField(choices=Order.Status.choices)
    note = forms.CharField(required=False, max_length=500)


class InboxFilterForm(forms.Form):
    """The conversation list's filters (GET); an invalid value is ignored."""

    channel = forms.UUIDField(required=False)
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *Conversation.Status.choices])
    needs_human = forms.BooleanField(required=False)
    unread = forms.BooleanField(required=False)

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        found: dict = {}
        if data.get("channel"):
            found["channel"] = data["channel"]
        if data.get("status"):
            found["status"] = data["status"]
        if data.get("needs_human"):
            found["needs_human"] = True
        if data.get("unread"):
            found["unread"] = True
        return found
