"""X (Twitter) API v2: direct messages with a user's OAuth 2.0 token.

`POST {X_API_URL}/2/dm_conversations/with/{participant_id}/messages` with
`Authorization: Bearer <user token>` and `{"text": …}`; X DMs have no quick
replies or buttons, so choices go as `Outgoing.as_numbered_text()` (an image
as its link: a DM attachment must be uploaded media).

Errors: 401 -> the token is refreshed once (under the channel's refresh lock,
`services.connect.channel_token_refresh`) and the send retried; a second 401
or a refused refresh is AUTH. 429 is THROTTLED with `retry_after` from
`x-rate-limit-reset` (epoch seconds); 403 (the recipient does not accept DMs)
and other 4xx are PERMANENT; 5xx and timeouts TRANSIENT.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import httpx
from django.conf import settings

from . import http
from .base import Failure, PlatformError, Profile, SendContext, SendResult, TokenGrant
from .instagram import grant_from

if TYPE_CHECKING:
    from channels_bot.models import ConnectedChannel
    from channels_bot.rich import Outgoing

LABEL = "X"
DM_TEXT_MAX = 10_000


def api_url(path: str) -> str:
    return f"{settings.X_API_URL.rstrip('/')}/{path.lstrip('/')}"


def x_error(response: httpx.Response) -> PlatformError:
    body = http.body_of(response)
    detail = body.get("detail") or body.get("title")
    if not detail and isinstance(body.get("errors"), list) and body["errors"]:
        detail = body["errors"][0].get("message")
    message = str(detail or f"X answered HTTP {response.status_code}.")[:450]
    status = response.status_code
    if status == 401:
        return PlatformError(message, failure=Failure.AUTH, code="401")
    if status == 429:
        retry_after = None
        reset = response.headers.get("x-rate-limit-reset")
        if reset and reset.strip().isdigit():
            retry_after = max(0.0, float(reset) - time.time())
        return PlatformError(message, failure=Failure.THROTTLED, code="429", retry_after=retry_after)
    if status >= 500:
        return PlatformError(message, failure=Failure.TRANSIENT, code=str(status))
    return PlatformError(message, failure=Failure.PERMANENT, code=str(status))


def token_request(data: dict[str, str]) -> TokenGrant:
    """`POST /2/oauth2/token`: Basic auth for a confidential client, client_id in the body for a public one."""
    form = {**data, "client_id": settings.X_CLIENT_ID}
    auth = (settings.X_CLIENT_ID, settings.X_CLIENT_SECRET) if settings.X_CLIENT_SECRET else None
    response = http.request("POST", api_url("2/oauth2/token"), label=LABEL, data=form, auth=auth)
    if response.status_code >= 400:
        raise http.oauth_error(response, LABEL)
    return grant_from(http.body_of(response), label=LABEL)


class XClient:
    label = LABEL

    def _call(self, channel: ConnectedChannel, method: str, path: str, **kwargs) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {channel.access_token}"}
        response = http.request(method, api_url(path), label=self.label, headers=headers, **kwargs)
        if response.status_code >= 400:
            raise x_error(response)
        return http.body_of(response)

    def _authorized(self, channel: ConnectedChannel, method: str, path: str, **kwargs) -> dict[str, Any]:
        """The call, with one token refresh on a 401 (X user tokens last 2 hours)."""
        from channels_bot.services.connect import channel_token_refresh

        channel_token_refresh(channel=channel)  # no-op unless within 5 minutes of expiry
        try:
            return self._call(channel, method, path, **kwargs)
        except PlatformError as exc:
            if exc.failure != Failure.AUTH:
                raise
        channel_token_refresh(channel=channel, force=True)
        return self._call(channel, method, path, **kwargs)

    def send(self, channel: ConnectedChannel, outgoing: Outgoing, context: SendContext) -> SendResult:
        text = outgoing.as_numbered_text()[:DM_TEXT_MAX]
        data = self._authorized(
            channel, "POST", f"2/dm_conversations/with/{context.recipient_id}/messages", json={"text": text}
        )
        event_id = (data.get("data") or {}).get("dm_event_id")
        if not event_id:
            raise PlatformError("X accepted the message but returned no dm_event_id.", failure=Failure.PERMANENT)
        return SendResult(platform_message_id=str(event_id))

    def fetch_profile(self, channel: ConnectedChannel, platform_customer_id: str) -> Profile | None:
        try:
            data = self._authorized(
                channel, "GET", f"2/users/{platform_customer_id}", params={"user.fields": "profile_image_url"}
            )
        except PlatformError as exc:
            if exc.failure == Failure.PERMANENT:
                return None
            raise
        user = data.get("data") or {}
        return Profile(
            full_name=str(user.get("name") or user.get("username") or "")[:200],
            profile_picture_url=str(user.get("profile_image_url") or "")[:1000],
        )

    def me(self, access_token: str) -> dict[str, Any]:
        """The connecting user (`GET /2/users/me`): id, name, username."""
        response = http.request("GET", api_url("2/users/me"), label=self.label,
                                headers={"Authorization": f"Bearer {access_token}"})  # fmt: skip
        if response.status_code >= 400:
            raise x_error(response)
        return http.body_of(response).get("data") or {}

    def refresh_token(self, channel: ConnectedChannel) -> TokenGrant | None:
        if not channel.refresh_token:
            raise PlatformError("This X connection has no refresh token: connect it again.", failure=Failure.AUTH)
        grant = token_request({"grant_type": "refresh_token", "refresh_token": channel.refresh_token})
        # X rotates refresh tokens; one that is not returned stays valid.
        return grant if grant.refresh_token else TokenGrant(grant.access_token, grant.expires_at, channel.refresh_token)

    def pass_thread_to_inbox(self, channel: ConnectedChannel, recipient_id: str) -> None:
        return None

    def take_thread_back(self, channel: ConnectedChannel, recipient_id: str) -> None:
        return None
