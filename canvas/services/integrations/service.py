"""Connecting platforms and publishing through them (seed 002 `platform_integrations`).

- `integration_connect` (WordPress application password, Simvoly API key, custom
  webhook URL + signing secret) and `ghl_connect_start` / `ghl_connect_finish`
  (GoHighLevel OAuth with a one-time `state`): the platform is asked first; only
  verified credentials are stored, encrypted (`encrypted_credentials`, a JSON
  document in a personas EncryptedTextField).
- `campaign_publish`: a publication row (the durable intent: which campaign,
  where, the remote id) plus a builder job ("publishing") on the shared
  processing queue (canvas.services.queue). The job's handler (`publish_run`)
  creates or updates the remote copy.
- A refused credential (wrong password, expired token that cannot be refreshed,
  revoked key) marks the integration `error` with "Reconnect ...": the
  publication stays `queued` and `integration_connect` / `ghl_connect_finish`
  put every queued publication of that integration back on the queue.
- Sync status: `syncing` while a job runs, `completed` + `last_sync_at` after a
  success, `error` + `sync_error_message` after a failure.
- Every entry point honours the feature flag `integration.<platform>`.
"""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import replace
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts.flags import feature_enabled, feature_require
from accounts.models import Account, Membership, Role
from accounts.tenancy.context import account_context
from aiplatform.errors import Conflict, Forbidden, InvalidInput, NotFound, ServiceError
from canvas.models import (
    Campaign,
    CampaignPublication,
    ConnectionStatus,
    PlatformIntegration,
    PlatformType,
    PublicationStatus,
    SyncStatus,
)
from canvas.tracking.email import email_html_instrument

from . import adapter_for, flag_of
from .base import Failure, IntegrationError, Lead, PagePayload, Session
from .gohighlevel import GoHighLevelAdapter, authorize_url, configured

log = logging.getLogger("canvas.integrations")

STATE_TTL = 600
# What can be published where (target -> adapter method).
TARGETS: dict[str, tuple[str, ...]] = {
    PlatformType.WORDPRESS: ("page",),
    PlatformType.GOHIGHLEVEL: ("redirect", "email_template"),
    PlatformType.SIMVOLY: ("embed",),
    PlatformType.CUSTOM: ("page",),
}


class IntegrationRefused(ServiceError):
    """The platform refused what the user typed (400 with the platform's reason)."""

    status = 400
    code = "integration_refused"


def _require(actor: Membership, role: Role = Role.ADMIN) -> None:
    if not Role(actor.role).at_least(role):
        raise Forbidden(_("Only an account admin or owner can connect platforms."))


# --- credentials ------------------------------------------------------------------------


def credentials_of(integration: PlatformIntegration) -> dict[str, Any]:
    if not integration.encrypted_credentials:
        return {}
    try:
        value = json.loads(integration.encrypted_credentials)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def session_of(integration: PlatformIntegration) -> Session:
    return Session(credentials_of(integration), dict(integration.platform_metadata or {}))


def _store_session(integration: PlatformIntegration, session: Session) -> None:
    if session.changed:
        integration.encrypted_credentials = json.dumps(session.credentials)
        with account_context(integration.account_id):
            PlatformIntegration.objects.filter(pk=integration.pk).update(
                encrypted_credentials=integration.encrypted_credentials, updated_at=timezone.now()
            )
        session.changed = False


def _save_connected(
    *, account: Account, actor: Membership, platform_type: str, credentials: dict, info
) -> PlatformIntegration:
    with account_context(account.id):
        integration, _created = PlatformIntegration.objects.select_for_update().get_or_create(
            account=account, platform_type=platform_type, defaults={"created_by": actor.user}
        )
        metadata = {**(integration.platform_metadata or {}), **info.metadata}
        integration.connection_status = ConnectionStatus.CONNECTED
        integration.account_name, integration.account_email = info.name[:255], info.email[:255]
        integration.encrypted_credentials = json.dumps(credentials)
        integration.platform_metadata = metadata
        integration.sync_status = SyncStatus.IDLE
        integration.sync_error_message = ""
        integration.save()
        _requeue(integration, actor.user)
    return integration


def _requeue(integration: PlatformIntegration, user) -> int:
    """Put the publications that waited for a reconnect back on the queue."""
    waiting = list(CampaignPublication.objects.filter(integration=integration, status=PublicationStatus.QUEUED))
    for publication in waiting:
        _enqueue(integration.account, publication, user)
    return len(waiting)


# --- connect / disconnect ----------------------------------------------------------------------


def integration_connect(*, account: Account, actor: Membership, platform_type: str, data: dict) -> PlatformIntegration:
    """Connect (or reconnect) WordPress, Simvoly or a custom webhook with the form's credentials."""
    _require(actor)
    if platform_type == PlatformType.GOHIGHLEVEL:
        raise InvalidInput(_("GoHighLevel connects through its own sign-in page (OAuth)."))
    adapter = adapter_for(platform_type)
    feature_require(flag_of(platform_type), account_id=account.id)
    try:
        credentials, info = adapter.connect(data or {})
    except IntegrationError as exc:
        raise IntegrationRefused(exc.message, extra={"failure": str(exc.failure)}) from exc
    return _save_connected(
        account=account, actor=actor, platform_type=platform_type, credentials=credentials, info=info
    )


def ghl_connect_start(*, account: Account, actor: Membership, redirect_uri: str) -> str:
    """The GoHighLevel page where the user chooses the sub-account; `state` ties the callback to them."""
    _require(actor)
    feature_require(flag_of(PlatformType.GOHIGHLEVEL), account_id=account.id)
    if not configured():
        raise Conflict(_("GoHighLevel is not set up on this platform yet (GHL_CLIENT_ID, GHL_CLIENT_SECRET)."),
                       code="integration_not_configured")  # fmt: skip
    state = secrets.token_urlsafe(24)
    cache.set(f"ghl:state:{state}", {"account_id": str(account.id), "user_id": str(actor.user_id),
                                     "redirect_uri": redirect_uri}, STATE_TTL)  # fmt: skip
    return authorize_url(redirect_uri=redirect_uri, state=state)


def ghl_connect_finish(*, account: Account, actor: Membership, code: str, state: str) -> PlatformIntegration:
    """The OAuth callback: the state must be the one we issued to this user for this account, once."""
    _require(actor)
    key = f"ghl:state:{state or '-'}"
    issued = cache.get(key)
    cache.delete(key)
    if not issued or issued["account_id"] != str(account.id) or issued["user_id"] != str(actor.user_id):
        raise InvalidInput(_("This GoHighLevel sign-in expired or was not started here. Connect again."),
                           code="oauth_state_invalid")  # fmt: skip
    if not code:
        raise InvalidInput(_("GoHighLevel did not authorise the connection."), code="oauth_denied")
    adapter: GoHighLevelAdapter = adapter_for(PlatformType.GOHIGHLEVEL)  # type: ignore[assignment]
    try:
        credentials, info = adapter.exchange_code(code=code, redirect_uri=issued["redirect_uri"])
    except IntegrationError as exc:
        raise IntegrationRefused(exc.message) from exc
    return _save_connected(account=account, actor=actor, platform_type=PlatformType.GOHIGHLEVEL,
                           credentials=credentials, info=info)  # fmt: skip


def integration_disconnect(*, account: Account, actor: Membership, integration_id) -> PlatformIntegration:
    _require(actor)
    with account_context(account.id):
        integration = _get(account, integration_id)
        integration.connection_status = ConnectionStatus.DISCONNECTED
        integration.encrypted_credentials = ""
        integration.sync_status = SyncStatus.IDLE
        integration.save()
    return integration


def integration_configure(*, account: Account, actor: Membership, integration_id, data: dict) -> PlatformIntegration:
    """Settings the user chooses: GoHighLevel's redirect `domain`, WordPress `page_status`."""
    _require(actor)
    with account_context(account.id):
        integration = _get(account, integration_id)
        metadata = dict(integration.platform_metadata or {})
        if "domain" in data:
            domain = str(data["domain"] or "").strip().lower().removeprefix("https://").removeprefix("http://").strip("/")
            if domain and ("/" in domain or "." not in domain or len(domain) > 253):
                raise InvalidInput(_("Give a domain like go.example.com."), fields={"domain": ["Invalid domain."]})
            metadata["domain"] = domain
        if "page_status" in data:
            if data["page_status"] not in ("draft", "publish", "pending", "private"):
                raise InvalidInput(
                    _("Choose draft, publish, pending or private."), fields={"page_status": ["Invalid."]}
                )
            metadata["page_status"] = data["page_status"]
        integration.platform_metadata = metadata
        integration.save(update_fields=["platform_metadata", "updated_at"])
    return integration


def _get(account: Account, integration_id) -> PlatformIntegration:
    integration = PlatformIntegration.objects.filter(account=account, pk=integration_id).first()
    if integration is None:
        raise NotFound(_("No such integration."))
    return integration


def integration_status(integration: PlatformIntegration) -> dict[str, Any]:
    """What the page shows: connected or not, whether to reconnect, the last sync and error."""
    return {
        "connected": integration.connection_status == ConnectionStatus.CONNECTED,
        "needs_reconnect": integration.connection_status == ConnectionStatus.ERROR,
        "enabled": feature_enabled(flag_of(integration.platform_type), account_id=integration.account_id),
        "last_sync_at": integration.last_sync_at,
        "sync_status": integration.sync_status,
        "sync_error_message": integration.sync_error_message,
    }


# --- publishing --------------------------------------------------------------------------------


def hosted_url(campaign: Campaign) -> str:
    """Where the platform serves the launched campaign."""
    from django.urls import NoReverseMatch, reverse

    try:
        path = reverse("builder_hosted", kwargs={"slug": campaign.slug})  # canvas/urls_builder.py, under /p/
    except NoReverseMatch:
        path = f"/p/{campaign.slug}/"
    return settings.SITE_URL.rstrip("/") + path


def page_of(campaign: Campaign) -> PagePayload:
    """The campaign as one HTML document: its latest published page snapshot, else
    its current components in order (both already sanitised by the builder)."""
    from canvas.models import CampaignComponent, CampaignPage

    page = CampaignPage.objects.filter(campaign=campaign, is_published=True).order_by("-version").first()
    if page is not None:
        html, css = page.html, page.css
    else:
        parts = list(
            CampaignComponent.objects.filter(campaign=campaign, is_current=True).order_by("sort_order", "created_at")
        )
        html = "\n".join(c.code for c in parts)
        css = "\n".join(c.css_styles for c in parts if c.css_styles)
    if css:
        safe_css = css.replace("</", "<\\/")
        html = f"<style>{safe_css}</style>\n{html}"
    return PagePayload(title=campaign.name, html=html, slug=slugify(campaign.name)[:80] or campaign.slug,
                       hosted_url=hosted_url(campaign))  # fmt: skip


def campaign_publish(*, account: Account, actor: Membership, campaign_id, integration_id, target: str = "",
                     path: str = "") -> CampaignPublication:  # fmt: skip
    """Queue the campaign's publication (creating or, on relaunch, updating the remote copy)."""
    _require(actor, Role.MEMBER)
    with account_context(account.id):
        integration = _get(account, integration_id)
        feature_require(flag_of(integration.platform_type), account_id=account.id)
        campaign = Campaign.objects.filter(account=account, pk=campaign_id).first()
        if campaign is None:
            raise NotFound(_("No such campaign."))
        targets = TARGETS[integration.platform_type]
        target = target or targets[0]
        if target not in targets:
            raise InvalidInput(_("%(platform)s can take: %(targets)s.")
                               % {"platform": integration.get_platform_type_display(), "targets": ", ".join(targets)},
                               fields={"target": ["Not possible here."]})  # fmt: skip
        if integration.connection_status == ConnectionStatus.DISCONNECTED:
            raise Conflict(_("Connect %(platform)s first.") % {"platform": integration.get_platform_type_display()},
                           code="integration_disconnected")  # fmt: skip
        if target == "redirect":
            path = "/" + (path or campaign.slug).strip().strip("/")
            if len(path) > 200:
                raise InvalidInput(_("The redirect path is too long."), fields={"path": ["At most 200 characters."]})
        publication, _created = CampaignPublication.objects.select_for_update().get_or_create(
            account=account, integration=integration, campaign=campaign, target=target
        )
        publication.status = PublicationStatus.QUEUED
        publication.error_message = ""
        if path:
            publication.external_url = publication.external_url if publication.external_id else ""
        publication.save()
        _enqueue(account, publication, actor.user, path=path)
    return publication


def _enqueue(account: Account, publication: CampaignPublication, user, *, path: str = "") -> None:
    from canvas.services.queue import job_enqueue

    from .jobs import ensure_registered

    ensure_registered()
    job_enqueue(account=account, job_type="publishing", store="builder", user=user,
                data={"kind": "publication", "publication_id": str(publication.pk), "path": path},
                max_attempts=settings.BUILDER_PUBLISH_MAX_ATTEMPTS)  # fmt: skip


def _mark(integration: PlatformIntegration, *, error: IntegrationError | None) -> None:
    values: dict[str, Any] = {"updated_at": timezone.now()}
    if error is None:
        values.update(sync_status=SyncStatus.COMPLETED, last_sync_at=timezone.now(), sync_error_message="")
    elif error.needs_reconnect:
        values.update(connection_status=ConnectionStatus.ERROR, sync_status=SyncStatus.ERROR,
                      sync_error_message=_("Reconnect %(platform)s: %(reason)s") % {
                          "platform": integration.get_platform_type_display(), "reason": error.message})  # fmt: skip
    else:
        values.update(sync_status=SyncStatus.ERROR, sync_error_message=error.message[:2000])
    with account_context(integration.account_id):
        PlatformIntegration.objects.filter(pk=integration.pk).update(**values)


def publish_run(*, account_id, publication_id, path: str = "") -> CampaignPublication | None:
    """Do one publication (the job's body). Raises IntegrationError for the queue to classify."""
    with account_context(account_id):
        publication = (
            CampaignPublication.objects.select_related("integration", "campaign").filter(pk=publication_id).first()
        )
        if publication is None:
            return None
        integration, campaign = publication.integration, publication.campaign
        if integration.connection_status != ConnectionStatus.CONNECTED:
            raise IntegrationError(_("Reconnect %(platform)s to publish; the publication waits until then.")
                                   % {"platform": integration.get_platform_type_display()},
                                   failure=Failure.AUTH)  # fmt: skip
        PlatformIntegration.objects.filter(pk=integration.pk).update(sync_status=SyncStatus.SYNCING)
        page = replace(page_of(campaign), external_id=publication.external_id,
                       status=(integration.platform_metadata or {}).get("page_status", "publish"))  # fmt: skip
    adapter = adapter_for(integration.platform_type)
    session = session_of(integration)
    try:
        if publication.target == "redirect":
            result = adapter.point_redirect(session, path=path or f"/{campaign.slug}", target=page.hosted_url,
                                            external_id=publication.external_id)  # fmt: skip
        elif publication.target == "email_template":
            # opens and clicks of the sent emails count for the campaign (signed pixel and redirect)
            html = email_html_instrument(page.html, base_url=settings.SITE_URL, campaign_id=str(campaign.pk))
            result = adapter.push_email_template(session, title=page.title, html=html,
                                                 external_id=publication.external_id)  # fmt: skip
        else:
            result = adapter.publish_page(session, page)
    except IntegrationError as exc:
        _store_session(integration, session)
        _mark(integration, error=exc)
        with account_context(account_id):
            values = {"error_message": exc.message[:2000], "updated_at": timezone.now()}
            if not (exc.needs_reconnect or exc.retryable):
                values["status"] = PublicationStatus.FAILED
            CampaignPublication.objects.filter(pk=publication.pk).update(**values)
        raise
    _store_session(integration, session)
    with account_context(account_id):
        CampaignPublication.objects.filter(pk=publication.pk).update(
            status=PublicationStatus.PUBLISHED, external_id=result.external_id or publication.external_id,
            external_url=result.external_url, error_message="", last_published_at=timezone.now(),
            updated_at=timezone.now(),
        )  # fmt: skip
        if result.metadata.get("embed"):
            meta = dict(integration.platform_metadata or {})
            meta.setdefault("exports", {})[str(campaign.pk)] = {"embed": result.metadata["embed"]}
            PlatformIntegration.objects.filter(pk=integration.pk).update(platform_metadata=meta)
    _mark(integration, error=None)
    publication.refresh_from_db()
    return publication


# --- leads -------------------------------------------------------------------------------------


def lead_from(data: dict) -> Lead:
    email = str(data.get("email") or "").strip()
    if "@" not in email or len(email) > 254:
        raise InvalidInput(_("A lead needs a valid email address."), fields={"email": ["Invalid email."]})
    tags = data.get("tags") or []
    if not isinstance(tags, list):
        tags = []
    return Lead(email=email, first_name=str(data.get("first_name") or "")[:100],
                last_name=str(data.get("last_name") or "")[:100], phone=str(data.get("phone") or "")[:40],
                source=str(data.get("source") or "aiplatform")[:100], tags=tuple(str(t)[:50] for t in tags[:20]),
                fields={k: v for k, v in data.items() if isinstance(v, str | int | float | bool)})  # fmt: skip


def leads_forward(*, account_id, lead: dict, user=None) -> int:
    """A form lead (from the tracker's form submit) queued to every connected
    integration that takes leads. Public interface for the tracking code. Returns
    how many were queued."""
    lead_from(lead)  # refuse a malformed lead now
    from canvas.services.queue import job_enqueue

    from .jobs import ensure_registered

    ensure_registered()
    queued = 0
    with account_context(account_id):
        account = Account.objects.get(pk=account_id)
        for integration in PlatformIntegration.objects.filter(
            account_id=account_id, connection_status=ConnectionStatus.CONNECTED
        ):  # fmt: skip
            if "push_lead" not in adapter_for(integration.platform_type).capabilities:
                continue
            if not feature_enabled(flag_of(integration.platform_type), account_id=account_id):
                continue
            job_enqueue(account=account, job_type="publishing", store="builder", user=user,
                        data={"kind": "lead", "integration_id": str(integration.pk), "lead": lead},
                        max_attempts=settings.BUILDER_PUBLISH_MAX_ATTEMPTS)  # fmt: skip
            queued += 1
    return queued


def lead_push(*, account_id, integration_id, lead: dict) -> str:
    """Push one lead now (the job's body, and the API's test button)."""
    with account_context(account_id):
        integration = PlatformIntegration.objects.filter(account_id=account_id, pk=integration_id).first()
    if integration is None:
        raise NotFound(_("No such integration."))
    if integration.connection_status != ConnectionStatus.CONNECTED:
        raise IntegrationError(_("Reconnect %(platform)s to send leads.") % {
            "platform": integration.get_platform_type_display()}, failure=Failure.AUTH)  # fmt: skip
    session = session_of(integration)
    try:
        result = adapter_for(integration.platform_type).push_lead(session, lead_from(lead))
    except IntegrationError as exc:
        _store_session(integration, session)
        _mark(integration, error=exc)
        raise
    _store_session(integration, session)
    _mark(integration, error=None)
    return result.external_id


def integration_test(*, account: Account, actor: Membership, integration_id) -> PlatformIntegration:
    """Ask the platform whether our credentials still work (the page's "Test" button)."""
    _require(actor, Role.MEMBER)
    with account_context(account.id):
        integration = _get(account, integration_id)
    session = session_of(integration)
    try:
        adapter_for(integration.platform_type).verify(session)
    except IntegrationError as exc:
        _store_session(integration, session)
        _mark(integration, error=exc)
    else:
        _store_session(integration, session)
        _mark(integration, error=None)
        if integration.connection_status == ConnectionStatus.ERROR:
            with account_context(account.id):
                PlatformIntegration.objects.filter(pk=integration.pk).update(connection_status=ConnectionStatus.CONNECTED)
    with account_context(account.id):
        integration.refresh_from_db()
    return integration


def publications_waiting(account: Account) -> int:
    with account_context(account.id):
        return CampaignPublication.objects.filter(account=account, status=PublicationStatus.QUEUED).count()


__all__ = [
    "integration_connect", "ghl_connect_start", "ghl_connect_finish", "integration_disconnect",
    "integration_configure", "integration_status", "integration_test", "campaign_publish", "publish_run",
    "leads_forward", "lead_push", "credentials_of", "TARGETS",
]  # fmt: skip
