"""HTTP to the hosted media providers, over the gateway's pooled client.

Retries as the chat gateway does (aiplatform/ai/providers/transport.py): on
408/409/429/5xx and transport errors, at most AI_MAX_RETRIES times, honouring
Retry-After / retry-after-ms up to AI_RETRY_AFTER_MAX (the ElevenLabs SDK does
the same). Each provider parses its own error body into (code, message) and
maps the codes that need a person to act; this module turns the rest into the
gateway's errors.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from django.conf import settings
from django.utils.translation import gettext as _

from ..providers.transport import Endpoint, _retry, _retry_after, _wait_before_retry, sync_client, transport_error
from .errors import MediaBusy, MediaMisconfigured, MediaProviderError, MediaRejected

_RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})

# (status, code, message) -> an error, or None for the generic mapping
ErrorMapper = Callable[[int, str, str], Exception | None]


@dataclass(frozen=True)
class ProviderFault:
    status: int
    code: str
    message: str


def timeout() -> httpx.Timeout:
    return httpx.Timeout(settings.MEDIA_HTTP_TIMEOUT, connect=min(settings.AI_CONNECT_TIMEOUT, 10.0))


def request(
    endpoint: Endpoint,
    method: str,
    path: str,
    *,
    parse_error: Callable[[httpx.Response], tuple[str, str]],
    map_error: ErrorMapper | None = None,
    absolute_url: str = "",
    with_auth: bool = True,
    **kwargs,
) -> httpx.Response:
    """One request with retries; a successful response, or the mapped error."""
    client, limits = sync_client(), timeout()
    url = absolute_url or endpoint.url(path)
    headers = {**(endpoint.headers if with_auth else {}), **kwargs.pop("headers", {})}
    for attempt in range(settings.AI_MAX_RETRIES + 1):
        try:
            response = client.request(method, url, headers=headers, timeout=limits, **kwargs)
        except httpx.TransportError as exc:
            wait = _wait_before_retry(None, attempt)
            if wait is None:
                raise transport_error(endpoint, exc, limits) from exc
            _retry(type(exc).__name__, endpoint, attempt, wait)
            time.sleep(wait)
            continue
        if response.is_success:
            return response
        wait = _wait_before_retry(response, attempt) if response.status_code in _RETRY_STATUSES else None
        if wait is None:
            raise error_for(endpoint, response, parse_error, map_error, attempt + 1)
        _retry(f"HTTP {response.status_code}", endpoint, attempt, wait)
        time.sleep(wait)
    raise AssertionError("unreachable")


def download(endpoint: Endpoint, url: str, target: Path, *, parse_error) -> Path:
    """Stream a hosted result (a signed URL: no API key sent) into `target`."""
    client, limits = sync_client(), timeout()
    try:
        with client.stream("GET", url, timeout=limits) as response:
            if not response.is_success:
                response.read()
                raise error_for(endpoint, response, parse_error, None, 1)
            with target.open("wb") as out:
                for chunk in response.iter_bytes(1 << 16):
                    out.write(chunk)
    except httpx.TransportError as exc:
        raise transport_error(endpoint, exc, limits) from exc
    return target


def error_for(endpoint: Endpoint, response: httpx.Response, parse_error, map_error, attempts: int) -> Exception:
    status = response.status_code
    try:
        code, message = parse_error(response)
    except ValueError:
        code, message = "", response.text.strip()[:300]
    said = f"{code}: {message}" if code else message
    if map_error is not None:
        mapped = map_error(status, code, message)
        if mapped is not None:
            return mapped
    if status in (401, 403):
        return MediaMisconfigured(
            _("%(label)s refused our credentials (HTTP %(status)s: %(said)s). Check %(setting)s.")
            % {"label": endpoint.label, "status": status, "said": said, "setting": endpoint.key_setting}
        )
    if status == 429:
        wait = _retry_after(response)
        return MediaBusy(
            (
                _("%(label)s is busy or rate limiting us (HTTP 429: %(said)s); it asks to retry after %(wait)s s.")
                % {"label": endpoint.label, "said": said, "wait": format(wait, "g")}
                if wait is not None
                else _("%(label)s is busy or rate limiting us (HTTP 429: %(said)s). The job is retried later.")
                % {"label": endpoint.label, "said": said}
            ),
            extra={"retry_after": wait} if wait is not None else None,
        )
    if status >= 500:
        values = {"label": endpoint.label, "status": status, "attempts": attempts, "said": said}
        if attempts > 1:
            return MediaProviderError(
                _("%(label)s failed (HTTP %(status)s after %(attempts)s attempts: %(said)s).") % values
            )
        return MediaProviderError(_("%(label)s failed (HTTP %(status)s: %(said)s).") % values)
    return MediaRejected(
        _("%(label)s rejected the request (HTTP %(status)s: %(said)s).")
        % {"label": endpoint.label, "status": status, "said": said}
    )


def json_body(endpoint: Endpoint, response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        raise MediaProviderError(
            _("%(label)s answered with something that is not JSON (%(text)s). Check %(setting)s (%(url)s).")
            % {
                "label": endpoint.label,
                "text": repr(response.text[:120]),
                "setting": endpoint.base_setting,
                "url": endpoint.base_url,
            }
        ) from None
    if not isinstance(body, dict):
        raise MediaProviderError(
            _("%(label)s answered with unexpected JSON (%(body)s).")
            % {"label": endpoint.label, "body": str(body)[:120]}
        )
    return body
