"""LinkedIn Community Management API: replies to comments and mentions on an
organization's posts (LinkedIn has no messaging API for Pages).

`POST {LINKEDIN_API_URL}/rest/socialActions/{urlencoded post URN}/comments` with
`{"actor": "urn:li:organization:<id>", "object": <activity URN>, "message": {"text"},
"parentComment": <comment URN>}`; every call sends `Authorization: Bearer`,
`LinkedIn-Version` and `X-Restli-Protocol-Version: 2.0.0`. The answer is 201
with the new comment's id in `x-restli-id`. Choices go as numbered text.

Webhooks: `PUT /rest/eventSubscriptions/(developerApplication:<app URN>,user:<admin
URN>,entity:<organization URN>,eventType:ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS)`
with `{"webhook": <our URL>}`, and `DELETE` of the same key at disconnect. The
admin is the member whose token the channel holds (the `roleAssignee` of their
organization ACL); the URNs inside the key are URL-encoded (Rest.li 2.0).

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
EVENT_TYPE = "ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS"
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


def admin_urn(access_token: str, organization_id: str) -> str:
    """The member URN of the token's holder, an approved administrator of the organization."""
    wanted = organization_urn(organization_id)
    acls = http.body_of(call(access_token, "GET", "rest/organizationAcls",
                             params={"q": "roleAssignee", "role": "ADMINISTRATOR", "state": "APPROVED"}))  # fmt: skip
    for element in acls.get("elements") or []:
        if str(element.get("organization") or element.get("organizationTarget") or "") == wanted:
            member = str(element.get("roleAssignee") or "")
            if member.startswith("urn:li:person:"):
                return member
    raise PlatformError("LinkedIn does not list this member as an administrator of the organization.",
                        failure=Failure.PERMANENT, code="not_admin")  # fmt: skip


def subscription_path(admin: str, organization_id: str) -> str:
    if not settings.LINKEDIN_APP_ID:
        raise PlatformError("LinkedIn webhooks need LINKEDIN_APP_ID (the developer application's id).",
                            failure=Failure.PERMANENT, code="not_configured")  # fmt: skip
    app = f"urn:li:developerApplication:{settings.LINKEDIN_APP_ID}"
    key = ",".join([
        f"developerApplication:{quote(app, safe='')}", f"user:{quote(admin, safe='')}",
        f"entity:{quote(organization_urn(organization_id), safe='')}", f"eventType:{EVENT_TYPE}",
    ])  # fmt: skip
    return f"rest/eventSubscriptions/({key})"


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

    def subscribe_webhooks(self, channel: ConnectedChannel) -> None:
        """The organization's social actions (comments, mentions) pushed to our endpoint."""
        admin = admin_urn(channel.access_token, channel.platform_specific_id)
        call(channel.access_token, "PUT", subscription_path(admin, channel.platform_specific_id),
             json={"webhook": http.webhook_url("linkedin")})  # fmt: skip

    def unsubscribe_webhooks(self, channel: ConnectedChannel) -> None:
        admin = admin_urn(channel.access_token, channel.platform_specific_id)
        call(channel.access_token, "DELETE", subscription_path(admin, channel.platform_specific_id))
