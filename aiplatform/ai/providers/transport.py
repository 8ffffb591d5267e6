"""HTTP to the hosted providers: pooled clients, retries, and errors people can act on.

* One `httpx.Client` per process and one `httpx.AsyncClient` per event loop, so
  calls reuse warm keep-alive connections (a new TCP + TLS handshake per call
  would cost more than the whole gateway).
* Retries: on 429, 408/409, 5xx and transport errors (refused, reset, timed out),
  at most AI_MAX_RETRIES times, waiting AI_RETRY_BACKOFF x 2^attempt with full
  jitter (capped at 8 s) or what the provider's Retry-After asks, if that is
  at most AI_RETRY_AFTER_MAX. A stream is retried only until its first event
  arrives: after that the caller has seen text, and a second answer would differ.
* Errors: unreachable / timed out -> ProviderUnavailable naming the host and
  what to check; 401/403 -> ProviderMisconfigured naming the key setting;
  other refusals -> ProviderError with the provider's own message.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import os
import random
import threading
import time
import weakref
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.utils.translation import gettext as _

from ..errors import ProviderError, ProviderMisconfigured, ProviderUnavailable
from .sse import Event, aiter_events, iter_events

log = logging.getLogger("aiplatform.ai")

_RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504, 529})
_MAX_BACKOFF = 8.0


@dataclass(frozen=True)
class Endpoint:
    """Where one provider lives and how to name its settings in errors."""

    label: str  # "OpenAI-compatible provider"
    base_url: str
    headers: dict[str, str]
    base_setting: str  # "AI_OPENAI_BASE_URL"
    key_setting: str  # "AI_OPENAI_API_KEY"

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).netloc or self.base_url

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path


# --- clients ------------------------------------------------------------------------

_lock = threading.Lock()
_client: httpx.Client | None = None
_client_pid = 0
_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = weakref.WeakKeyDictionary()


def _limits() -> httpx.Limits:
    return httpx.Limits(
        max_connections=settings.AI_MAX_CONNECTIONS,
        max_keepalive_connections=settings.AI_MAX_KEEPALIVE_CONNECTIONS,
        keepalive_expiry=60,
    )


def sync_client() -> httpx.Client:
    """The process's client. A forked child (Celery prefork) makes its own: the
    parent's pooled sockets must not be shared."""
    global _client, _client_pid
    if _client is None or _client_pid != os.getpid():
        with _lock:
            if _client is None or _client_pid != os.getpid():
                _client, _client_pid = httpx.Client(limits=_limits(), follow_redirects=False), os.getpid()
    return _client


def async_client() -> httpx.AsyncClient:
    """The running event loop's client (an AsyncClient is bound to one loop)."""
    loop = asyncio.get_running_loop()
    client = _async_clients.get(loop)
    if client is None:
        client = _async_clients[loop] = httpx.AsyncClient(limits=_limits(), follow_redirects=False)
    return client


def timeout_for(seconds: float | None) -> httpx.Timeout:
    read = settings.AI_TIMEOUT if seconds is None else seconds
    return httpx.Timeout(read, connect=min(settings.AI_CONNECT_TIMEOUT, read))


# --- errors ---------------------------------------------------------------------------


def _provider_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:300]
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])[:300]
    if isinstance(error, str):
        return error[:300]
    return str(body)[:300]


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds the provider asks us to wait (Retry-After: seconds or a date; OpenAI's retry-after-ms)."""
    raw_ms = response.headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(float(raw_ms) / 1000, 0.0)
        except ValueError:
            pass
    raw = response.headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(float(raw), 0.0)
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(raw) if raw else None
        return max(parsed.timestamp() - time.time(), 0.0) if parsed else None


def status_error(endpoint: Endpoint, response: httpx.Response, attempts: int) -> ProviderError:
    status, said = response.status_code, _provider_message(response)
    where = {"label": endpoint.label, "host": endpoint.host}
    if status in (401, 403):
        return ProviderMisconfigured(
            _("The %(label)s at %(host)s refused our credentials (HTTP %(status)s: %(said)s). Check %(setting)s.")
            % {**where, "status": status, "said": said, "setting": endpoint.key_setting}
        )
    if status == 404:
        return ProviderMisconfigured(
            _(
                "The %(label)s at %(host)s answered 404 (%(said)s). Check %(setting)s "
                "(%(url)s) and the registry entry's provider model."
            )
            % {**where, "said": said, "setting": endpoint.base_setting, "url": endpoint.base_url}
        )
    if status == 429:
        wait = _retry_after(response)
        return ProviderUnavailable(
            (
                _(
                    "The %(label)s at %(host)s is rate limiting us (HTTP 429: %(said)s); "
                    "it asks to retry after %(wait)s s."
                )
                % {**where, "said": said, "wait": format(wait, "g")}
                if wait is not None
                else _("The %(label)s at %(host)s is rate limiting us (HTTP 429: %(said)s).") % {**where, "said": said}
            ),
            extra={"retry_after": wait} if wait is not None else None,
        )
    values = {**where, "status": status, "attempts": attempts, "said": said}
    if status >= 500 and attempts > 1:
        return ProviderError(
            _("The %(label)s at %(host)s failed (HTTP %(status)s after %(attempts)s attempts: %(said)s).") % values
        )
    if status >= 500:
        return ProviderError(_("The %(label)s at %(host)s failed (HTTP %(status)s: %(said)s).") % values)
    return ProviderError(_("The %(label)s at %(host)s rejected the request (HTTP %(status)s: %(said)s).") % values)


def transport_error(endpoint: Endpoint, exc: httpx.TransportError, timeout: httpx.Timeout) -> ProviderUnavailable:
    values = {
        "label": endpoint.label,
        "host": endpoint.host,
        "setting": endpoint.base_setting,
        "url": endpoint.base_url,
        "kind": type(exc).__name__,
        "error": exc,
    }
    if isinstance(exc, httpx.ConnectTimeout):
        message = _(
            "The %(label)s at %(host)s did not accept a connection within %(seconds)s s. "
            "Check that it is running and that %(setting)s (%(url)s) is right."
        ) % {**values, "seconds": format(timeout.connect, "g")}
    elif isinstance(exc, httpx.TimeoutException):
        message = _(
            "The %(label)s at %(host)s did not answer within %(seconds)s s (AI_TIMEOUT). "
            "Check that it is running and that %(setting)s (%(url)s) is right."
        ) % {**values, "seconds": format(timeout.read, "g")}
    elif isinstance(exc, httpx.ConnectError):
        message = _(
            "The %(label)s at %(host)s could not be reached (%(error)s). "
            "Check that it is running and that %(setting)s (%(url)s) is right."
        ) % {**values, "error": exc or type(exc).__name__}
    else:
        message = (
            _(
                "The %(label)s at %(host)s dropped the connection (%(kind)s: %(error)s). "
                "Check that it is running and that %(setting)s (%(url)s) is right."
            )
            % values
        )
    return ProviderUnavailable(message)


# --- retries --------------------------------------------------------------------------


def _wait_before_retry(response: httpx.Response | None, attempt: int) -> float | None:
    """Seconds to wait before attempt `attempt + 1`, or None to give up now."""
    if attempt >= settings.AI_MAX_RETRIES:
        return None
    asked = _retry_after(response) if response is not None else None
    if asked is not None:
        return asked if asked <= settings.AI_RETRY_AFTER_MAX else None
    return random.uniform(0, min(settings.AI_RETRY_BACKOFF * 2**attempt, _MAX_BACKOFF))


def _retry(kind: str, endpoint: Endpoint, attempt: int, wait: float) -> None:
    log.warning("ai: %s from %s, retry %d in %.2f s", kind, endpoint.host, attempt + 1, wait)


def post_json(endpoint: Endpoint, path: str, body: dict, timeout: float | None) -> dict:
    client, limits = sync_client(), timeout_for(timeout)
    for attempt in range(settings.AI_MAX_RETRIES + 1):
        try:
            response = client.post(endpoint.url(path), json=body, headers=endpoint.headers, timeout=limits)
        except httpx.TransportError as exc:
            wait = _wait_before_retry(None, attempt)
            if wait is None:
                raise transport_error(endpoint, exc, limits)
            _retry(type(exc).__name__, endpoint, attempt, wait)
            time.sleep(wait)
            continue
        if response.is_success:
            try:
                return response.json()
            except ValueError:
                raise ProviderError(
                    _(
                        "The %(label)s at %(host)s answered with something that is not JSON "
                        "(%(text)s). Check %(setting)s (%(url)s)."
                    )
                    % {
                        "label": endpoint.label,
                        "host": endpoint.host,
                        "text": repr(response.text[:120]),
                        "setting": endpoint.base_setting,
                        "url": endpoint.base_url,
                    }
                )
        wait = _wait_before_retry(response, attempt) if response.status_code in _RETRY_STATUSES else None
        if wait is None:
            raise status_error(endpoint, response, attempt + 1)
        _retry(f"HTTP {response.status_code}", endpoint, attempt, wait)
        time.sleep(wait)
    raise AssertionError("unreachable")


def stream_events(endpoint: Endpoint, path: str, body: dict, timeout: float | None) -> Iterator[Event]:
    """The server-sent events of one streamed answer. Retries until the first event
    has arrived; closing this generator closes the upstream response."""
    client, limits = sync_client(), timeout_for(timeout)
    request = client.build_request("POST", endpoint.url(path), json=body, headers=endpoint.headers, timeout=limits)
    for attempt in range(settings.AI_MAX_RETRIES + 1):
        response = None
        try:
            response = client.send(request, stream=True)
            if response.is_success:
                events = iter_events(response)
                first = next(events, None)
                break
            response.read()
        except httpx.TransportError as exc:
            if response is not None:
                response.close()
            wait = _wait_before_retry(None, attempt)
            if wait is None:
                raise transport_error(endpoint, exc, limits)
            _retry(type(exc).__name__, endpoint, attempt, wait)
            time.sleep(wait)
            continue
        except BaseException:
            if response is not None:
                response.close()
            raise
        response.close()
        wait = _wait_before_retry(response, attempt) if response.status_code in _RETRY_STATUSES else None
        if wait is None:
            raise status_error(endpoint, response, attempt + 1)
        _retry(f"HTTP {response.status_code}", endpoint, attempt, wait)
        time.sleep(wait)
    try:
        if first is not None:
            yield first
            yield from events
    except httpx.TransportError as exc:
        raise transport_error(endpoint, exc, limits)
    finally:
        response.close()


async def astream_events(endpoint: Endpoint, path: str, body: dict, timeout: float | None) -> AsyncIterator[Event]:
    """`stream_events` on the running event loop."""
    client, limits = async_client(), timeout_for(timeout)
    request = client.build_request("POST", endpoint.url(path), json=body, headers=endpoint.headers, timeout=limits)
    for attempt in range(settings.AI_MAX_RETRIES + 1):
        response = None
        try:
            response = await client.send(request, stream=True)
            if response.is_success:
                events = aiter_events(response)
                first = await anext(events, None)
                break
            await response.aread()
        except httpx.TransportError as exc:
            if response is not None:
                await response.aclose()
            wait = _wait_before_retry(None, attempt)
            if wait is None:
                raise transport_error(endpoint, exc, limits)
            _retry(type(exc).__name__, endpoint, attempt, wait)
            await asyncio.sleep(wait)
            continue
        except BaseException:  # cancelled while waiting for the first event
            if response is not None:
                await response.aclose()
            raise
        await response.aclose()
        wait = _wait_before_retry(response, attempt) if response.status_code in _RETRY_STATUSES else None
        if wait is None:
            raise status_error(endpoint, response, attempt + 1)
        _retry(f"HTTP {response.status_code}", endpoint, attempt, wait)
        await asyncio.sleep(wait)
    try:
        if first is not None:
            yield first
            async for event in events:
                yield event
    except httpx.TransportError as exc:
        raise transport_error(endpoint, exc, limits)
    finally:
        await events.aclose()
        await response.aclose()
