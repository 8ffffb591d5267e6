"""Admin: connected channels (token state, last webhook; never the tokens), the raw
webhook deliveries with their processing result and a re-process action, and
customers. Admin requests run with row-level security lifted (TenantMiddleware),
so every account's rows show here."""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.utils.html import format_html

from channels_bot.models import ConnectedChannel, Customer, WebhookDelivery
from channels_bot.services.inbound import delivery_reprocess

BODY_PREVIEW_CHARS = 200_000


@admin.register(ConnectedChannel)
class ConnectedChannelAdmin(admin.ModelAdmin):
    list_display = ["channel_name", "platform_type", "account", "auth_state", "token_expires_at", "last_webhook_at",
                    "is_active"]  # fmt: skip
    list_filter = ["platform_type", "auth_state", "is_active"]
    search_fields = ["channel_name", "platform_specific_id", "account__name"]
    list_select_related = ["account"]
    # The tokens are never shown (not even encrypted); operators pause a channel, nothing else.
    fields = ["account", "platform_type", "platform_specific_id", "channel_name", "route", "page_id", "persona",
              "auth_state", "auth_error", "token_expires_at", "has_refresh_token", "last_webhook_at", "is_active",
              "created_by", "created_at", "updated_at"]  # fmt: skip
    readonly_fields = [f for f in fields if f != "is_active"]

    def has_add_permission(self, request):
        return False  # channels are connected by the account's admins through OAuth

    @admin.display(boolean=True, description="Refresh token")
    def has_refresh_token(self, obj: ConnectedChannel) -> bool:
        return bool(obj.refresh_token)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["received_at", "source", "status", "short_result", "account", "channel", "attempts",
                    "processed_at"]  # fmt: skip
    list_filter = ["source", "status"]
    search_fields = ["id", "result", "account__name", "channel__channel_name"]
    list_select_related = ["account", "channel"]
    date_hierarchy = "received_at"
    fields = ["id", "source", "status", "result", "account", "channel", "attempts", "received_at", "processed_at",
              "signature", "decoded_body"]  # fmt: skip
    readonly_fields = fields
    actions = ["reprocess"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Result")
    def short_result(self, obj: WebhookDelivery) -> str:
        return obj.result[:120]

    @admin.display(description="Body")
    def decoded_body(self, obj: WebhookDelivery) -> str:
        raw = bytes(obj.body or b"")
        try:
            shown = json.dumps(json.loads(raw), indent=2, ensure_ascii=False)
        except (ValueError, RecursionError):
            shown = raw.decode("utf-8", errors="replace")
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', shown[:BODY_PREVIEW_CHARS])

    @admin.action(description="Re-process the selected deliveries")
    def reprocess(self, request, queryset):
        done, busy = [], 0
        for delivery in queryset:
            outcome = delivery_reprocess(delivery=delivery)
            if outcome is None:
                busy += 1
            else:
                done.append(f"{delivery.pk}: {outcome.status} ({outcome.result[:200]})")
        for line in done:
            self.message_user(request, line, messages.SUCCESS)
        if busy:
            self.message_user(request, f"{busy} delivery(ies) are being processed right now; try again.",
                              messages.WARNING)  # fmt: skip


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["__str__", "platform_customer_id", "channel", "account", "first_seen_at", "last_seen_at"]
    list_filter = ["channel__platform_type"]
    search_fields = ["full_name", "platform_customer_id", "account__name"]
    list_select_related = ["channel", "account"]
    fields = ["account", "channel", "platform_customer_id", "full_name", "profile_picture_url", "profile_fetched_at",
              "first_seen_at", "last_seen_at"]  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
