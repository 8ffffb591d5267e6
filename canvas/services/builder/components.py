"""Components edited by hand (the API's create, update, delete and reorder; the AI
writes them through generation.py).

A component's versions share its campaign and `sort_order` (its slot on the
page); one of them `is_current`. A manual edit is a new version whose parent is
the edited one, as a regeneration is, so an edit can be compared and undone.
HTML and CSS are sanitised here like everything else that reaches a page. An
archived campaign cannot be changed; members and above edit, viewers look.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext

from accounts.models import Membership
from accounts.tenancy.context import account_context
from aiplatform.errors import Conflict, InvalidInput
from canvas.models import Campaign, CampaignComponent, CampaignStatus, ComponentType

from .campaigns import _text, member_require
from .sanitize import css_clean, html_clean

CODE_MAX_CHARS = 200_000
PROPS_MAX_BYTES = 64_000
EXPORT_FORMATS = ("html", "react", "vue", "wordpress", "ghl", "simvoly", "mjml")
EDITABLE = ("name", "component_type", "code", "css_styles", "props", "export_formats")


def _editable(campaign: Campaign) -> None:
    if campaign.status == CampaignStatus.ARCHIVED:
        raise Conflict(gettext("This campaign is archived and cannot be changed."), code="campaign_archived")


def _fields(data: dict, *, partial: bool) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InvalidInput(gettext("Send the component's fields as an object."))
    unknown = sorted(set(data) - set(EDITABLE))
    if unknown:
        raise InvalidInput(gettext("These fields cannot be set: %(names)s.") % {"names": ", ".join(unknown)},
                           fields={name: ["Not editable."] for name in unknown})  # fmt: skip
    out: dict[str, Any] = {}
    if "name" in data or not partial:
        out["name"] = _text(data.get("name"), field="name", limit=255, required=True)
    if "component_type" in data or not partial:
        kind = data.get("component_type", ComponentType.CUSTOM)
        if kind not in ComponentType.values:
            raise InvalidInput(gettext("Choose a component type."),
                               fields={"component_type": [f"One of: {', '.join(ComponentType.values)}."]})  # fmt: skip
        out["component_type"] = kind
    for field, clean in (("code", html_clean), ("css_styles", css_clean)):
        if field in data or not partial:
            text = data.get(field) or ""
            if not isinstance(text, str) or len(text) > CODE_MAX_CHARS:
                raise InvalidInput(gettext("%(field)s is text of at most %(limit)s characters.")
                                   % {"field": field, "limit": CODE_MAX_CHARS},
                                   fields={field: ["Enter shorter text."]})  # fmt: skip
            out[field] = clean(text)
    if "props" in data or not partial:
        props = data.get("props") or {}
        if not isinstance(props, dict) or len(json.dumps(props)) > PROPS_MAX_BYTES:
            raise InvalidInput(gettext("props is an object of at most 64 KB."), fields={"props": ["Invalid."]})
        out["props"] = props
    if "export_formats" in data or not partial:
        formats = data.get("export_formats") or []
        if not isinstance(formats, list) or any(f not in EXPORT_FORMATS for f in formats):
            raise InvalidInput(gettext("Choose export formats among: %(formats)s.")
                               % {"formats": ", ".join(EXPORT_FORMATS)},
                               fields={"export_formats": ["Unknown format."]})  # fmt: skip
        out["export_formats"] = list(dict.fromkeys(formats))
    return out


def _locked_campaign(campaign: Campaign) -> Campaign:
    """The campaign row locked: one writer of its components at a time."""
    return Campaign.objects.select_for_update().get(pk=campaign.pk)


def component_create(*, campaign: Campaign, actor: Membership, data: dict) -> CampaignComponent:
    """A new component at the end of the page."""
    member_require(actor, "add components")
    _editable(campaign)
    fields = _fields(data, partial=False)
    with account_context(campaign.account_id), transaction.atomic():
        _locked_campaign(campaign)
        last = CampaignComponent.objects.filter(campaign=campaign).aggregate(m=Max("sort_order"))["m"]
        return CampaignComponent.objects.create(
            account_id=campaign.account_id, campaign=campaign, sort_order=(-1 if last is None else last) + 1,
            ai_generation_metadata={"created_by": str(actor.user_id)}, **fields,
        )  # fmt: skip


def component_update(*, component: CampaignComponent, actor: Membership, data: dict) -> CampaignComponent:
    """A new current version of `component` with the changed fields (409 unless
    `component` is the current version: edit what the page shows). Nothing to
    change: `component` as it is, no new version."""
    member_require(actor, "edit components")
    _editable(component.campaign)
    changes = _fields(data, partial=True)
    if all(getattr(component, field) == value for field, value in changes.items()):
        return component
    with account_context(component.account_id), transaction.atomic():
        _locked_campaign(component.campaign)
        parent = CampaignComponent.objects.get(pk=component.pk)
        if not parent.is_current:
            raise Conflict(gettext("This is an earlier version; edit the current one."), code="component_not_current")
        slot = CampaignComponent.objects.filter(campaign_id=parent.campaign_id, sort_order=parent.sort_order)
        new = CampaignComponent.objects.create(
            account_id=parent.account_id, campaign_id=parent.campaign_id,
            **{field: changes.get(field, getattr(parent, field)) for field in EDITABLE},
            version=(slot.aggregate(v=Max("version"))["v"] or parent.version) + 1, parent_component=parent,
            sort_order=parent.sort_order, ai_generation_metadata={"edited_by": str(actor.user_id)},
        )  # fmt: skip
        CampaignComponent.objects.filter(pk=parent.pk).update(is_current=False)
    return new


def component_delete(*, component: CampaignComponent, actor: Membership) -> int:
    """Remove the component from its campaign, every version of it. Returns how many rows went."""
    member_require(actor, "delete components")
    _editable(component.campaign)
    with account_context(component.account_id), transaction.atomic():
        _locked_campaign(component.campaign)
        deleted, _ = CampaignComponent.objects.filter(
            campaign_id=component.campaign_id, sort_order=component.sort_order
        ).delete()  # fmt: skip
    return deleted


def components_reorder(*, campaign: Campaign, actor: Membership, order: Any) -> list[CampaignComponent]:
    """Put the campaign's current components in `order` (their ids, each once);
    every version moves with its current one."""
    member_require(actor, "reorder components")
    _editable(campaign)
    if not isinstance(order, list) or not all(isinstance(i, str) for i in order):
        raise InvalidInput(gettext("Send the components' ids in their new order."),
                           fields={"order": ["A list of ids."]})  # fmt: skip
    with account_context(campaign.account_id), transaction.atomic():
        _locked_campaign(campaign)
        rows = CampaignComponent.objects.filter(campaign=campaign, is_current=True)
        current = {str(c.pk): c.sort_order for c in rows}
        if len(order) != len(set(order)) or set(order) != set(current):
            raise InvalidInput(gettext("List every current component of the campaign once, and nothing else."),
                               fields={"order": ["Not the campaign's current components."]})  # fmt: skip
        # two passes (to negative slots, then to their places) so no two slots ever share a number
        for index, component_id in enumerate(order):
            CampaignComponent.objects.filter(campaign=campaign, sort_order=current[component_id]).update(
                sort_order=-(index + 1))  # fmt: skip
        for index in range(len(order)):
            CampaignComponent.objects.filter(campaign=campaign, sort_order=-(index + 1)).update(sort_order=index)
        return list(CampaignComponent.objects.filter(campaign=campaign, is_current=True).order_by("sort_order"))
