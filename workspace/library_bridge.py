"""Saving a campaign component to the component library, and adding a library
component to a campaign.

The web builder (canvas) and the component library (templates) are sibling apps
that never import each other (the layer contract); the app shell sits above both,
so the one step that needs both lives here: read the account's component through
canvas, save a copy through the library's service (which sanitises the code
again and keeps `source_component_id`, so a shared item can name where it came from).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext

from accounts.models import Account, Membership
from accounts.tenancy.context import account_context
from aiplatform.errors import NotFound
from canvas.models import CampaignComponent, CampaignStatus
from canvas.services.builder.campaigns import campaign_for_account, campaigns_search
from canvas.services.builder.components import component_create
from templates.models import LibraryComponent
from templates.services.library import library_component_own, library_component_save

PROPS_SCHEMA_TYPES = {str: "string", bool: "boolean", int: "integer", float: "number"}


def _props_schema(props: dict[str, Any]) -> dict[str, Any]:
    """A JSON Schema that describes the component's props (so a buyer sees what to fill in)."""
    properties = {
        key: {"type": PROPS_SCHEMA_TYPES.get(type(value), "string"), "default": value}
        for key, value in props.items()
        if isinstance(value, str | bool | int | float)
    }
    return {"type": "object", "properties": properties} if properties else {}


def campaign_component(account: Account, component_id: Any) -> CampaignComponent:
    """The account's campaign component `component_id` (NotFound otherwise)."""
    with account_context(account.id):
        component = (
            CampaignComponent.objects.filter(account=account, pk=component_id).select_related("campaign").first()
        )
    if component is None:
        raise NotFound(gettext("No such component in this account."))
    return component


def library_item(account: Account, library_id: Any) -> LibraryComponent:
    """One of the account's own library items (NotFound otherwise)."""
    with account_context(account.id):
        return library_component_own(account, library_id)


def component_to_library(
    *, account: Account, actor: Membership, component_id: Any, description: str = "", tags: Any = None
) -> LibraryComponent:
    """A private library item made from the account's campaign component `component_id`
    (404 for another account's); members and above (the library's rule)."""
    component = campaign_component(account, component_id)
    origin = gettext("From the campaign “%(campaign)s”.") % {"campaign": component.campaign.name}
    data = {
        "name": component.name, "component_type": component.component_type, "code": component.code,
        "css_styles": component.css_styles, "props_schema": _props_schema(component.props or {}),
        "description": description or origin,
        "category": component.component_type.replace("_", " "), "preview_image_url": component.preview_url,
    }  # fmt: skip
    if tags is not None:
        data["tags"] = tags
    return library_component_save(account=account, actor=actor, data=data, source_component_id=component.pk)


def _props_from_schema(schema: dict[str, Any]) -> dict[str, Any]:
    return {key: spec["default"] for key, spec in (schema.get("properties") or {}).items()
            if isinstance(spec, dict) and "default" in spec}  # fmt: skip


def campaigns_to_add_to(account: Account):
    """The account's campaigns a component can be added to (not archived), newest first."""
    with account_context(account.id):
        return list(campaigns_search(account).exclude(status=CampaignStatus.ARCHIVED).order_by("-created_at")[:200])


def library_to_campaign(*, account: Account, actor: Membership, library_id: Any, campaign_id: Any) -> CampaignComponent:
    """One of the account's library items (its own, or a copy it used or bought) added
    at the end of one of its campaigns, as a new component (the builder's rules:
    members and above, not an archived campaign, code sanitised)."""
    item = library_item(account, library_id)
    with account_context(account.id):
        campaign = campaign_for_account(account, campaign_id)
    data = {
        "name": item.name, "component_type": item.component_type, "code": item.code,
        "css_styles": item.css_styles, "props": _props_from_schema(item.props_schema or {}),
    }  # fmt: skip
    return component_create(campaign=campaign, actor=actor, data=data)
