"""The visual editor's storage (GrapesJS) and the zip export.

A campaign's page is versioned (`CampaignPage`): the open draft is rewritten
by every autosave (the editable project JSON plus the HTML/CSS snapshot, both
sanitised here: the editor is a client, never trusted); launching publishes
the draft as a version, and the next save opens a new draft from it.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.template.loader import render_to_string
from django.utils.translation import gettext

from accounts.models import Membership
from accounts.tenancy.context import account_context
from aiplatform.errors import Conflict, InvalidInput
from canvas.models import Campaign, CampaignComponent, CampaignPage, CampaignStatus

from .campaigns import member_require
from .sanitize import css_clean, html_clean

PROJECT_MAX_BYTES = 2_000_000
UNSAFE_URL_PREFIXES = ("javascript:", "vbscript:", "data:text")
UNSAFE_TAGS = frozenset({"script", "iframe", "object", "embed", "base", "meta", "link", "style"})


def current_components(campaign: Campaign) -> list[CampaignComponent]:
    return list(CampaignComponent.objects.filter(campaign=campaign, is_current=True).order_by("sort_order", "id"))


def component_block_html(component: CampaignComponent) -> str:
    """A component as a page section the tracker attributes events to."""
    return f'<div data-component-id="{component.pk}" class="cmp cmp-{component.component_type}">{component.code}</div>'


def components_page(campaign: Campaign) -> tuple[str, str]:
    components = current_components(campaign)
    html = "\n".join(component_block_html(c) for c in components)
    css = "\n".join(c.css_styles for c in components if c.css_styles)
    return html_clean(html), css_clean(css)


def _next_version(campaign: Campaign) -> int:
    return (CampaignPage.objects.filter(campaign=campaign).aggregate(v=Max("version"))["v"] or 0) + 1


def page_from_components(campaign: Campaign, *, actor: Membership | None) -> CampaignPage:
    """A new draft page made of the campaign's current components (no editor project yet)."""
    html, css = components_page(campaign)
    return CampaignPage.objects.create(
        account_id=campaign.account_id, campaign=campaign, version=_next_version(campaign), html=html, css=css,
        saved_by=actor.user if actor else None,
    )  # fmt: skip


def page_for_editor(campaign: Campaign) -> CampaignPage | None:
    """The draft if there is one, else the newest published version."""
    return (
        CampaignPage.objects.filter(campaign=campaign)
        .order_by("is_published", "-version")  # False (draft) first
        .first()
    )


def page_project(campaign: Campaign) -> dict:
    """What the editor loads: the stored project, or (none yet) the components
    as HTML for GrapesJS to parse."""
    page = page_for_editor(campaign)
    if page is not None and page.project_data:
        return {"project": page.project_data, "version": page.version, "published": page.is_published}
    html, css = (page.html, page.css) if page is not None else components_page(campaign)
    return {"project": None, "html": html, "css": css, "version": page.version if page else 0, "published": False}


def _project(value: Any) -> dict:
    if not isinstance(value, dict):
        raise InvalidInput(
            gettext("The editor project must be an object."), fields={"project": ["Enter a JSON object."]}
        )
    if len(json.dumps(value)) > PROJECT_MAX_BYTES:
        raise InvalidInput(gettext("The page is too large to save."), fields={"project": ["At most 2 MB."]})
    return value


def _clean_project(project: dict) -> dict:
    """Sanitise what the project keeps as markup: GrapesJS stores components as
    a tree, but a `content` string or a custom component's attributes can carry
    HTML or handlers; those are cleaned or dropped so a reload cannot run code."""

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key == "content" and isinstance(value, str):
                    out[key] = html_clean(value)
                elif key == "attributes" and isinstance(value, dict):
                    out[key] = {
                        k: v for k, v in value.items()
                        if isinstance(k, str) and not k.lower().startswith("on")
                        and not (isinstance(v, str) and v.strip().lower().startswith(UNSAFE_URL_PREFIXES))
                    }  # fmt: skip
                elif key == "tagName" and isinstance(value, str) and value.lower() in UNSAFE_TAGS:
                    out[key] = "div"
                elif key == "type" and value == "script":
                    out[key] = "default"
                else:
                    out[key] = walk(value)
            return out
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(project)


def page_save(*, campaign: Campaign, actor: Membership, project: Any, html: Any, css: Any) -> CampaignPage:
    """Autosave: rewrite the open draft (or open one)."""
    member_require(actor, "edit pages")
    if campaign.status == CampaignStatus.ARCHIVED:
        raise Conflict(gettext("This campaign is archived and cannot be changed."), code="campaign_archived")
    if not isinstance(html, str) or not isinstance(css, str):
        raise InvalidInput(gettext("html and css are text."), fields={"html": ["Enter text."], "css": ["Enter text."]})
    project = _clean_project(_project(project))
    with account_context(campaign.account_id), transaction.atomic():
        Campaign.objects.select_for_update().filter(pk=campaign.pk).first()  # one writer per campaign
        draft = CampaignPage.objects.filter(campaign=campaign, is_published=False).first()
        if draft is None:
            draft = CampaignPage(account_id=campaign.account_id, campaign=campaign, version=_next_version(campaign))
        draft.project_data = project
        draft.html = html_clean(html)
        draft.css = css_clean(css)
        draft.saved_by = actor.user
        draft.save()
    return draft


def published_page(campaign: Campaign) -> CampaignPage | None:
    return CampaignPage.objects.filter(campaign=campaign, is_published=True).order_by("-version").first()


def export_zip(campaign: Campaign) -> bytes:
    """index.html + styles.css + README: the newest page (draft or published), self-contained."""
    page = page_for_editor(campaign)
    html, css = (page.html, page.css) if page is not None else components_page(campaign)
    document = render_to_string(
        "canvas/builder/export_index.html", {"campaign": campaign, "html": html, "has_css": bool(css)}
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("index.html", document)
        archive.writestr("styles.css", css)
        archive.writestr(
            "README.txt",
            f"{campaign.name}\nExported from the web builder (page version {page.version if page else 0}).\n"
            "Open index.html in a browser, or upload both files to any web host.\n",
        )
    return buffer.getvalue()
