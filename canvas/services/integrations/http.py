"""Outgoing HTTP of the integrations: one pooled httpx client per process, the
BUILDER_INTEGRATIONS_TIMEOUT, network faults as TRANSIENT, and the guard on
user-given addresses (a WordPress site, a Simvoly domain, a webhook, a page to
import): https only and a public address, unless the settings allow http or
private hosts (local development, the tests' loopback fakes). The address is
resolved and checked before connecting; redirects are not followed."""

from __future__ import annotations

import ipaddress
import os
import socket
import threading
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings

from .base import Failure, IntegrationError

_lock = threading.Lock()
_client: httpx.Client | None = None
_client_pid = 0


def client() -> httpx.Client:
    global _client, _client_pid
    if _client is None or _client_pid != os.getpid():
        with _lock:
            if _client is None or _client_pid != os.getpid():
                _client, _client_pid = httpx.Client(follow_redirects=False), os.getpid()
    return _client


def check_user_url(url: str, *, what: str = "address") -> str:
    """The normalised URL, or IntegrationError (PERMANENT) saying what is wrong with it."""
    url = (url or "").strip()
    parts = urlsplit(url)
    allowed = ("https", "http") if settings.BUILDER_INTEGRATIONS_ALLOW_HTTP else ("https",)
    if parts.scheme not in allowed or not parts.hostname:
        raise IntegrationError(f"The {what} must be an {' or '.join(allowed)} URL like https://example.com.")
    if parts.username or parts.password:
        raise IntegrationError(f"The {what} must not contain a user name or password.")
    if not settings.BUILDER_INTEGRATIONS_ALLOW_PRIVATE_HOSTS:
        try:
            infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
        except OSError as exc:
            raise IntegrationError(f"The {what}'s host {parts.hostname} could not be found.",
                                   failure=Failure.TRANSIENT) from exc  # fmt: skip
        for info in infos:
            address = ipaddress.ip_address(info[4][0])
            if not address.is_global:
                raise IntegrationError(f"The {what} points to a private network address, which is not allowed.")
    return url.rstrip("/")


def request(method: str, url: str, *, label: str, json: Any = None, data: dict | None = None,
            params: dict | None = None, headers: dict | None = None, auth: tuple[str, str] | None = None,
            content: bytes | None = None, max_bytes: int | None = None) -> httpx.Response:  # fmt: skip
    timeout = httpx.Timeout(settings.BUILDER_INTEGRATIONS_TIMEOUT)
    try:
        if max_bytes is None:
            return client().request(method, url, json=json, data=data, params=params, headers=headers, auth=auth,
                                    content=content, timeout=timeout)  # fmt: skip
        with client().stream(method, url, params=params, headers=headers, timeout=timeout) as response:
            body = b""
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise IntegrationError(f"{label} is larger than {max_bytes // 1000} kB.")
            return httpx.Response(response.status_code, headers=response.headers, content=body,
                                  request=response.request)  # fmt: skip
    except httpx.TimeoutException as exc:
        raise IntegrationError(f"{label} did not answer within {settings.BUILDER_INTEGRATIONS_TIMEOUT:g} s.",
                               failure=Failure.TRANSIENT) from exc  # fmt: skip
    except httpx.HTTPError as exc:
        raise IntegrationError(f"{label} could not be reached ({exc.__class__.__name__}).",
                               failure=Failure.TRANSIENT) from exc  # fmt: skip


def body_of(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return {}


def classify(response: httpx.Response, label: str, message: str = "") -> IntegrationError:
    """The failure of an HTTP error answer."""
    code = response.status_code
    retry_after = None
    if code == 429:
        try:
            retry_after = int(response.headers.get("Retry-After", "") or 0) or None
        except ValueError:
            retry_after = None
        return IntegrationError(f"{label} is rate-limiting us; the request is retried shortly.",
                                failure=Failure.THROTTLED, status=code, retry_after=retry_after)  # fmt: skip
    if code >= 500:
        return IntegrationError(f"{label} had a server error (HTTP {code}); it is retried.",
                                failure=Failure.TRANSIENT, status=code)  # fmt: skip
    if code in (401, 403) and not message.startswith("!"):
        return IntegrationError(message or f"{label} refused our credentials (HTTP {code}). Reconnect it.",
                                failure=Failure.AUTH, status=code)  # fmt: skip
    return IntegrationError(message.lstrip("!") or f"{label} refused the request (HTTP {code}).",
                            failure=Failure.PERMANENT, status=code)  # fmt: skip
