"""Operators' view of the publishing integrations, publications and platform
analyses. Credentials are never shown (they stay encrypted); operators can
see status, errors and costs, and mark an integration for reconnecting."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from aiplatform.admin import ReadOnlyAdmin
from canvas.models import CampaignPublication, PlatformAnalysis, PlatformIntegration


class PublicationInline(admin.TabularInline):
    model = CampaignPublication
    extra = 0
    fields = ["campaign", "target", "status", "external_id", "external_url", "error_message", "last_published_at"]
    readonly_fields = fields
    can_delete = False


@admin.register(PlatformIntegration)
class PlatformIntegrationAdmin(admin.ModelAdmin):
    list_display = ["platform_type", "account", "connection_status", "account_name", "sync_status", "last_sync_at"]
    list_filter = ["platform_type", "connection_status", "sync_status"]
    search_fields = ["account_name", "account_email"]
    exclude = ["encrypted_credentials"]
    readonly_fields = ["account", "created_by", "platform_type", "account_name", "account_email", "platform_metadata",
                       "last_sync_at", "sync_status", "sync_error_message", "created_at", "updated_at"]  # fmt: skip
    inlines = [PublicationInline]
    actions = ["ask_reconnect"]

    @admin.action(description=_("Ask the account to reconnect (credentials suspected leaked or revoked)"))
    def ask_reconnect(self, request, queryset):
        n = queryset.update(connection_status="error", sync_status="error",
                            sync_error_message="An operator asked for this integration to be reconnected.")  # fmt: skip
        self.message_user(request, _("%(n)d integration(s) must be reconnected.") % {"n": n})


@admin.register(PlatformAnalysis)
class PlatformAnalysisAdmin(admin.ModelAdmin):
    list_display = ["analysis_type", "account", "status", "ai_model_used", "ai_cost", "credits_charged",
                    "processing_time_seconds", "created_at"]  # fmt: skip
    list_filter = ["analysis_type", "status", "ai_model_used"]
    search_fields = ["source_url", "source_ref"]
    readonly_fields = [f.name for f in PlatformAnalysis._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(CampaignPublication)
class CampaignPublicationAdmin(ReadOnlyAdmin):
    """Where each campaign went and how it went (re-publishing is the user's,
    from the campaign page, so it runs with their integration and credits)."""

    list_display = ["campaign", "integration", "account", "target", "status", "external_url", "last_published_at"]
    list_filter = ["status", "target", "integration__platform_type"]
    search_fields = ["campaign__name", "external_id", "account__name"]
    list_select_related = ["campaign", "integration", "account"]
