"""LinkedIn Community Management API: replies to comments and mentions on an
organization's posts (LinkedIn has no messaging API for Pages).

`POST {LINKEDIN_API_URL}/rest/socialActions/{urlencoded post URN}/comments` with
`{"actor": "urn:li:organization:<id>", "object": <activity URN>, "message": {"text"},
"parentComment": <comment URN>}`; every call sends `Authorization: Bearer`,
`LinkedIn-Version` and `X-Restli-Protocol-Version: 2.0.0`. The answer is 201
with the new comment's id in `x-restli-id`. Choices go as numbered text.

The reply target comes from SendContext: `reply_to_comment` (the customer's
comment URN, `urn:li:comment:(urn:li:activity:9,77)`, whose activity is the
`object`) and `source_post` (the post URN in the path); a comment on the post
itself (no comment to answer) uses the post as `object`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx
from django.conf import settings

from . import http
from .base import Failure, PlatformError, Profile, SendContext, SendResult, TokenGrant
from .instagram import grant_from

if TYPE_CHECKING:
    from channels_bot.models import ConnectedChannel
    from channels_bot.rich import Outgoing

LABEL = "LinkedIn"
COMMENT_TEXT_MAX = 1250  # LinkedIn's comment length (unverified, conservative)
_COMMENT_URN = re.compile(r"^urn:li:comment:\((?P<object>urn:li:[A-Za-z]+:[^,]+),(?P<id>[^)]+)\)$")


def api_url(path: str) -> str:
    return f"{settings.LINKEDIN_API_URL.rstrip('/')}/{path.lstrip('/')}"


def headers_for(access_token: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {access_token}",
        "LinkedIn-Version": settings.LINKEDIN_VERSION,
        "X-Restli-Protocol-Version": "2.0.0",
    }


def organization_urn(organization_id: str) -> str:
    return organization_id if organization_id.startswith("urn:") else f"urn:li:organization:{organization_id}"


def linkedin_error(response: httpx.Response) -> PlatformError:
    body = http.body_of(response)
    message = str(body.get("message") or f"LinkedIn answered HTTP {response.status_code}.")[:450]
    status = response.status_code
    if status == 401:
        failure = Failure.AUTH
    elif status == 429:
        failure = Failure.THROTTLED
    elif status >= 500:
        failure = Failure.TRANSIENT
    else:
        failure = Failure.PERMANENT
    return PlatformError(message, failure=failure, code=str(body.get("serviceErrorCode") or status))


def call(access_token: str, method: str, path: str, **kwargs) -> httpx.Response:
    response = http.request(method, api_url(path), label=LABEL, headers=headers_for(access_token), **kwargs)
    if response.status_code >= 400:
        raise linkedin_error(response)
    return response


def reply_body(channel: ConnectedChannel, text: str, context: SendContext) -> tuple[str, dict[str, Any]]:
    """The post URN of the path and the comment body."""
    post = context.source_post
    match = _COMMENT_URN.match(context.reply_to_comment or "")
    if not post and match is None:
        raise PlatformError("There is no LinkedIn post or comment to reply to.", failure=Failure.PERMANENT)
    body: dict[str, Any] = {
        "actor": organization_urn(channel.platform_specific_id),
        "object": match.group("object") if match else post,
        "message": {"text": text},
    }
    if match:
        body["parentComment"] = context.reply_to_comment
    return post or match.group("object"), body


class LinkedInClient:
    label = LABEL

    def send(self, channel: ConnectedChannel, outgoing: Outgoing, context: SendContext) -> SendResult:
        text = outgoing.as_numbered_text()[:COMMENT_TEXT_MAX]
        post, body = reply_body(channel, text, context)
        response = call(channel.access_token, "POST", f"rest/socialActions/{quote(post, safe='')}/comments", json=body)
        comment_id = response.headers.get("x-restli-id") or http.body_of(response).get("id")
        if not comment_id:
            raise PlatformError("LinkedIn accepted the comment but returned no id.", failure=Failure.PERMANENT)
        return SendResult(platform_message_id=str(comment_id))

    def fetch_profile(self, channel: ConnectedChannel, platform_customer_id: str) -> Profile | None:
        return None  # members' profiles are not readable with organization scopes

    def refresh_token(self, channel: ConnectedChannel) -> TokenGrant | None:
        """Refresh tokens exist only for LinkedIn's approved partners; without one, None."""
        if not channel.refresh_token:
            return None
        response = http.request(
            "POST", f"{settings.LINKEDIN_OAUTH_URL.rstrip('/')}/accessToken", label=LABEL,
            data={"grant_type": "refresh_token", "refresh_token": channel.refresh_token,
                  "client_id": settings.LINKEDIN_CLIENT_ID, "client_secret": settings.LINKEDIN_CLIENT_SECRET},
        )  # fmt: skip
        if response.status_code >= 400:
            raise http.oauth_error(response, LABEL)
        return grant_from(http.body_of(response), label=LABEL)

    def pass_thread_to_inbox(self, channel: ConnectedChannel, recipient_id: str) -> None:
        return None

    def take_thread_back(self, channel: ConnectedChannel, recipient_id: str) -> None:
        return None
