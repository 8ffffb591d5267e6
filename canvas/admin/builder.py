"""Admin of the web builder: campaigns (with their components inline),
components, AI generations with tokens, cost and credits, the builder job
queue (retry and cancel through the queue's services), and the tracker's events
and conversions (read only). Status changes go through the campaign service (the
status machine)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Sum

from aiplatform.admin import ReadOnlyAdmin
from aiplatform.errors import ServiceError
from canvas.models import (
    AIGeneration,
    BuilderJob,
    Campaign,
    CampaignComponent,
    CampaignEvent,
    CampaignPage,
    CampaignStatus,
    Conversion,
)

from .queue import JobAdmin


class ComponentInline(admin.TabularInline):
    model = CampaignComponent
    fields = ["name", "component_type", "version", "is_current", "sort_order", "views", "clicks", "conversions"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


def _transition(status: str, label: str):
    @admin.action(description=label)
    def act(modeladmin, request, queryset):
        from canvas.services.builder.campaigns import campaign_transition

        done = 0
        for campaign in queryset:
            try:
                campaign_transition(campaign=campaign, actor=None, status=status)
                done += 1
            except ServiceError as exc:
                modeladmin.message_user(request, f"{campaign}: {exc.message}", messages.WARNING)
        if done:
            modeladmin.message_user(request, f"{done} campaign(s) now {status}.")

    act.__name__ = f"make_{status}"
    return act


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "account", "status", "campaign_type", "views", "conversions", "revenue_generated",
                    "launched_at", "created_at"]  # fmt: skip
    list_filter = ["status", "campaign_type"]
    search_fields = ["name", "slug", "account__name", "custom_domain"]
    list_select_related = ["account"]
    readonly_fields = ["account", "created_by", "status", "views", "conversions", "revenue_generated", "launched_at",
                       "created_at", "updated_at"]  # fmt: skip
    exclude = ["search_vector"]
    inlines = [ComponentInline]
    actions = [_transition(CampaignStatus.PAUSED, "Pause (launched campaigns)"),
               _transition(CampaignStatus.ARCHIVED, "Archive")]  # fmt: skip


@admin.register(CampaignComponent)
class CampaignComponentAdmin(admin.ModelAdmin):
    list_display = ["name", "campaign", "account", "component_type", "version", "is_current", "views", "clicks",
                    "conversions", "engagement_score"]  # fmt: skip
    list_filter = ["component_type", "is_current"]
    search_fields = ["name", "campaign__name"]
    list_select_related = ["campaign", "account"]
    readonly_fields = ["account", "campaign", "parent_component", "version", "code", "views", "clicks", "conversions",
                       "ai_generation_metadata", "created_at"]  # fmt: skip


@admin.register(CampaignPage)
class CampaignPageAdmin(admin.ModelAdmin):
    list_display = ["campaign", "account", "version", "is_published", "published_at", "updated_at"]
    list_filter = ["is_published"]
    list_select_related = ["campaign", "account"]
    readonly_fields = ["account", "campaign", "version", "project_data", "html", "css", "is_published",
                       "published_at", "saved_by"]  # fmt: skip


@admin.register(AIGeneration)
class AIGenerationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "account", "generation_type", "status", "model_used", "prompt_tokens",
                    "completion_tokens", "cost", "credits_charged", "iterations", "user_rating",
                    "accepted"]  # fmt: skip
    list_filter = ["generation_type", "status", "model_used", "accepted"]
    search_fields = ["prompt_text", "account__name", "campaign__name"]
    list_select_related = ["account"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in AIGeneration._meta.fields]

    def has_add_permission(self, request):
        return False

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        try:
            qs = response.context_data["cl"].queryset
        except (AttributeError, KeyError):
            return response
        totals = qs.aggregate(cost=Sum("cost"), credits=Sum("credits_charged"))
        response.context_data["title"] = (
            f"AI generations: ${totals['cost'] or 0:.4f} provider cost, {totals['credits'] or 0:.2f} credits"
        )
        return response


@admin.register(BuilderJob)
class BuilderJobAdmin(JobAdmin):
    job_store = "builder"
    list_display = ["job_type", "account", "status", "progress", "priority", "attempts", "max_attempts",
                    "scheduled_at", "error_message"]  # fmt: skip
    list_filter = ["job_type", "status"]
    search_fields = ["account__name", "task_id"]
    list_select_related = ["account"]
    readonly_fields = [f.name for f in BuilderJob._meta.fields]


class _TrackerRows(ReadOnlyAdmin):
    """Rows the tracker's writer owns. The tables grow by the million, so the list
    does not count them all."""

    show_full_result_count = False
    list_select_related = ["account", "campaign"]


@admin.register(CampaignEvent)
class CampaignEventAdmin(_TrackerRows):
    list_display = ["created_at", "event_type", "campaign", "account", "component", "utm_source", "country"]
    list_filter = ["event_type"]
    search_fields = ["=campaign__id", "=session_id"]
    raw_id_fields = ["campaign", "component"]


@admin.register(Conversion)
class ConversionAdmin(_TrackerRows):
    list_display = ["created_at", "conversion_type", "value", "currency", "campaign", "account", "source", "medium"]
    list_filter = ["conversion_type", "currency"]
    search_fields = ["=campaign__id", "campaign__name"]
    raw_id_fields = ["campaign", "component", "event"]
