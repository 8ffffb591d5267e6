"""Discovery of tenant tables, so that tables added by later apps are checked
without editing the tests."""

from __future__ import annotations

from django.apps import apps
from django.db import models

from accounts.models import Account


def tenant_models() -> list[type[models.Model]]:
    """Every concrete model with a foreign key named `account` to Account, plus Account."""
    found = [Account]
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        try:
            field = model._meta.get_field("account")
        except Exception:
            continue
        if isinstance(field, models.ForeignKey) and field.related_model is Account:
            found.append(model)
    return found


def tenant_tables() -> list[str]:
    return sorted({m._meta.db_table for m in tenant_models()})
