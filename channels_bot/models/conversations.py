from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.tenancy.models import TenantModel


class Conversation(TenantModel):
    """Seed 004 `Chats`: the thread with one customer on one channel.

    `handler` says who answers: the bot, or a human agent who took over (in the
    inbox, or by replying from the platform's own inbox: an echo that is not
    ours). `order_state` is the bot's place in taking an order (basket, address).
    """

    class Status(models.TextChoices):
        OPEN = "OPEN", _("Open")
        CLOSED_BY_BOT = "CLOSED_BY_BOT", _("Closed by the bot")
        CLOSED_BY_AGENT = "CLOSED_BY_AGENT", _("Closed by an agent")
        ARCHIVED = "ARCHIVED", _("Archived")

    class Handler(models.TextChoices):
        BOT = "bot", _("Bot")
        HUMAN = "human", _("Human agent")

    customer = models.ForeignKey("channels_bot.Customer", on_delete=models.CASCADE, related_name="conversations")
    channel = models.ForeignKey("channels_bot.ConnectedChannel", on_delete=models.CASCADE, related_name="conversations")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    handler = models.CharField(max_length=6, choices=Handler.choices, default=Handler.BOT)
    needs_human = models.BooleanField(
        default=False, help_text=_("The bot could not help (no credits, an error, asked for a person).")
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    unread_count = models.PositiveIntegerField(default=0)
    order_state = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    last_message_at = models.DateTimeField(default=timezone.now)
    # The 24-hour (bot) and 7-day (human agent tag) windows run from here.
    last_customer_message_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_message_at", "-id"]
        indexes = [models.Index(fields=["account", "status", "-last_message_at"], name="channels_bot_conv_inbox")]

    def __str__(self) -> str:
        return f"Conversation {str(self.id)[:8]}"


class ConversationMessage(TenantModel):
    """Seed 004 `Messages`. `content` is the text (for structured types the text a
    customer without rich rendering sees); `payload` the JSON of quick replies,
    carousels and attachments. A bot answer names the customer message it
    answers (`reply_to`): one answer per message, whatever is redelivered."""

    class Sender(models.TextChoices):
        BOT = "BOT", _("Bot")
        CUSTOMER = "CUSTOMER", _("Customer")
        AGENT = "AGENT", _("Agent")

    class ContentType(models.TextChoices):
        TEXT = "TEXT", _("Text")
        IMAGE = "IMAGE", _("Image")
        VIDEO = "VIDEO", _("Video")
        AUDIO = "AUDIO", _("Audio")
        FILE = "FILE", _("File")
        QUICK_REPLY = "QUICK_REPLY", _("Quick replies")
        CAROUSEL = "CAROUSEL", _("Carousel")

    class Delivery(models.TextChoices):
        RECEIVED = "received", _("Received")  # inbound
        PENDING = "pending", _("Sending")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        READ = "read", _("Read")
        FAILED = "failed", _("Failed")

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    channel = models.ForeignKey("channels_bot.ConnectedChannel", on_delete=models.CASCADE, related_name="+")
    sender_type = models.CharField(max_length=8, choices=Sender.choices)
    content_type = models.CharField(max_length=12, choices=ContentType.choices, default=ContentType.TEXT)
    content = models.TextField(blank=True)
    payload = models.JSONField(default=dict, blank=True)
    timestamp = models.DateTimeField(default=timezone.now)
    platform_message_id = models.CharField(max_length=255, blank=True)
    delivery_state = models.CharField(max_length=10, choices=Delivery.choices, default=Delivery.PENDING)
    error_code = models.CharField(max_length=50, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    reply_to = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    credits_charged = models.DecimalField(max_digits=18, decimal_places=4, default=0)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["timestamp", "id"]
        indexes = [models.Index(fields=["conversation", "timestamp"], name="channels_bot_msg_thread")]
        constraints = [
            # Redelivered webhooks and our own echoes find the row they already made.
            models.UniqueConstraint(
                fields=["channel", "platform_message_id"],
                condition=~models.Q(platform_message_id=""),
                name="channels_bot_msg_platform_once",
            ),  # fmt: skip
            # The bot answers a customer message once.
            models.UniqueConstraint(
                fields=["reply_to"],
                condition=models.Q(sender_type="BOT", reply_to__isnull=False),
                name="channels_bot_msg_one_answer",
            ),  # fmt: skip
        ]

    def __str__(self) -> str:
        return f"{self.sender_type}: {self.content[:40]}"
