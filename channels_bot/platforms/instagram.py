"""Instagram Login (an Instagram business account without a Page).

Sends `POST {INSTAGRAM_GRAPH_URL}/{IG_ID}/messages` with `Authorization: Bearer`
and Messenger's bodies (`meta.render_messages(instagram=True)`: text ≤ 1000
bytes). The 60-day token is refreshed with
`GET {INSTAGRAM_GRAPH_URL}/refresh_access_token?grant_type=ig_refresh_token`,
which only works on an unexpired token at least 24 h old (the beat task
`tokens_refresh` respects both).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import timezone

from . import http
from .base import Failure, PlatformError, Profile, SendContext, SendResult, TokenGrant
from .meta import fetch_graph_profile, render_messages, send_parts

if TYPE_CHECKING:
    from channels_bot.models import ConnectedChannel
    from channels_bot.rich import Outgoing

LABEL = "Instagram"
# The account's webhook fields (`POST /me/subscribed_apps`), as services/connect.py subscribes them.
INSTAGRAM_FIELDS = "messages,messaging_postbacks,messaging_seen,message_reactions"


def graph_url(path: str) -> str:
    return f"{settings.INSTAGRAM_GRAPH_URL.rstrip('/')}/{path.lstrip('/')}"


def grant_from(data: dict[str, Any], *, label: str = LABEL) -> TokenGrant:
    token = data.get("access_token")
    if not token:
        raise PlatformError(f"{label} returned no access token.", failure=Failure.TRANSIENT)
    expires_in = data.get("expires_in")
    expires_at = timezone.now() + timedelta(seconds=int(expires_in)) if expires_in else None
    return TokenGrant(access_token=str(token), expires_at=expires_at, refresh_token=data.get("refresh_token"))


class InstagramLoginClient:
    label = LABEL

    @staticmethod
    def _auth(channel: ConnectedChannel) -> dict[str, str]:
        return {"Authorization": f"Bearer {channel.access_token}"}

    def send(self, channel: ConnectedChannel, outgoing: Outgoing, context: SendContext) -> SendResult:
        url, headers = graph_url(f"{channel.platform_specific_id}/messages"), self._auth(channel)

        def post(body: dict[str, Any]) -> dict[str, Any]:
            return http.graph_call("POST", url, label=self.label, headers=headers, json=body)

        return send_parts(post, render_messages(outgoing, instagram=True), context)

    def fetch_profile(self, channel: ConnectedChannel, platform_customer_id: str) -> Profile | None:
        return fetch_graph_profile(
            graph_url(platform_customer_id), label=self.label, params={"fields": "name,profile_pic"},
            headers=self._auth(channel),
        )  # fmt: skip

    def refresh_token(self, channel: ConnectedChannel) -> TokenGrant | None:
        data = http.graph_call(
            "GET", graph_url("refresh_access_token"), label=self.label,
            params={"grant_type": "ig_refresh_token", "access_token": channel.access_token},
        )  # fmt: skip
        return grant_from(data)

    def pass_thread_to_inbox(self, channel: ConnectedChannel, recipient_id: str) -> None:
        return None

    def take_thread_back(self, channel: ConnectedChannel, recipient_id: str) -> None:
        return None

    def subscribe_webhooks(self, channel: ConnectedChannel) -> None:
        """`POST /me/subscribed_apps` with the account's token."""
        http.graph_call("POST", graph_url("me/subscribed_apps"), label=self.label, headers=self._auth(channel),
                        params={"subscribed_fields": INSTAGRAM_FIELDS})  # fmt: skip

    def unsubscribe_webhooks(self, channel: ConnectedChannel) -> None:
        """`DELETE /me/subscribed_apps`: the account stops sending our app its events."""
        http.graph_call("DELETE", graph_url("me/subscribed_apps"), label=self.label, headers=self._auth(channel))
