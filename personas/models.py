"""AI personas (seed 000 `bot_personas`)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.tenancy.models import TenantModel, TenantQuerySet

from .fields import EncryptedTextField


class Persona(models.Model):
    """An AI expert: who it is (name, role title, icon) and how it answers
    (system prompt, model configuration).

    Two kinds share the table:

    * platform personas (`account` NULL) are written by operators in the admin;
      with `is_public` set every account can read them (a SELECT-only
      row-level-security policy exposes exactly those rows), unset they are drafts
      only operators see;
    * account personas belong to one account and are visible to its members only;
      they can never be public (a check constraint), so no tenant's prompt is
      exposed to another tenant.

    `system_prompt` is encrypted at rest and shown only to those who may edit the
    persona (see `personas.rules`). `model_config` is
    `{"model": <registry name>, "temperature": 0..2, "max_tokens": 1..model max}`,
    validated by `personas.config.model_config_clean`.

    Decision units (seed 000 `BOT_PERSONAS }|--|{ DECISION_UNITS`): linked through
    `PersonaDecisionUnit`, which belongs to the account that owns the unit, so an
    account can give its own knowledge to a platform persona without another
    account ever seeing the link (row-level security on the link table).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(
        "accounts.Account",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty for a platform persona."),
    )
    name = models.CharField(max_length=100)
    role_title = models.CharField(max_length=120)
    system_prompt = EncryptedTextField(help_text=_("The core instruction set for the model. Encrypted at rest."))
    model_config = models.JSONField(default=dict)
    icon_url = models.URLField(max_length=500, blank=True)
    is_public = models.BooleanField(
        default=False, help_text=_("Platform personas only: every account can see and chat with it.")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(account__isnull=True) | models.Q(is_public=False),
                name="personas_account_persona_not_public",
                violation_error_message="Only platform personas can be public.",
            ),
        ]
        indexes = [models.Index(fields=["account", "name"]), models.Index(fields=["is_public", "name"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.role_title})"

    @property
    def is_platform(self) -> bool:
        return self.account_id is None

    @property
    def initials(self) -> str:
        """Shown instead of an icon: first letters of the first two words."""
        words = [w for w in self.name.split() if w[:1].isalnum()]
        return "".join(w[0] for w in words[:2]).upper() or "?"

    @property
    def model_name(self) -> str:
        return str(self.model_config.get("model", ""))


class PersonaDecisionUnit(TenantModel):
    """A decision unit (knowledge base) a persona reads, for the unit's account."""

    persona = models.ForeignKey(Persona, on_delete=models.CASCADE, related_name="unit_links")
    decision_unit = models.ForeignKey("knowledge.DecisionUnit", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "persona", "decision_unit"], name="personas_unit_link_once")
        ]
