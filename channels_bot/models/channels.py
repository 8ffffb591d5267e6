from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.tenancy.models import TenantModel
from personas.fields import EncryptedTextField

from .platforms import Platform, WebhookSource


class ConnectedChannel(TenantModel):
    """Seed 004 `ConnectedChannels`: one page or profile an account connected.

    The tenant of every inbound event is this row's account, found by
    (`platform_type`, `platform_specific_id`); a payload never names the tenant.
    Tokens are Fernet-encrypted like persona prompts (`manage.py channel_tokens_reencrypt`).
    """

    class AuthState(models.TextChoices):
        OK = "ok", _("Connected")
        NEEDS_RECONNECT = "needs_reconnect", _("Needs reconnecting")

    class Route(models.TextChoices):
        """How the channel was connected: Instagram has two, the others one."""

        FACEBOOK_LOGIN = "facebook_login", "Facebook Login"
        INSTAGRAM_LOGIN = "instagram_login", "Instagram Login"
        X_OAUTH2 = "x_oauth2", "X OAuth 2.0"
        LINKEDIN_OAUTH = "linkedin_oauth", "LinkedIn OAuth"

    platform_type = models.CharField(max_length=24, choices=Platform.choices)
    platform_specific_id = models.CharField(
        max_length=128, help_text=_("Page id, IG account id, X user id, LinkedIn organization id.")
    )
    channel_name = models.CharField(max_length=200)
    route = models.CharField(max_length=20, choices=Route.choices)
    # Instagram via a Facebook Page sends through the page: its id (empty otherwise).
    page_id = models.CharField(max_length=128, blank=True)
    access_token = EncryptedTextField()
    refresh_token = EncryptedTextField(null=True, blank=True)
    token_expires_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(
        default=True, help_text=_("Off: webhooks are acknowledged and ignored, the bot does not answer.")
    )
    persona = models.ForeignKey("personas.Persona", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    auth_state = models.CharField(max_length=20, choices=AuthState.choices, default=AuthState.OK)
    auth_error = models.CharField(max_length=500, blank=True)
    last_webhook_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # A page belongs to one account: its webhooks must resolve to exactly one tenant.
            models.UniqueConstraint(fields=["platform_type", "platform_specific_id"], name="channels_bot_channel_once"),
        ]
        indexes = [models.Index(fields=["account", "platform_type"], name="channels_bot_channel_account")]

    def __str__(self) -> str:
        return f"{self.get_platform_type_display()}: {self.channel_name}"

    @property
    def needs_reconnect(self) -> bool:
        return self.auth_state == self.AuthState.NEEDS_RECONNECT


class WebhookDelivery(models.Model):
    """One verified POST to a webhook endpoint, stored raw before any parsing.

    Not a `TenantModel`: the account is only known once the payload is read and
    its channel found (an unknown page has none). Row-level security still
    applies (migration): an account sees the deliveries resolved to it; the
    receiving endpoint and the processing task write under a named `rls_bypass`.
    """

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        PROCESSED = "processed", _("Processed")
        IGNORED = "ignored", _("Ignored")
        FAILED = "failed", _("Failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    source = models.CharField(max_length=10, choices=WebhookSource.choices)
    body = models.BinaryField(help_text=_("The raw bytes that were signed."))
    signature = models.CharField(max_length=200, blank=True)
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    channel = models.ForeignKey(ConnectedChannel, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    result = models.TextField(blank=True, help_text=_("What processing did, or why it ignored or failed the delivery."))
    attempts = models.PositiveSmallIntegerField(default=0)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = _("webhook deliveries")  # Django's derived plural is "deliverys"
        indexes = [
            models.Index(fields=["received_at"], name="channels_bot_delivery_recv"),
            models.Index(
                fields=["received_at"], condition=models.Q(status="received"), name="channels_bot_delivery_open"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} delivery {self.id}"
