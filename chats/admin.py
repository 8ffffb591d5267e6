"""Operators: chats of every account, read-only (support and abuse review).
Messages are written by the chat services alone; an answer stuck `streaming` is
closed by the orphan sweep, not by hand."""

from __future__ import annotations

from django.contrib import admin

from .models import ChatSession, Message


class MessageInline(admin.TabularInline):
    model = Message
    fields = ["created_at", "sender", "status", "content", "tokens_in", "tokens_out", "credits_charged", "error_code"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["created_at", "id"]
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ChatSession)
class ChatSessionAdmin(_ReadOnly):
    list_display = ["title", "account", "user", "persona", "is_favorite", "last_active", "created_at"]
    list_filter = ["is_favorite"]
    search_fields = ["title", "user__email", "account__name"]
    list_select_related = ["account", "user", "persona"]
    readonly_fields = ["account", "user", "persona", "title", "is_favorite", "active_leaf", "last_active", "created_at"]
    inlines = [MessageInline]
    date_hierarchy = "last_active"


@admin.register(Message)
class MessageAdmin(_ReadOnly):
    list_display = ["created_at", "account", "session", "sender", "status", "model", "tokens_used", "credits_charged"]
    list_filter = ["status", "sender"]
    search_fields = ["content", "session__title"]
    list_select_related = ["account", "session"]
    readonly_fields = [f.name for f in Message._meta.fields]
