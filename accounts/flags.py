"""Feature flags: seed 002 `app_settings` rows read through one cached helper.

A flag is the `AppSetting` row `feature.<name>` whose value is

    {"enabled": true, "accounts": {"<account id>": false, ...}}

`enabled` is the platform-wide switch; `accounts` overrides it for single
accounts (an operator switches the marketplace off for one account, or turns a
beta integration on for one). A missing row means the flag's default (`FLAGS`).
Operators edit them in the admin (accounts admin "App settings": the feature
form). Lives in `accounts`, the lowest layer, so every app can honour a flag.

Reads go through Django's cache (Redis, so every process sees a change within
FEATURE_FLAGS_CACHE_SECONDS; the admin's save deletes the key at once) and a
per-request memo is not needed: a flag read is one cache GET.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext

from aiplatform.errors import ServiceError

PREFIX = "feature."
_CACHE = "flags:v1:"
_MISSING = {"__missing__": True}


@dataclass(frozen=True)
class Flag:
    name: str
    default: bool
    description: str


# Every flag the code reads. A flag not listed here cannot be read (a typo fails loudly).
FLAGS: dict[str, Flag] = {
    f.name: f
    for f in (
        Flag("marketplace", True, "Component library sharing, marketplace listings and purchases."),
        Flag("integration.wordpress", True, "Publishing campaigns to WordPress."),
        Flag("integration.gohighlevel", True, "GoHighLevel: leads, email templates and funnel redirects."),
        Flag("integration.simvoly", True, "Simvoly: contacts, page export and embed."),
        Flag("integration.custom", True, "Custom webhooks for campaign events and leads."),
        Flag("platform_analysis", True, "AI audits of imported pages and funnels."),
    )
}


class FeatureDisabled(ServiceError):
    status = 403
    code = "feature_disabled"


def setting_key(name: str) -> str:
    return PREFIX + name


def _raw(name: str) -> dict[str, Any] | None:
    from accounts.models import AppSetting  # the models load after this module

    key = _CACHE + name
    value = cache.get(key)
    if value is None:
        row = AppSetting.objects.filter(key=setting_key(name)).values_list("value", flat=True).first()
        value = row if isinstance(row, dict) else _MISSING
        cache.set(key, value, settings.FEATURE_FLAGS_CACHE_SECONDS)
    return None if value is _MISSING or value.get("__missing__") else value


def feature_enabled(name: str, *, account_id=None) -> bool:
    """Whether feature `name` is on for the platform, or for `account_id` when given."""
    flag = FLAGS[name]
    value = _raw(name)
    if value is None:
        return flag.default
    overrides = value.get("accounts")
    if account_id is not None and isinstance(overrides, dict) and str(account_id) in overrides:
        return bool(overrides[str(account_id)])
    enabled = value.get("enabled", flag.default)
    return bool(enabled)


def feature_require(name: str, *, account_id=None) -> None:
    """Raise FeatureDisabled (403, code feature_disabled) when the feature is off."""
    if not feature_enabled(name, account_id=account_id):
        raise FeatureDisabled(
            gettext("%(feature)s is switched off for this account. Contact support to enable it.")
            % {"feature": FLAGS[name].description.rstrip(".")}
        )


def feature_forget(name: str) -> None:
    """Drop the cached value (after an operator's change)."""
    cache.delete(_CACHE + name)


def feature_set(name: str, *, enabled: bool | None = None, account_id=None, account_value: bool | None = None) -> None:
    """Set the platform switch and/or one account's override (None removes it). Operator path."""
    from accounts.models import AppSetting

    flag = FLAGS[name]
    row, _ = AppSetting.objects.get_or_create(
        key=setting_key(name), defaults={"value": {"enabled": flag.default, "accounts": {}},
                                         "description": flag.description}
    )  # fmt: skip
    value = dict(row.value) if isinstance(row.value, dict) else {}
    value.setdefault("enabled", flag.default)
    overrides = dict(value.get("accounts") or {})
    if enabled is not None:
        value["enabled"] = bool(enabled)
    if account_id is not None:
        if account_value is None:
            overrides.pop(str(account_id), None)
        else:
            overrides[str(account_id)] = bool(account_value)
    value["accounts"] = overrides
    row.value = value
    row.save(update_fields=["value", "updated_at"])
    feature_forget(name)


def app_setting_value(key: str, default: Any = None) -> Any:
    """A plain (non-flag) app setting's value, e.g. "marketplace.fee_percent", through
    the same cache; `default` when the row is missing."""
    from accounts.models import AppSetting

    cache_key = _CACHE + "value:" + key
    value = cache.get(cache_key)
    if value is None:
        row = AppSetting.objects.filter(key=key).values_list("value", flat=True).first()
        value = {"v": row} if row is not None else _MISSING
        cache.set(cache_key, value, settings.FEATURE_FLAGS_CACHE_SECONDS)
    if value.get("__missing__"):
        return default
    return value["v"]


def app_setting_forget(key: str) -> None:
    if key.startswith(PREFIX):
        feature_forget(key.removeprefix(PREFIX))
    cache.delete(_CACHE + "value:" + key)
