"""The HTTP plumbing every platform client shares: one pooled httpx client per
process, CHANNELS_HTTP_TIMEOUT on every call, network faults as TRANSIENT
`PlatformError`s, and the Graph error format (Messenger, Instagram) classified
the way the reference says.

Graph errors look like
`{"error":{"message","type":"OAuthException","code":190,"error_subcode":463,"fbtrace_id"}}`:

| code / subcode | failure |
| --- | --- |
| 190 (any subcode: 458, 460, 463, 467) | AUTH (the channel needs reconnecting) |
| 10 with subcode 2018278 | WINDOW_CLOSED (the agent is told) |
| 4, 17, 32, 613 | THROTTLED (back off) |
| 1, 2, or `is_transient: true`, or HTTP 5xx | TRANSIENT (retry) |
| 551, 100, anything else | PERMANENT (no retry) |
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

import httpx
from django.conf import settings

from .base import Failure, PlatformError

log = logging.getLogger("channels_bot.platforms")

_lock = threading.Lock()
_client: httpx.Client | None = None
_client_pid = 0

GRAPH_THROTTLED = frozenset({4, 17, 32, 613})
GRAPH_TRANSIENT = frozenset({1, 2})
GRAPH_AUTH = 190
GRAPH_WINDOW = (10, 2018278)


class PartialSendError(PlatformError):
    """A message that needed several platform messages failed after `sent_parts`
    of them were accepted: a retry starts at that part (SendContext.skip_parts),
    so the customer never gets a part twice."""

    def __init__(self, cause: PlatformError, *, sent_parts: int, platform_message_id: str) -> None:
        super().__init__(
            cause.message, failure=cause.failure, code=cause.code, subcode=cause.subcode, retry_after=cause.retry_after
        )
        self.sent_parts = sent_parts
        self.platform_message_id = platform_message_id


def webhook_url(source: str) -> str:
    """The public address of a webhook endpoint ("meta", "x", "linkedin") that the
    platforms push to: CHANNELS_WEBHOOK_BASE_URL (or SITE_URL) and its route."""
    from django.urls import reverse

    base = settings.CHANNELS_WEBHOOK_BASE_URL or settings.SITE_URL
    return base.rstrip("/") + reverse(f"channels_bot_webhooks:{source}")


def client() -> httpx.Client:
    """The process's client; a forked Celery child makes its own (no shared sockets)."""
    global _client, _client_pid
    if _client is None or _client_pid != os.getpid():
        with _lock:
            if _client is None or _client_pid != os.getpid():
                _client, _client_pid = httpx.Client(follow_redirects=False), os.getpid()
    return _client


def request(
    method: str,
    url: str,
    *,
    label: str,
    params: dict[str, Any] | None = None,
    json: Any = None,
    data: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    auth: tuple[str, str] | None = None,
) -> httpx.Response:
    """One call to a platform; a timeout or a refused connection is TRANSIENT."""
    timeout = httpx.Timeout(settings.CHANNELS_HTTP_TIMEOUT)
    try:
        return client().request(
            method, url, params=params, json=json, data=data, headers=headers, auth=auth, timeout=timeout
        )
    except httpx.TimeoutException as exc:
        raise PlatformError(f"{label} did not answer within {settings.CHANNELS_HTTP_TIMEOUT:g} s.",
                            failure=Failure.TRANSIENT, code="timeout") from exc  # fmt: skip
    except httpx.HTTPError as exc:
        raise PlatformError(f"{label} could not be reached: {exc.__class__.__name__}.",
                            failure=Failure.TRANSIENT, code="network") from exc  # fmt: skip


def body_of(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {"data": data}


def graph_error(response: httpx.Response, label: str) -> PlatformError:
    """The Graph error of a failed response, classified."""
    error = body_of(response).get("error")
    if not isinstance(error, dict):
        failure = Failure.TRANSIENT if response.status_code >= 500 or response.status_code == 429 else Failure.PERMANENT
        return PlatformError(f"{label} answered HTTP {response.status_code}.", failure=failure,
                             code=str(response.status_code))  # fmt: skip
    try:
        code = int(error.get("code") or 0)
    except (TypeError, ValueError):
        code = 0
    try:
        subcode = int(error.get("error_subcode") or 0)
    except (TypeError, ValueError):
        subcode = 0
    message = str(error.get("message") or f"{label} refused the request.")[:450]
    if code == GRAPH_AUTH:
        failure = Failure.AUTH
    elif (code, subcode) == GRAPH_WINDOW or subcode == GRAPH_WINDOW[1]:
        failure = Failure.WINDOW_CLOSED
    elif code in GRAPH_THROTTLED:
        failure = Failure.THROTTLED
    elif code in GRAPH_TRANSIENT or error.get("is_transient") is True or response.status_code >= 500:
        failure = Failure.TRANSIENT
    else:
        failure = Failure.PERMANENT
    return PlatformError(message, failure=failure, code=str(code or response.status_code),
                         subcode=str(subcode) if subcode else "")  # fmt: skip


def graph_call(method: str, url: str, *, label: str, **kwargs) -> dict[str, Any]:
    """A Graph API call (Facebook or Instagram) that answers JSON or raises a classified error."""
    response = request(method, url, label=label, **kwargs)
    if response.status_code >= 400:
        raise graph_error(response, label)
    return body_of(response)


def oauth_error(response: httpx.Response, label: str) -> PlatformError:
    """An OAuth 2.0 token endpoint's refusal (`{"error","error_description"}`):
    a refused grant is AUTH (reconnect), a server fault TRANSIENT."""
    body = body_of(response)
    error = body.get("error")
    if isinstance(error, dict):  # Graph-shaped (Instagram's token endpoints)
        return graph_error(response, label)
    description = body.get("error_description") or error or f"HTTP {response.status_code}"
    if response.status_code >= 500:
        failure = Failure.TRANSIENT
    elif response.status_code == 429:
        failure = Failure.THROTTLED
    else:
        failure = Failure.AUTH
    return PlatformError(f"{label} refused the token request: {description}"[:450], failure=failure,
                         code=str(error or response.status_code))  # fmt: skip
