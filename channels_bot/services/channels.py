"""Managing a connected channel: its name, pausing it, its persona, disconnecting it.

Connecting (OAuth) and token refresh live in `services/connect.py`. Only an
account's admins and owners manage channels.

Disconnecting keeps the channel's customers, conversations and orders (orders
protect their channel, and an inbox history should not vanish): the platform
is asked to stop pushing its events (`unsubscribe_webhooks`: Meta
`DELETE /{page-id}/subscribed_apps`, unless another connected channel still
receives that page's events; X removes the profile from the app's webhook;
LinkedIn deletes the event subscription), the tokens are erased, the bot
stops, and the channel shows as needing a reconnect until the connect flow
stores fresh tokens on the same row. A platform that refuses the unsubscribe
is logged and named in the channel's `auth_error`; the disconnect happens anyway.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.events import publish_on_commit
from accounts.models import Membership, Role
from accounts.tenancy.context import account_context, rls_bypass
from aiplatform.errors import Forbidden, InvalidInput
from channels_bot.models import ConnectedChannel
from channels_bot.models.platforms import Platform

log = logging.getLogger("channels_bot.channels")

CHANNEL_EVENT = "channel.updated"
EDITABLE = {"channel_name", "is_active", "persona"}


def _require_admin(actor: Membership) -> None:
    if not Role(actor.role).at_least(Role.ADMIN):
        raise Forbidden(gettext("Only the account's admins and owners manage channels."))


def _published(channel: ConnectedChannel) -> None:
    publish_on_commit(
        channel.account_id, CHANNEL_EVENT,
        {"id": str(channel.pk), "is_active": channel.is_active, "auth_state": channel.auth_state,
         "persona_id": str(channel.persona_id) if channel.persona_id else None},
    )  # fmt: skip


def channel_update(*, channel: ConnectedChannel, actor: Membership, **changes: Any) -> ConnectedChannel:
    """Rename, pause or resume a channel, or bind it to a persona the account can see (None: no persona)."""
    _require_admin(actor)
    unknown = set(changes) - EDITABLE
    if unknown:
        raise InvalidInput(
            gettext("These fields cannot be changed."), fields={name: ["Not editable."] for name in unknown}
        )
    if "channel_name" in changes:
        name = (changes["channel_name"] or "").strip()
        if not name:
            raise InvalidInput(
                gettext("A channel needs a name."), fields={"channel_name": ["This field may not be blank."]}
            )
        changes["channel_name"] = name[:200]
    if "persona" in changes and changes["persona"] is not None:
        from personas.selectors import persona_get_for_account

        changes["persona"] = persona_get_for_account(
            channel.account, getattr(changes["persona"], "pk", changes["persona"])
        )
    if not changes:
        return channel
    with account_context(channel.account_id), transaction.atomic():
        for name, value in changes.items():
            setattr(channel, name, value)
        channel.save(update_fields=[*changes, "updated_at"])
        _published(channel)
    return channel


def _page_shared(channel: ConnectedChannel) -> bool:
    """Another connected channel (of any account) gets this Meta page's events: a Facebook
    Page and the Instagram account linked to it share one `subscribed_apps`."""
    page = channel.page_id if channel.platform_type == Platform.INSTAGRAM_BUSINESS else channel.platform_specific_id
    # Disconnected ones excluded (tokens are encrypted, so not comparable in SQL); a reconnect subscribes again.
    others = ConnectedChannel.objects.exclude(pk=channel.pk).exclude(
        is_active=False, auth_state=ConnectedChannel.AuthState.NEEDS_RECONNECT
    )
    with rls_bypass("channel_disconnect: does another account's channel receive this page's webhooks?"):
        return (
            others.filter(platform_type=Platform.FACEBOOK_PAGE, platform_specific_id=page).exists()
            or others.filter(platform_type=Platform.INSTAGRAM_BUSINESS, page_id=page).exists()
        )


def _unsubscribe(channel: ConnectedChannel) -> str:
    """Ask the platform to stop pushing the channel's events; what went wrong, or ""."""
    from channels_bot.platforms import client_for
    from channels_bot.platforms.base import PlatformError

    if not channel.access_token:
        return ""  # disconnected before: nothing is subscribed any more
    if channel.route == ConnectedChannel.Route.FACEBOOK_LOGIN and _page_shared(channel):
        return ""
    try:
        client_for(channel).unsubscribe_webhooks(channel)
    except PlatformError as exc:
        log.warning("unsubscribing the webhooks of channel %s failed: %s", channel.pk, exc.message)
        return (
            f"{channel.get_platform_type_display()} was not told to stop sending its events ({exc.message}); "
            "remove this app from the page or profile in the platform's settings."
        )
    return ""


def channel_disconnect(*, channel: ConnectedChannel, actor: Membership) -> ConnectedChannel:
    """Stop the platform's webhooks, erase the channel's tokens and stop the bot; its history stays."""
    _require_admin(actor)
    when = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    problem = _unsubscribe(channel)  # with the tokens it still has; no transaction held over the network
    with account_context(channel.account_id), transaction.atomic():
        channel.access_token = ""
        channel.refresh_token = None
        channel.token_expires_at = None
        channel.is_active = False
        channel.auth_state = ConnectedChannel.AuthState.NEEDS_RECONNECT
        note = f"Disconnected by {actor.user.display_name} on {when}. Connect it again to resume."
        channel.auth_error = f"{note} {problem}".strip()[:500]
        channel.save(
            update_fields=[
                "access_token", "refresh_token", "token_expires_at", "is_active", "auth_state", "auth_error",
                "updated_at",
            ]
        )  # fmt: skip
        _published(channel)
    return channel
