"""Admin: conversations (with their messages, read-only, and links to the
customer's orders) and messages (read-only). Operators look; they do not write
to a customer from here (answers go through the inbox, which applies the
platform's windows and records who sent what). Admin requests run with
row-level security lifted (TenantMiddleware), so every account's rows show."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from channels_bot.models import Conversation, ConversationMessage, Order

MESSAGE_FIELDS = ["timestamp", "sender_type", "content_type", "content", "delivery_state", "error_code",
                  "error_message", "platform_message_id", "sent_by", "credits_charged"]  # fmt: skip


class MessageInline(admin.TabularInline):
    model = ConversationMessage
    fields = MESSAGE_FIELDS
    readonly_fields = MESSAGE_FIELDS
    extra = 0
    can_delete = False
    show_change_link = True
    ordering = ["timestamp", "id"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("sent_by")


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["__str__", "customer", "channel", "account", "status", "handler", "needs_human", "unread_count",
                    "last_message_at"]  # fmt: skip
    list_filter = ["status", "handler", "needs_human", "channel__platform_type"]
    search_fields = ["customer__full_name", "customer__platform_customer_id", "channel__channel_name", "account__name"]
    list_select_related = ["customer", "channel", "account"]
    date_hierarchy = "last_message_at"
    fields = ["account", "channel", "customer", "status", "handler", "needs_human", "assigned_to", "unread_count",
              "started_at", "last_message_at", "last_customer_message_at", "order_state", "orders"]  # fmt: skip
    readonly_fields = fields
    inlines = [MessageInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Orders of this customer")
    def orders(self, obj: Conversation):
        found = Order.objects.filter(customer_id=obj.customer_id).order_by("-created_at")[:50]
        if not found:
            return "—"
        return format_html_join(
            format_html("<br>"), '<a href="{}">{}</a> · {} · {} {}',
            ((reverse("admin:channels_bot_order_change", args=[o.pk]), str(o.pk)[:8], o.get_order_status_display(),
              o.total_amount, o.currency) for o in found),
        )  # fmt: skip


@admin.register(ConversationMessage)
class ConversationMessageAdmin(admin.ModelAdmin):
    list_display = ["__str__", "sender_type", "content_type", "delivery_state", "channel", "account", "timestamp"]
    list_filter = ["sender_type", "content_type", "delivery_state", "channel__platform_type"]
    search_fields = ["content", "platform_message_id", "conversation__customer__full_name"]
    list_select_related = ["channel", "account"]
    date_hierarchy = "timestamp"
    fields = ["account", "channel", "conversation_link", *MESSAGE_FIELDS, "payload", "reply_to", "attempts"]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Conversation")
    def conversation_link(self, obj: ConversationMessage):
        url = reverse("admin:channels_bot_conversation_change", args=[obj.conversation_id])
        return format_html('<a href="{}">{}</a>', url, obj.conversation)
