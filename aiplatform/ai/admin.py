"""Operators edit the model registry: prices, credits, on/off, and a live test."""

from __future__ import annotations

from django.contrib import admin, messages

from .diagnostics import model_probe
from .models import AiModel


@admin.register(AiModel)
class AiModelAdmin(admin.ModelAdmin):
    list_display = [
        "name", "display_name", "provider", "provider_model", "kind", "context_window", "price_in_per_mtok",
        "price_out_per_mtok", "credits_in_per_1k", "credits_out_per_1k", "enabled",
    ]  # fmt: skip
    list_editable = ["enabled"]
    list_filter = ["provider", "kind", "enabled"]
    search_fields = ["name", "display_name", "provider_model"]
    readonly_fields = ["created_at", "updated_at"]
    actions = ["test_models"]
    fieldsets = [
        (None, {"fields": ["name", "display_name", "enabled"]}),
        ("Provider", {"fields": ["provider", "provider_model", "kind"]}),
        ("Limits", {"fields": ["context_window", "max_output_tokens", "dimensions", "accepts_images"]}),
        (
            "Prices",
            {
                "fields": ["price_in_per_mtok", "price_out_per_mtok", "credits_in_per_1k", "credits_out_per_1k"],
                "description": "What the provider charges us (USD per million tokens) and what we charge "
                "accounts (credits per thousand tokens).",
            },
        ),
        ("History", {"fields": ["created_at", "updated_at"]}),
    ]

    @admin.action(description="Test the selected models (one tiny request each, not billed)")
    def test_models(self, request, queryset) -> None:
        for model in queryset[:10]:
            probe = model_probe(model)
            self.message_user(request, probe.summary, messages.SUCCESS if probe.ok else messages.ERROR)
