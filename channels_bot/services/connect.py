"""Connecting channels (the OAuth flows), their tokens, and "needs reconnecting".

Flows (the views in `connect/views.py` call these; only owners and admins may):

- Facebook Page: Facebook Login code -> user token -> long-lived user token
  (`/oauth/access_token?grant_type=fb_exchange_token`) -> `/me/accounts` -> the
  admin picks a page -> `POST /{page}/subscribed_apps` -> channel stored with the
  page token (it does not expire).
- Instagram through a Page: the same login, then
  `GET /me?fields=instagram_business_account` with the page token; stored as
  INSTAGRAM_BUSINESS, route facebook_login, `page_id` set.
- Instagram Login: code -> 1 h token -> 60-day token (`ig_exchange_token`),
  `token_expires_at` stored; refreshed by the beat task before it expires.
- X: OAuth 2.0 with PKCE (S256) and `offline.access` (a refresh token); only
  when CHANNELS_X_ENABLED. The profile is subscribed to the app's Account
  Activity webhook (`XClient.subscribe_webhooks`) before it is stored.
- LinkedIn: OAuth, then the admin picks one of the organizations they
  administer; its social actions are subscribed (`PUT /rest/eventSubscriptions`)
  before it is stored.

The OAuth `state` (and the PKCE verifier) live in the server-side session and
are checked on the callback; a wrong state changes nothing. A page belongs to
one account (unique per platform): reconnecting it from the same account
updates its tokens, from another account is refused.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from accounts.events import publish_on_commit
from accounts.models import Account, Membership, Role
from accounts.services.notifications import email_notification, notification_recipients
from accounts.tenancy.context import account_context, rls_bypass
from aiplatform.errors import Conflict, Forbidden, InvalidInput
from channels_bot.models import ConnectedChannel
from channels_bot.models.platforms import Platform
from channels_bot.platforms import client_for, http
from channels_bot.platforms.base import Failure, PlatformError, TokenGrant
from channels_bot.platforms.instagram import grant_from
from channels_bot.platforms.instagram import graph_url as instagram_url
from personas import crypto

log = logging.getLogger("channels_bot.connect")

SESSION_KEY = "channels_connect"
STATE_MAX_AGE = 600  # seconds between the start of a flow and its callback

FACEBOOK_SCOPES = "pages_show_list,pages_manage_metadata,pages_messaging"
INSTAGRAM_PAGE_SCOPES = "pages_show_list,pages_manage_metadata,instagram_basic,instagram_manage_messages"
INSTAGRAM_LOGIN_SCOPES = "instagram_business_basic,instagram_business_manage_messages"
X_SCOPES = "dm.read dm.write tweet.read users.read offline.access"
LINKEDIN_SCOPES = "r_organization_social w_organization_social rw_organization_admin"
PAGE_FIELDS = "messages,messaging_postbacks,message_deliveries,message_reads,message_echoes,messaging_handovers"
INSTAGRAM_FIELDS = "messages,messaging_postbacks,messaging_seen,message_reactions"

X_REFRESH_AHEAD = timedelta(minutes=5)
INSTAGRAM_TOKEN_LIFETIME = timedelta(days=60)
INSTAGRAM_MIN_TOKEN_AGE = timedelta(hours=24)
LINKEDIN_REFRESH_AHEAD = timedelta(days=7)
REFRESH_LOCK_SECONDS = 60


# --- flows --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Flow:
    """One way of connecting: which platform, route and settings it needs."""

    name: str
    platform: str
    route: str
    title: str
    credentials: tuple[str, ...]

    def configured(self) -> bool:
        return all(getattr(settings, name, "") for name in self.credentials)

    def enabled(self) -> bool:
        return self.name != "x" or settings.CHANNELS_X_ENABLED

    @property
    def slug(self) -> str:
        return self.name.replace("_", "-")

    def missing(self) -> list[str]:
        return [name for name in self.credentials if not getattr(settings, name, "")]


FLOWS: dict[str, Flow] = {
    f.name: f
    for f in (
        Flow("facebook", Platform.FACEBOOK_PAGE, ConnectedChannel.Route.FACEBOOK_LOGIN, "Facebook Page",
             ("META_APP_ID", "META_APP_SECRET")),
        Flow("instagram_page", Platform.INSTAGRAM_BUSINESS, ConnectedChannel.Route.FACEBOOK_LOGIN,
             "Instagram (through a Facebook Page)", ("META_APP_ID", "META_APP_SECRET")),
        Flow("instagram", Platform.INSTAGRAM_BUSINESS, ConnectedChannel.Route.INSTAGRAM_LOGIN,
             "Instagram (Instagram Login)", ("INSTAGRAM_APP_ID", "INSTAGRAM_APP_SECRET")),
        Flow("x", Platform.TWITTER_PROFILE, ConnectedChannel.Route.X_OAUTH2, "X profile",
             ("X_CLIENT_ID", "X_CONSUMER_KEY", "X_CONSUMER_SECRET")),
        Flow("linkedin", Platform.LINKEDIN_PAGE, ConnectedChannel.Route.LINKEDIN_OAUTH, "LinkedIn Page",
             ("LINKEDIN_CLIENT_ID", "LINKEDIN_CLIENT_SECRET", "LINKEDIN_APP_ID")),
    )
}  # fmt: skip


def redirect_uri(flow: str) -> str:
    """The callback the platform sends the user back to (registered with the platform's app)."""
    return settings.SITE_URL.rstrip("/") + reverse("channels_bot_connect:callback", args=[FLOWS[flow].slug])


def _require_admin(actor: Membership | None) -> None:
    if actor is None or not Role(actor.role).at_least(Role.ADMIN):
        raise Forbidden(gettext("Only the account's owners and admins can connect channels."))


def pkce_challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def oauth_begin(*, session, flow: Flow, account: Account, actor: Membership) -> str:
    """Remember a new state (and PKCE verifier) in `session`; the platform's authorize URL."""
    _require_admin(actor)
    state = secrets.token_urlsafe(32)
    entry: dict[str, Any] = {"state": state, "account": str(account.pk), "at": time.time()}
    uri = redirect_uri(flow.name)
    if flow.name in ("facebook", "instagram_page"):
        scopes = FACEBOOK_SCOPES if flow.name == "facebook" else INSTAGRAM_PAGE_SCOPES
        url = settings.META_OAUTH_DIALOG_URL
        query = {"client_id": settings.META_APP_ID, "redirect_uri": uri, "state": state, "scope": scopes,
                 "response_type": "code"}  # fmt: skip
    elif flow.name == "instagram":
        url = settings.INSTAGRAM_AUTHORIZE_URL
        query = {"client_id": settings.INSTAGRAM_APP_ID, "redirect_uri": uri, "response_type": "code",
                 "scope": INSTAGRAM_LOGIN_SCOPES, "state": state}  # fmt: skip
    elif flow.name == "x":
        verifier = secrets.token_urlsafe(64)  # 86 characters, within PKCE's 43–128
        entry["verifier"] = verifier
        url = settings.X_AUTHORIZE_URL
        query = {"response_type": "code", "client_id": settings.X_CLIENT_ID, "redirect_uri": uri, "scope": X_SCOPES,
                 "state": state, "code_challenge": pkce_challenge(verifier),
                 "code_challenge_method": "S256"}  # fmt: skip
    else:
        url = f"{settings.LINKEDIN_OAUTH_URL.rstrip('/')}/authorization"
        query = {"response_type": "code", "client_id": settings.LINKEDIN_CLIENT_ID, "redirect_uri": uri,
                 "state": state, "scope": LINKEDIN_SCOPES}  # fmt: skip
    flows = dict(session.get(SESSION_KEY) or {})
    flows[flow.name] = entry
    session[SESSION_KEY] = flows
    return f"{url}?{urlencode(query)}"


def oauth_finish(*, session, flow: Flow, account: Account, state: str) -> dict[str, Any]:
    """The flow's session entry if `state` is the one we sent (consumed: a state works once)."""
    flows = dict(session.get(SESSION_KEY) or {})
    entry = flows.pop(flow.name, None)
    session[SESSION_KEY] = flows
    if not entry or not state or not secrets.compare_digest(str(entry.get("state", "")), state):
        raise InvalidInput(gettext("This sign-in answer does not match the connection you started (wrong or reused "
                                   "state). Start connecting again."), code="oauth_state_mismatch")  # fmt: skip
    if time.time() - float(entry.get("at", 0)) > STATE_MAX_AGE:
        raise InvalidInput(gettext("The sign-in took too long. Start connecting again."), code="oauth_state_expired")
    if entry.get("account") != str(account.pk):
        raise InvalidInput(
            gettext("You switched accounts while connecting. Start connecting again."), code="oauth_account"
        )
    return entry


def oauth_forget(*, session, flow: Flow) -> None:
    """The user cancelled on the platform: the started flow's state is dropped."""
    flows = dict(session.get(SESSION_KEY) or {})
    flows.pop(flow.name, None)
    session[SESSION_KEY] = flows


def pending_token_store(*, session, flow: Flow, account: Account, token: str) -> None:
    """Keep a user token between the callback and the choice of a page (encrypted in the session)."""
    flows = dict(session.get(SESSION_KEY) or {})
    flows[f"{flow.name}:token"] = {"token": crypto.encrypt(token), "account": str(account.pk), "at": time.time()}
    session[SESSION_KEY] = flows


def pending_token(*, session, flow: Flow, account: Account) -> str:
    entry = (session.get(SESSION_KEY) or {}).get(f"{flow.name}:token")
    if not entry or entry.get("account") != str(account.pk) or time.time() - float(entry.get("at", 0)) > 3600:
        raise InvalidInput(
            gettext("There is no sign-in to choose a page from. Start connecting again."), code="oauth_expired"
        )
    return crypto.decrypt(entry["token"])


def pending_token_clear(*, session, flow: Flow) -> None:
    flows = dict(session.get(SESSION_KEY) or {})
    flows.pop(f"{flow.name}:token", None)
    session[SESSION_KEY] = flows


# --- storing a channel ----------------------------------------------------------------------


def _owner_of(platform_type: str, platform_specific_id: str) -> str | None:
    with rls_bypass("channel_connect: is this page connected by another account?"):
        found = (
            ConnectedChannel.objects.filter(platform_type=platform_type, platform_specific_id=platform_specific_id)
            .values_list("account_id", flat=True)
            .first()
        )
    return str(found) if found else None


def _refuse_foreign(account: Account, platform_type: str, platform_specific_id: str) -> None:
    owner = _owner_of(platform_type, platform_specific_id)
    if owner is not None and owner != str(account.pk):
        raise Conflict(
            gettext("This page or profile is already connected to another account on this platform. Disconnect it "
                    "there first, or ask that account's owner."), code="channel_taken",
        )  # fmt: skip


def channel_connect(
    *,
    account: Account,
    actor: Membership,
    platform_type: str,
    platform_specific_id: str,
    channel_name: str,
    route: str,
    access_token: str,
    refresh_token: str | None = None,
    token_expires_at: datetime | None = None,
    page_id: str = "",
) -> ConnectedChannel:
    """Store a newly connected channel, or new tokens of one this account already has."""
    _require_admin(actor)
    _refuse_foreign(account, platform_type, platform_specific_id)
    fields = {
        "channel_name": channel_name[:200] or platform_specific_id, "route": route, "page_id": page_id,
        "access_token": access_token, "refresh_token": refresh_token, "token_expires_at": token_expires_at,
        "auth_state": ConnectedChannel.AuthState.OK, "auth_error": "",
    }  # fmt: skip
    try:
        with account_context(account.pk), transaction.atomic():
            channel = (
                ConnectedChannel.objects.select_for_update()
                .filter(account=account, platform_type=platform_type, platform_specific_id=platform_specific_id)
                .first()
            )
            created = channel is None
            if created:
                channel = ConnectedChannel.objects.create(
                    account=account, platform_type=platform_type, platform_specific_id=platform_specific_id,
                    created_by=actor.user, **fields,
                )  # fmt: skip
            else:
                for name, value in fields.items():
                    setattr(channel, name, value)
                channel.save(update_fields=[*fields, "updated_at"])
            publish_on_commit(account.pk, "channel.updated", {
                "id": str(channel.pk), "platform_type": platform_type, "auth_state": channel.auth_state,
                "created": created,
            })  # fmt: skip
    except IntegrityError:
        # Another account connected it between our check and our insert.
        raise Conflict(gettext("This page or profile is already connected to another account."), code="channel_taken")
    log.info("channel %s connected (%s %s) by %s", channel.pk, platform_type, platform_specific_id, actor.user_id)
    return channel


def channel_mark_needs_reconnect(channel: ConnectedChannel, reason: str) -> bool:
    """The platform refused the channel's token: show the banner and email the
    account's owners and admins, once per loss (True when this call marked it)."""
    reason = (reason or "The platform refused the channel's access token.")[:500]
    with account_context(channel.account_id), transaction.atomic():
        marked = ConnectedChannel.objects.filter(pk=channel.pk, auth_state=ConnectedChannel.AuthState.OK).update(
            auth_state=ConnectedChannel.AuthState.NEEDS_RECONNECT, auth_error=reason, updated_at=timezone.now()
        )
        channel.auth_state, channel.auth_error = ConnectedChannel.AuthState.NEEDS_RECONNECT, reason
        if not marked:
            return False
        email_notification(
            notification_recipients(channel.account_id, [Role.OWNER, Role.ADMIN]),
            subject=gettext_lazy("Reconnect %(name)s"),
            template="channels_bot/connect/email_needs_reconnect.txt",
            context={
                "channel": channel, "reason": reason, "name": channel.channel_name,
                "connect_url": settings.SITE_URL.rstrip("/") + reverse("channels_bot_connect:index"),
            },
        )  # fmt: skip
        publish_on_commit(channel.account_id, "channel.updated", {
            "id": str(channel.pk), "auth_state": ConnectedChannel.AuthState.NEEDS_RECONNECT, "auth_error": reason,
        })  # fmt: skip
    log.warning("channel %s needs reconnecting: %s", channel.pk, reason)
    return True


# --- tokens -----------------------------------------------------------------------------------


def channel_token_store(*, channel: ConnectedChannel, grant: TokenGrant) -> ConnectedChannel:
    with account_context(channel.account_id), transaction.atomic():
        channel.access_token = grant.access_token
        channel.refresh_token = grant.refresh_token if grant.refresh_token is not None else channel.refresh_token
        channel.token_expires_at = grant.expires_at
        channel.save(update_fields=["access_token", "refresh_token", "token_expires_at", "updated_at"])
    return channel


def token_refresh_due(channel: ConnectedChannel, now: datetime | None = None) -> bool:
    """Whether `channel`'s token should be refreshed now (see `tokens_refresh`)."""
    now = now or timezone.now()
    expires = channel.token_expires_at
    if expires is None or channel.auth_state != ConnectedChannel.AuthState.OK:
        return False
    if channel.route == ConnectedChannel.Route.X_OAUTH2:
        return expires - now <= X_REFRESH_AHEAD
    if channel.route == ConnectedChannel.Route.INSTAGRAM_LOGIN:
        before = timedelta(days=settings.INSTAGRAM_REFRESH_BEFORE_DAYS)
        # Instagram refreshes only an unexpired token at least 24 h old (issued 60 days before it expires).
        old_enough = now - (expires - INSTAGRAM_TOKEN_LIFETIME) >= INSTAGRAM_MIN_TOKEN_AGE
        return now < expires <= now + before and old_enough
    if channel.route == ConnectedChannel.Route.LINKEDIN_OAUTH:
        return bool(channel.refresh_token) and expires - now <= LINKEDIN_REFRESH_AHEAD
    return False


def _refresh_lock(channel: ConnectedChannel):
    redis = cache._cache.get_client(write=True)
    return redis.lock(
        cache.make_key(f"channels:token-refresh:{channel.pk}"), timeout=REFRESH_LOCK_SECONDS,
        blocking_timeout=settings.CHANNELS_HTTP_TIMEOUT * 2,  # the other worker's refresh call, and a margin
    )  # fmt: skip


def channel_token_refresh(*, channel: ConnectedChannel, force: bool = False) -> ConnectedChannel:
    """Refresh the channel's token if it is due (or `force`: the platform just refused it),
    under a Redis lock per channel so two workers never spend one refresh token twice.
    Updates `channel` in place. A refusal (AUTH) marks the channel for reconnecting and raises."""
    if not force and not token_refresh_due(channel):
        return channel
    seen_token = channel.access_token
    lock = _refresh_lock(channel)
    if not lock.acquire():
        raise PlatformError("Another worker is refreshing this channel's token.", failure=Failure.TRANSIENT,
                            code="refresh_locked")  # fmt: skip
    try:
        with account_context(channel.account_id):
            fresh = ConnectedChannel.objects.filter(pk=channel.pk).first()
        if fresh is None:
            raise PlatformError("The channel was disconnected.", failure=Failure.PERMANENT, code="gone")
        channel.access_token, channel.refresh_token = fresh.access_token, fresh.refresh_token
        channel.token_expires_at, channel.auth_state = fresh.token_expires_at, fresh.auth_state
        if channel.needs_reconnect:
            raise PlatformError(channel.auth_error or "The channel needs reconnecting.", failure=Failure.AUTH)
        if fresh.access_token != seen_token and not token_refresh_due(channel):
            return channel  # another worker refreshed it meanwhile
        if not force and not token_refresh_due(channel):
            return channel
        try:
            grant = client_for(channel).refresh_token(channel)  # no transaction open: a network call
        except PlatformError as exc:
            if exc.failure == Failure.AUTH:
                channel_mark_needs_reconnect(channel, f"The token could not be refreshed: {exc.message}")
            raise
        if grant is None:
            if force:
                channel_mark_needs_reconnect(channel, "The platform refused the channel's access token.")
                raise PlatformError("The platform refused the channel's access token.", failure=Failure.AUTH)
            return channel
        channel_token_store(channel=channel, grant=grant)
        log.info("channel %s token refreshed, now valid until %s", channel.pk, grant.expires_at)
        return channel
    finally:
        try:
            lock.release()
        except Exception:  # expired meanwhile: nothing to release
            pass


@dataclass(frozen=True)
class RefreshReport:
    refreshed: int = 0
    failed: int = 0
    needs_reconnect: int = 0


def tokens_refresh() -> RefreshReport:
    """Beat: refresh every token that is due (Instagram Login within
    INSTAGRAM_REFRESH_BEFORE_DAYS of expiry, X within 5 minutes, LinkedIn with a
    refresh token within 7 days). One channel's failure does not stop the others."""
    now = timezone.now()
    horizon = now + max(timedelta(days=settings.INSTAGRAM_REFRESH_BEFORE_DAYS), LINKEDIN_REFRESH_AHEAD, X_REFRESH_AHEAD)
    with rls_bypass("tokens_refresh: find the channels of every account whose tokens expire soon"):
        candidates = list(
            ConnectedChannel.objects.filter(
                auth_state=ConnectedChannel.AuthState.OK, token_expires_at__isnull=False, token_expires_at__lte=horizon,
                route__in=[ConnectedChannel.Route.INSTAGRAM_LOGIN, ConnectedChannel.Route.X_OAUTH2,
                           ConnectedChannel.Route.LINKEDIN_OAUTH],
            ).only("id", "account_id", "route", "token_expires_at", "auth_state", "refresh_token")
        )  # fmt: skip
    refreshed = failed = lost = 0
    for candidate in candidates:
        expired = candidate.route == ConnectedChannel.Route.INSTAGRAM_LOGIN and candidate.token_expires_at <= now
        if not expired and not token_refresh_due(candidate, now):
            continue
        with account_context(candidate.account_id):
            channel = ConnectedChannel.objects.filter(pk=candidate.pk).first()
        if channel is None:
            continue
        if expired:
            # Instagram cannot refresh an expired token: only signing in again helps.
            lost += channel_mark_needs_reconnect(channel, "The Instagram access token expired before it was refreshed.")
            continue
        try:
            channel_token_refresh(channel=channel)
            refreshed += 1
        except PlatformError as exc:
            failed += 1
            lost += exc.failure == Failure.AUTH
            log.warning("token refresh of channel %s failed: %s", channel.pk, exc.message)
    return RefreshReport(refreshed=refreshed, failed=failed, needs_reconnect=lost)


# --- the platforms' side of each flow ----------------------------------------------------------


def _graph(path: str) -> str:
    return f"{settings.META_GRAPH_URL.rstrip('/')}/{path.lstrip('/')}"


def facebook_user_token(*, code: str, flow: Flow) -> str:
    """The login's code -> a user token -> a long-lived (60-day) user token."""
    short = http.graph_call("GET", _graph("oauth/access_token"), label="Facebook", params={
        "client_id": settings.META_APP_ID, "client_secret": settings.META_APP_SECRET,
        "redirect_uri": redirect_uri(flow.name), "code": code,
    })  # fmt: skip
    long = http.graph_call("GET", _graph("oauth/access_token"), label="Facebook", params={
        "grant_type": "fb_exchange_token", "client_id": settings.META_APP_ID,
        "client_secret": settings.META_APP_SECRET, "fb_exchange_token": short.get("access_token", ""),
    })  # fmt: skip
    if not long.get("access_token"):
        raise PlatformError("Facebook returned no access token.", failure=Failure.TRANSIENT)
    return str(long["access_token"])


def facebook_pages(*, user_token: str) -> list[dict[str, str]]:
    """The pages the user administers (`/me/accounts`), with their page tokens."""
    params = {"access_token": user_token, "fields": "id,name,access_token", "limit": 100}
    data = http.graph_call("GET", _graph("me/accounts"), label="Facebook", params=params)
    pages = [
        {"id": str(p["id"]), "name": str(p.get("name") or p["id"]), "access_token": str(p["access_token"])}
        for p in data.get("data") or []
        if isinstance(p, dict) and p.get("id") and p.get("access_token")
    ]
    return sorted(pages, key=lambda p: p["name"].lower())


def facebook_page_connect(
    *, account: Account, actor: Membership, flow: Flow, user_token: str, page_id: str
) -> ConnectedChannel:
    """Connect the chosen page (or its Instagram account): it must be one the user administers."""
    _require_admin(actor)
    page = next((p for p in facebook_pages(user_token=user_token) if p["id"] == page_id), None)
    if page is None:
        raise InvalidInput(
            gettext("Choose one of the pages you administer."), fields={"page_id": ["Not one of your pages."]}
        )
    if flow.name == "instagram_page":
        params = {"fields": "instagram_business_account", "access_token": page["access_token"]}
        found = http.graph_call("GET", _graph("me"), label="Facebook", params=params)
        ig = found.get("instagram_business_account") or {}
        if not ig.get("id"):
            raise InvalidInput(gettext("The page %(name)s has no Instagram business account linked to it. Link one "
                                       "in the page's settings, then connect again.") % {"name": page["name"]},
                               code="no_instagram_account")  # fmt: skip
        platform_id, name = str(ig["id"]), f"{ig.get('username') or page['name']} (Instagram)"
    else:
        platform_id, name = page["id"], page["name"]
    _refuse_foreign(account, flow.platform, platform_id)  # before touching the page's subscriptions
    http.graph_call("POST", _graph(f"{page['id']}/subscribed_apps"), label="Facebook",
                    params={"subscribed_fields": PAGE_FIELDS, "access_token": page["access_token"]})  # fmt: skip
    return channel_connect(
        account=account, actor=actor, platform_type=flow.platform, platform_specific_id=platform_id,
        channel_name=name, route=flow.route, access_token=page["access_token"],
        page_id=page["id"] if flow.name == "instagram_page" else "",
    )  # fmt: skip


def instagram_login_connect(*, account: Account, actor: Membership, code: str) -> ConnectedChannel:
    """Code -> short token -> 60-day token -> the account's IG id -> webhooks on -> stored."""
    _require_admin(actor)
    response = http.request("POST", settings.INSTAGRAM_TOKEN_URL, label="Instagram", data={
        "client_id": settings.INSTAGRAM_APP_ID, "client_secret": settings.INSTAGRAM_APP_SECRET,
        "grant_type": "authorization_code", "redirect_uri": redirect_uri("instagram"), "code": code,
    })  # fmt: skip
    body = http.body_of(response)
    if response.status_code >= 400:
        message = body.get("error_message") or body.get("error_description") or f"HTTP {response.status_code}"
        raise PlatformError(f"Instagram refused the sign-in: {message}", failure=Failure.PERMANENT)
    first = (body.get("data") or [body])[0] if isinstance(body.get("data"), list) else body
    short = str(first.get("access_token") or "")
    grant = grant_from(http.graph_call("GET", instagram_url("access_token"), label="Instagram", params={
        "grant_type": "ig_exchange_token", "client_secret": settings.INSTAGRAM_APP_SECRET, "access_token": short,
    }))  # fmt: skip
    bearer = {"Authorization": f"Bearer {grant.access_token}"}
    me = http.graph_call("GET", instagram_url("me"), label="Instagram", headers=bearer,
                         params={"fields": "user_id,username"})  # fmt: skip
    ig_id = str(me.get("user_id") or first.get("user_id") or "")
    if not ig_id:
        raise PlatformError("Instagram did not say which account signed in.", failure=Failure.PERMANENT)
    _refuse_foreign(account, Platform.INSTAGRAM_BUSINESS, ig_id)
    http.graph_call("POST", instagram_url("me/subscribed_apps"), label="Instagram", headers=bearer,
                    params={"subscribed_fields": INSTAGRAM_FIELDS})  # fmt: skip
    return channel_connect(
        account=account, actor=actor, platform_type=Platform.INSTAGRAM_BUSINESS, platform_specific_id=ig_id,
        channel_name=f"@{me['username']}" if me.get("username") else ig_id,
        route=ConnectedChannel.Route.INSTAGRAM_LOGIN, access_token=grant.access_token,
        token_expires_at=grant.expires_at,
    )  # fmt: skip


def x_connect(*, account: Account, actor: Membership, code: str, verifier: str) -> ConnectedChannel:
    from channels_bot.platforms.x import XClient, token_request

    _require_admin(actor)
    grant = token_request({"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri("x"),
                           "code_verifier": verifier})  # fmt: skip
    if not grant.refresh_token:
        raise InvalidInput(
            gettext("X gave no refresh token: the app must ask for offline.access."), code="no_refresh_token"
        )
    user = XClient().me(grant.access_token)
    if not user.get("id"):
        raise PlatformError("X did not say which profile signed in.", failure=Failure.PERMANENT)
    # Its events pushed to our webhook before it is stored (as a page's subscribed_apps): a refusal stores nothing.
    _refuse_foreign(account, Platform.TWITTER_PROFILE, str(user["id"]))
    XClient().subscribe_webhooks(ConnectedChannel(
        account=account, platform_type=Platform.TWITTER_PROFILE, platform_specific_id=str(user["id"]),
        route=ConnectedChannel.Route.X_OAUTH2, access_token=grant.access_token,
    ))  # fmt: skip
    return channel_connect(
        account=account, actor=actor, platform_type=Platform.TWITTER_PROFILE, platform_specific_id=str(user["id"]),
        channel_name=f"@{user['username']}" if user.get("username") else str(user.get("name") or user["id"]),
        route=ConnectedChannel.Route.X_OAUTH2, access_token=grant.access_token, refresh_token=grant.refresh_token,
        token_expires_at=grant.expires_at,
    )  # fmt: skip


def linkedin_token(*, code: str) -> TokenGrant:
    response = http.request("POST", f"{settings.LINKEDIN_OAUTH_URL.rstrip('/')}/accessToken", label="LinkedIn", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri("linkedin"),
        "client_id": settings.LINKEDIN_CLIENT_ID, "client_secret": settings.LINKEDIN_CLIENT_SECRET,
    })  # fmt: skip
    if response.status_code >= 400:
        raise http.oauth_error(response, "LinkedIn")
    return grant_from(http.body_of(response), label="LinkedIn")


def linkedin_organizations(*, access_token: str) -> list[dict[str, str]]:
    """The organizations the member administers (approved ADMINISTRATOR role), with their names."""
    from channels_bot.platforms.linkedin import call

    acls = http.body_of(call(access_token, "GET", "rest/organizationAcls",
                             params={"q": "roleAssignee", "role": "ADMINISTRATOR", "state": "APPROVED"}))  # fmt: skip
    found = []
    for element in acls.get("elements") or []:
        urn = str(element.get("organization") or element.get("organizationTarget") or "")
        if not urn.startswith("urn:li:organization:"):
            continue
        org_id = urn.rsplit(":", 1)[-1]
        org = http.body_of(call(access_token, "GET", f"rest/organizations/{org_id}"))
        found.append({"id": org_id, "name": str(org.get("localizedName") or org_id)})
    return sorted(found, key=lambda o: o["name"].lower())


def linkedin_organization_connect(
    *, account: Account, actor: Membership, grant: TokenGrant, organization_id: str
) -> ConnectedChannel:
    _require_admin(actor)
    org = next((o for o in linkedin_organizations(access_token=grant.access_token) if o["id"] == organization_id), None)
    if org is None:
        raise InvalidInput(gettext("Choose one of the organizations you administer."),
                           fields={"organization_id": ["Not one of your organizations."]})  # fmt: skip
    _refuse_foreign(account, Platform.LINKEDIN_PAGE, org["id"])  # before subscribing its events
    pending = ConnectedChannel(
        account=account, platform_type=Platform.LINKEDIN_PAGE, platform_specific_id=org["id"],
        route=ConnectedChannel.Route.LINKEDIN_OAUTH, access_token=grant.access_token,
    )  # fmt: skip
    client_for(pending).subscribe_webhooks(pending)
    return channel_connect(
        account=account, actor=actor, platform_type=Platform.LINKEDIN_PAGE, platform_specific_id=org["id"],
        channel_name=org["name"], route=ConnectedChannel.Route.LINKEDIN_OAUTH, access_token=grant.access_token,
        refresh_token=grant.refresh_token, token_expires_at=grant.expires_at,
    )  # fmt: skip
