"""Operators: the catalog, prompt template versions (side-by-side diff,
activate, roll back, new version from one), A/B experiments (live counts,
ratings, p-value and winner by the stated rule) and results (read-only)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from aiplatform.errors import ServiceError

from .models import PromptExperiment, PromptTemplate, Service, ServiceResult
from .services import experiments, versions


def _log(request, obj, message: str) -> None:
    LogEntry.objects.log_actions(
        user_id=request.user.pk, queryset=[obj], action_flag=CHANGE, change_message=message, single_object=True
    )


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["icon", "service_type", "name_en", "name_ko", "category", "credit_cost", "is_active", "sort_order"]
    list_display_links = ["service_type"]
    list_editable = ["is_active", "sort_order"]
    list_filter = ["category", "is_active"]
    search_fields = ["service_type", "name_en", "name_ko"]


@admin.register(PromptTemplate)
class PromptTemplateAdmin(admin.ModelAdmin):
    list_display = ["service_type", "version", "is_active", "ai_model", "output_format", "usage_count", "avg_tokens",
                    "avg_response_time_ms", "activated_at", "updated_at"]  # fmt: skip
    list_filter = ["service_type", "is_active", "output_format", "ai_model"]
    search_fields = ["service_type", "version", "description", "author"]
    ordering = ["service_type", "-created_at"]
    actions = ["activate", "roll_back", "new_version", "compare"]
    readonly_fields = ["is_active", "activated_at", "usage_count", "avg_tokens", "avg_response_time_ms", "created_by",
                       "created_at", "updated_at", "compare_links"]  # fmt: skip
    fieldsets = [
        (None, {"fields": ["service_type", "version", "is_active", "activated_at", "compare_links"]}),
        ("Prompt", {"fields": ["system_prompt", "user_prompt_template", "parameters"],
                    "description": "Placeholders are {{name}}; every one needs a parameter of that name."}),
        ("Output", {"fields": ["output_format", "validation_schema"]}),
        ("Model", {"fields": ["ai_model", "temperature", "max_tokens"]}),
        ("About", {"fields": ["description", "author", "created_by", "created_at", "updated_at"]}),
        ("Statistics", {"fields": ["usage_count", "avg_tokens", "avg_response_time_ms"]}),
    ]  # fmt: skip

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.is_frozen:
            # Results point at this text: changes go into a new version ("New version from this").
            return [f.name for f in self.model._meta.fields if f.name not in ("id",)] + ["compare_links"]
        return self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return obj is None or not obj.is_frozen

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description="Compare")
    def compare_links(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        others = PromptTemplate.objects.filter(service_type=obj.service_type).exclude(pk=obj.pk).order_by("-created_at")
        links = [
            format_html(
                '<a href="{}">{}{}</a>',
                reverse("admin:templates_prompttemplate_diff", args=[o.pk, obj.pk]),
                o.version,
                " (active)" if o.is_active else "",
            )  # fmt: skip
            for o in others[:10]
        ]
        return format_html(" · ".join(["{}"] * len(links)), *links) if links else "—"

    def get_urls(self):
        return [
            path(
                "<uuid:a>/diff/<uuid:b>/",
                self.admin_site.admin_view(self.diff_view),
                name="templates_prompttemplate_diff",
            ),  # fmt: skip
            *super().get_urls(),
        ]

    def diff_view(self, request, a, b):
        left, right = self.get_object(request, str(a)), self.get_object(request, str(b))
        if left is None or right is None:
            self.message_user(request, "One of these versions no longer exists.", messages.WARNING)
            return redirect("admin:templates_prompttemplate_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": f"{left.service_type}: {left.version} ↔ {right.version}",
            "diff": versions.template_diff(left, right),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/templates/prompttemplate/diff.html", context)

    def _one(self, request, queryset) -> PromptTemplate | None:
        if queryset.count() != 1:
            self.message_user(request, "Choose exactly one version.", messages.WARNING)
            return None
        return queryset.get()

    @admin.action(description="Activate the selected version (the current one stops)")
    def activate(self, request, queryset):
        template = self._one(request, queryset)
        if template is None:
            return
        try:
            versions.template_activate(template=template, actor=request.user)
        except ServiceError as exc:
            self.message_user(request, f"{exc.message} {exc.fields or ''}", messages.ERROR)
            return
        _log(request, template, "activated")
        self.message_user(request, f"{template.service_type} now runs {template.version}.")

    @admin.action(description="Roll back: reactivate the previously active version")
    def roll_back(self, request, queryset):
        for service_type in sorted(set(queryset.values_list("service_type", flat=True))):
            try:
                template = versions.template_rollback(service_type=service_type, actor=request.user)
            except ServiceError as exc:
                self.message_user(request, exc.message, messages.WARNING)
                continue
            _log(request, template, "activated by roll back")
            self.message_user(request, f"{service_type} rolled back to {template.version}.")

    @admin.action(description="New version from this one (a copy to edit)")
    def new_version(self, request, queryset):
        template = self._one(request, queryset)
        if template is None:
            return None
        try:
            copy = versions.template_new_version(template=template, actor=request.user)
        except ServiceError as exc:
            self.message_user(request, f"{exc.message} {exc.fields or ''}", messages.ERROR)
            return None
        self.message_user(request, f"{copy.version} created from {template.version}; edit it, then activate it.")
        return redirect(reverse("admin:templates_prompttemplate_change", args=[copy.pk]))

    @admin.action(description="Compare two selected versions side by side")
    def compare(self, request, queryset):
        chosen = list(queryset.order_by("created_at")[:3])
        if len(chosen) != 2:
            self.message_user(request, "Choose exactly two versions to compare.", messages.WARNING)
            return None
        return redirect(reverse("admin:templates_prompttemplate_diff", args=[chosen[0].pk, chosen[1].pk]))


def _arm(version: str, results: int, ratings: int, avg) -> str:
    return f"{version}: {results} / {ratings} / {avg if avg is not None else '—'}"


@admin.register(PromptExperiment)
class PromptExperimentAdmin(admin.ModelAdmin):
    list_display = ["__str__", "service_type", "status", "traffic_split", "arm_a", "arm_b", "p_value", "verdict",
                    "winner", "started_at"]  # fmt: skip
    list_filter = ["status", "service_type"]
    list_select_related = ["template_a", "template_b"]
    actions = ["start", "pause", "complete", "cancel", "declare_winner"]
    readonly_fields = ["status", "started_at", "ended_at", "winner", "version_a_count", "version_b_count",
                       "version_a_avg_rating", "version_b_avg_rating", "version_a_ratings", "version_b_ratings",
                       "version_a_satisfied", "version_b_satisfied", "p_value", "verdict", "created_by",
                       "created_at"]  # fmt: skip
    fieldsets = [
        (None, {"fields": ["name", "service_type", "template_a", "template_b", "traffic_split"]}),
        ("State", {"fields": ["status", "started_at", "ended_at", "winner"]}),
        ("Results", {
            "fields": [("version_a_count", "version_b_count"), ("version_a_ratings", "version_b_ratings"),
                       ("version_a_satisfied", "version_b_satisfied"),
                       ("version_a_avg_rating", "version_b_avg_rating"), "p_value", "verdict"],
            "description": f"Winner rule: {experiments.WINNER_RULE}",
        }),
        ("About", {"fields": ["created_by", "created_at"]}),
    ]  # fmt: skip

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status != PromptExperiment.Status.DRAFT:
            # Arms and split are fixed once users were assigned by them.
            return [*self.readonly_fields, "name", "service_type", "template_a", "template_b", "traffic_split"]
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description="A: results / ratings / avg")
    def arm_a(self, obj):
        return _arm(obj.template_a.version, obj.version_a_count, obj.version_a_ratings, obj.version_a_avg_rating)

    @admin.display(description="B: results / ratings / avg")
    def arm_b(self, obj):
        return _arm(obj.template_b.version, obj.version_b_count, obj.version_b_ratings, obj.version_b_avg_rating)

    @admin.display(description="p-value")
    def p_value(self, obj):
        p = experiments.experiment_evaluate(obj).p_value
        return "—" if p is None else f"{p:.4f}"

    @admin.display(description="Verdict")
    def verdict(self, obj):
        return experiments.experiment_evaluate(obj).verdict

    def _each(self, request, queryset, change, done: str):
        for experiment in queryset:
            try:
                change(experiment=experiment, actor=request.user)
            except ServiceError as exc:
                self.message_user(request, f"{experiment}: {exc.message}", messages.WARNING)
            else:
                _log(request, experiment, done)
                self.message_user(request, f"{experiment}: {done}.")

    @admin.action(description="Start (or resume) the selected experiments")
    def start(self, request, queryset):
        self._each(request, queryset, experiments.experiment_start, "started")

    @admin.action(description="Pause the selected experiments")
    def pause(self, request, queryset):
        self._each(request, queryset, experiments.experiment_pause, "paused")

    @admin.action(description="Complete without activating anything")
    def complete(self, request, queryset):
        self._each(request, queryset, experiments.experiment_complete, "completed")

    @admin.action(description="Cancel the selected experiments (no winner, nothing activated)")
    def cancel(self, request, queryset):
        self._each(request, queryset, experiments.experiment_cancel, "cancelled")

    @admin.action(description="Declare the winner by the rule and activate its template")
    def declare_winner(self, request, queryset):
        self._each(request, queryset, experiments.experiment_declare_winner, "winner declared and activated")


@admin.register(ServiceResult)
class ServiceResultAdmin(admin.ModelAdmin):
    """Read-only: results are the customers' data; operators look, never edit."""

    list_display = ["created_at", "account", "user", "service", "status", "credits_charged", "template_version",
                    "ai_model", "tokens_used", "processing_time_ms", "rating", "is_public"]  # fmt: skip
    list_filter = ["status", "service", "is_public", "rating", "created_at"]
    search_fields = ["id", "user__email", "account__name", "template_version", "error_code"]
    list_select_related = ["account", "user", "service"]
    date_hierarchy = "created_at"
    exclude = ["share_token"]  # the link is the owner's secret

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

from . import admin_library  # noqa: E402,F401  (marketplace moderation)
