"""Reads of the service catalog and of an account's results."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from templates.models import PromptTemplate, Service, ServiceResult

LANGUAGES = ("en", "ko")


def language_of(request, requested: str | None = None) -> str:
    """`?lang=` when it is one we speak, else the request's language, else English."""
    for candidate in (requested, getattr(request, "LANGUAGE_CODE", None)):
        if candidate and candidate[:2].lower() in LANGUAGES:
            return candidate[:2].lower()
    return "en"


def services_active() -> QuerySet[Service]:
    return Service.objects.filter(is_active=True)


def service_versions(service: Service) -> list[str]:
    return list(
        PromptTemplate.objects.filter(service_type=service.service_type)
        .order_by("created_at")
        .values_list("version", flat=True)
    )


def results_live(queryset: QuerySet[ServiceResult]) -> QuerySet[ServiceResult]:
    """Results not past their 12 months (the sweep deletes those within the hour)."""
    return queryset.filter(expires_at__gt=timezone.now())


def results_of(account) -> QuerySet[ServiceResult]:
    return results_live(ServiceResult.objects.filter(account=account)).select_related("service", "user")
