"""No credits for filler: services whose template runs on the offline model.

The offline model (provider "local") answers honestly that it is offline; it
cannot give a real reading. A paid service whose template would run on it is,
by the operator's setting SERVICES_OFFLINE_MODEL:

* "demo" (the default): free, and labelled DEMO_LABEL in the catalog, on the
  service page, on its results and in the API (`demo`, `demo_label`);
* "unavailable": refused (503 service_unavailable), nothing held or charged.

`manage.py check --deploy` warns about every paid service and public platform
persona that would use the offline model (templates.W001, templates.W002).
"""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Warning, register
from django.utils.translation import gettext_noop

from aiplatform.ai.errors import ModelUnavailable
from aiplatform.ai.registry import model_entry

OFFLINE_PROVIDER = "local"
DEMO_LABEL = gettext_noop("demo model, not a real reading")
POLICIES = ("demo", "unavailable")


def offline_policy() -> str:
    policy = getattr(settings, "SERVICES_OFFLINE_MODEL", "demo")
    return policy if policy in POLICIES else "demo"


def uses_offline_model(model_name: str) -> bool:
    """Whether the registry sends `model_name` to the offline model (unknown: no)."""
    if not model_name:
        return False
    try:
        return model_entry(model_name).provider == OFFLINE_PROVIDER
    except ModelUnavailable:
        return False


def offline_service_types() -> set[str]:
    """Codes of services whose active template runs on the offline model (one query)."""
    from templates.models import PromptTemplate

    active = PromptTemplate.objects.filter(is_active=True).values_list("service_type", "ai_model")
    return {code for code, model in active if uses_offline_model(model)}


@register(deploy=True)
def offline_model_check(app_configs=None, **kwargs) -> list[Warning]:
    """Deploy check: paid services and platform personas on the offline model."""
    from django.db import DatabaseError

    try:
        from personas.models import Persona
        from templates.models import PromptTemplate, Service

        paid = list(Service.objects.filter(is_active=True, credit_cost__gt=0).values_list("service_type", flat=True))
        templates = PromptTemplate.objects.filter(is_active=True, service_type__in=paid).values_list(
            "service_type", "ai_model"
        )
        services = sorted({code for code, model in templates if uses_offline_model(model)})
        personas = sorted(
            name
            for name, config in Persona.objects.filter(account__isnull=True).values_list("name", "model_config")
            if uses_offline_model(str((config or {}).get("model", "")))
        )
    except DatabaseError:  # no database to read (checks run before migrate too)
        return []
    found = []
    if services:
        outcome = "refused" if offline_policy() == "unavailable" else "given away free, labelled as a demo"
        found.append(
            Warning(
                f"Paid services run on the offline model, which cannot give a real reading: {', '.join(services)} "
                f"(they are {outcome}).",
                hint="Activate templates on a real model (AI registry), or set SERVICES_OFFLINE_MODEL=unavailable.",
                id="templates.W001",
            )
        )
    if personas:
        found.append(
            Warning(
                f"Platform personas answer with the offline model: {', '.join(personas)}.",
                hint="Give them a real model in their model configuration.",
                id="templates.W002",
            )
        )
    return found
