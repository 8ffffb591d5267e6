"""The model registry: which models exist, who serves them, what they cost.

Platform data (not tenant data): operators edit it in the admin. Prices are
what the provider charges us (USD per million tokens); credits are what we
charge the account (credits per thousand tokens).
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _


class AiModel(models.Model):
    class Provider(models.TextChoices):
        OPENAI = "openai", "OpenAI-compatible"
        ANTHROPIC = "anthropic", "Anthropic"
        LOCAL = "local", _("Local (offline)")

    class Kind(models.TextChoices):
        CHAT = "chat", _("Chat completion")
        EMBEDDING = "embedding", _("Embedding")

    name = models.SlugField(max_length=100, unique=True, help_text=_("The name apps and API callers use."))
    display_name = models.CharField(max_length=100, blank=True)
    provider = models.CharField(max_length=20, choices=Provider.choices)
    provider_model = models.CharField(max_length=100, help_text=_("The model id sent to the provider."))
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.CHAT)
    context_window = models.PositiveIntegerField(default=8192, help_text=_("Tokens of prompt + answer."))
    max_output_tokens = models.PositiveIntegerField(default=4096)
    dimensions = models.PositiveIntegerField(null=True, blank=True, help_text=_("Embedding models: vector size."))
    accepts_images = models.BooleanField(
        default=False,
        help_text=_(
            "Chat models: reads images sent with a message (a vision model). The offline model "
            "accepts them only to say that it cannot see them."
        ),
    )
    price_in_per_mtok = models.DecimalField(max_digits=12, decimal_places=6, default=Decimal("0"))
    price_out_per_mtok = models.DecimalField(max_digits=12, decimal_places=6, default=Decimal("0"))
    credits_in_per_1k = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal("0"))
    credits_out_per_1k = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal("0"))
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "AI model"

    def __str__(self) -> str:
        return self.display_name or self.name
