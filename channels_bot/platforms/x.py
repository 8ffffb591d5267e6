"""X (Twitter) API v2: direct messages with a user's OAuth 2.0 token.

`POST {X_API_URL}/2/dm_conversations/with/{participant_id}/messages` with
`Authorization: Bearer <user token>` and `{"text": …}`; X DMs have no quick
replies or buttons, so choices go as `Outgoing.as_numbered_text()` (an image
as its link: a DM attachment must be uploaded media).

Webhooks (the Account Activity API): the app's webhook is found in
`GET /2/webhooks` (or registered with `POST /2/webhooks {"url"}`, which makes X
send a CRC check) with the app's bearer token (`POST /oauth2/token`,
client_credentials, Basic X_CONSUMER_KEY:X_CONSUMER_SECRET); the user is
subscribed with their own token, `POST
/2/account_activity/webhooks/{id}/subscriptions/all`, and removed with the app
token, `DELETE /2/account_activity/webhooks/{id}/subscriptions/{user_id}/all`.

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


def app_bearer() -> str:
    """The app-only bearer token (client credentials with the consumer key and secret)."""
    if not (settings.X_CONSUMER_KEY and settings.X_CONSUMER_SECRET):
        raise PlatformError("X webhooks need X_CONSUMER_KEY and X_CONSUMER_SECRET (the app's API key and secret).",
                            failure=Failure.PERMANENT, code="not_configured")  # fmt: skip
    response = http.request(
        "POST", api_url("oauth2/token"), label=LABEL, data={"grant_type": "client_credentials"},
        auth=(settings.X_CONSUMER_KEY, settings.X_CONSUMER_SECRET),
    )  # fmt: skip
    if response.status_code >= 400:
        raise http.oauth_error(response, LABEL)
    token = http.body_of(response).get("access_token")
    if not token:
        raise PlatformError("X returned no app bearer token.", failure=Failure.TRANSIENT)
    return str(token)


def app_call(bearer: str, method: str, path: str, **kwargs) -> dict[str, Any]:
    response = http.request(method, api_url(path), label=LABEL, headers={"Authorization": f"Bearer {bearer}"}, **kwargs)
    if response.status_code >= 400:
        raise x_error(response)
    return http.body_of(response)


def webhook_id(bearer: str, *, register: bool) -> str | None:
    """The id of the app's webhook at our URL; registered when missing and `register`."""
    url = http.webhook_url("x")
    listed = app_call(bearer, "GET", "2/webhooks").get("data") or []
    found = next((str(w["id"]) for w in listed if isinstance(w, dict) and w.get("url") == url and w.get("id")), None)
    if found or not register:
        return found
    created = (app_call(bearer, "POST", "2/webhooks", json={"url": url}).get("data") or {}).get("id")
    if not created:
        raise PlatformError("X registered the webhook but returned no id.", failure=Failure.PERMANENT)
    return str(created)


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

    def subscribe_webhooks(self, channel: ConnectedChannel) -> None:
        """The app's webhook (registered if needed), then this user subscribed to it."""
        hook = webhook_id(app_bearer(), register=True)
        path = f"2/account_activity/webhooks/{hook}/subscriptions/all"
        # A channel being connected has a token issued a moment ago: nothing to refresh yet.
        call = self._call if channel._state.adding else self._authorized
        data = call(channel, "POST", path)
        if (data.get("data") or {}).get("subscribed") is False:
            raise PlatformError("X did not subscribe the profile to the webhook.", failure=Failure.PERMANENT)

    def unsubscribe_webhooks(self, channel: ConnectedChannel) -> None:
        """This user removed from the app's webhook (nothing to do when there is none)."""
        bearer = app_bearer()
        hook = webhook_id(bearer, register=False)
        if hook is None:
            return
        user_id = channel.platform_specific_id
        app_call(bearer, "DELETE", f"2/account_activity/webhooks/{hook}/subscriptions/{user_id}/all")
