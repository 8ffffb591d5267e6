"""Seed 001 `services`: the catalog of paid AI services (platform data)."""

from __future__ import annotations

import uuid

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from billing.models.fields import credit_field


class Service(models.Model):
    """One sellable service. `service_type` is its code in URLs and the API and
    links it to its prompt templates and experiments."""

    class Category(models.TextChoices):
        FORTUNE = "fortune", _("Fortune")
        IMAGE = "image", _("Image")
        ENTERTAINMENT = "entertainment", _("Entertainment")
        UTILITY = "utility", _("Utility")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    category = models.CharField(max_length=50, choices=Category.choices)
    service_type = models.SlugField(max_length=100, unique=True, help_text=_("The code, e.g. 'saju' or 'tarot'."))
    name_ko = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100)
    description_ko = models.TextField(blank=True)
    description_en = models.TextField(blank=True)
    credit_cost = credit_field(validators=[MinValueValidator(0)], help_text=_("Credits charged per successful run."))
    icon = models.CharField(max_length=16, blank=True, help_text=_("An emoji shown in the catalog."))
    is_active = models.BooleanField(default=True)
    sort_order = models.PositiveSmallIntegerField(default=100)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sort_order", "service_type"]
        constraints = [
            # Seed 001's constraint; service_type alone is unique too (it is the code in URLs).
            models.UniqueConstraint(fields=["category", "service_type"], name="templates_service_category_type"),
            models.CheckConstraint(condition=models.Q(credit_cost__gte=0), name="templates_service_cost_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.name_en} ({self.service_type})"

    @property
    def code(self) -> str:
        return self.service_type

    def name_in(self, lang: str) -> str:
        return self.name_ko if lang == "ko" else self.name_en

    def description_in(self, lang: str) -> str:
        return (self.description_ko if lang == "ko" else self.description_en) or self.description_en
