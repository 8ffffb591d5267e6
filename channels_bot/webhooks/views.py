"""The receiving end of each platform's webhooks: verify, store raw, enqueue, 200.

POST: the size is capped before the body is read (413), the signature checked
over the raw bytes (403, nothing stored), the JSON checked to be an object
(400: a 500 would make Meta retry for hours); then one `WebhookDelivery` holds
the raw bytes and `delivery_process` is enqueued after commit. Parsing and
every tenant decision happen in the task (services/inbound.py), so the answer
does not wait on the database beyond one insert, nor on any platform API.

GET: the platform's handshake (Meta `hub.challenge`, X `crc_token`, LinkedIn
`challengeCode`). A platform whose secret is not configured answers 403 with a
message naming the setting.

No session, no tenant: the requests are anonymous (TenantMiddleware only sets an
empty context for them) and CSRF-exempt; the signature is the authentication.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from accounts.tenancy.context import rls_bypass
from aiplatform.api.errors import error_body
from channels_bot.models import WebhookDelivery
from channels_bot.models.platforms import WebhookSource

from . import signatures

log = logging.getLogger("channels_bot.webhooks")

CHALLENGE_MAX_CHARS = 256


@dataclass(frozen=True)
class Endpoint:
    source: str
    label: str
    secret_setting: str
    signature_header: str
    signature_valid: Callable[[str, bytes, str | None], bool]


def _meta_signature_valid(secret: str, body: bytes, header: str | None) -> bool:
    """Meta signs with the app secret; an app using Instagram Login signs its
    Instagram webhooks with the Instagram app secret: either one is ours."""
    return signatures.meta_signature_valid(secret, body, header) or bool(
        settings.INSTAGRAM_APP_SECRET and signatures.meta_signature_valid(settings.INSTAGRAM_APP_SECRET, body, header)
    )


META = Endpoint(WebhookSource.META, "Meta", "META_APP_SECRET", "X-Hub-Signature-256", _meta_signature_valid)
X = Endpoint(WebhookSource.X, "X", "X_CONSUMER_SECRET", "x-twitter-webhooks-signature", signatures.x_signature_valid)
LINKEDIN = Endpoint(
    WebhookSource.LINKEDIN, "LinkedIn", "LINKEDIN_CLIENT_SECRET", "X-LI-Signature", signatures.linkedin_signature_valid
)


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(error_body(code, message), status=status)


def _not_configured(setting: str, what: str) -> JsonResponse:
    return _error(403, "webhook_not_configured", f"{what} are not accepted: set {setting} to receive them.")


def _read_capped(request: HttpRequest, limit: int) -> bytes | None:
    """The body, or None when it is larger than `limit` (judged by Content-Length
    before reading, and by reading at most one byte more than the limit)."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return None
    data = request.read(limit + 1)
    return None if len(data) > limit else data


def _receive(request: HttpRequest, endpoint: Endpoint) -> HttpResponse:
    secret = getattr(settings, endpoint.secret_setting)
    if not secret:
        return _not_configured(endpoint.secret_setting, f"{endpoint.label} webhooks")
    limit = settings.CHANNELS_WEBHOOK_MAX_BYTES
    body = _read_capped(request, limit)
    if body is None:
        return _error(413, "payload_too_large", f"A webhook delivery may be at most {limit} bytes.")
    header = request.headers.get(endpoint.signature_header)
    if not endpoint.signature_valid(secret, body, header):
        log.warning("%s webhook refused: %s signature", endpoint.label, "bad" if header else "no")
        return _error(403, "invalid_signature", f"The {endpoint.signature_header} header does not sign this body.")
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        return _error(400, "invalid_json", "The body is not valid JSON.")
    if not isinstance(parsed, dict):
        return _error(400, "invalid_json", "The body must be a JSON object.")
    from channels_bot.tasks.inbound import delivery_process

    with rls_bypass("webhook: store the raw delivery"):
        delivery = WebhookDelivery.objects.create(source=endpoint.source, body=body, signature=(header or "")[:200])
    # robust: a broker outage must not turn a stored delivery into a 500; the sweep enqueues it later.
    transaction.on_commit(partial(delivery_process.delay, delivery_id=str(delivery.pk)), robust=True)
    return JsonResponse({"received": True})


def _method_not_allowed() -> JsonResponse:
    response = _error(405, "method_not_allowed", "Use GET for the handshake and POST for deliveries.")
    response["Allow"] = "GET, POST"
    return response


@csrf_exempt
def meta_webhook(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _receive(request, META)
    if request.method != "GET":
        return _method_not_allowed()
    if not settings.META_VERIFY_TOKEN:
        return _not_configured("META_VERIFY_TOKEN", "Meta webhook subscriptions")
    mode, token = request.GET.get("hub.mode"), request.GET.get("hub.verify_token")
    challenge = request.GET.get("hub.challenge", "")
    if not signatures.meta_verify_token_valid(settings.META_VERIFY_TOKEN, mode, token):
        return _error(403, "invalid_verify_token", "hub.mode must be subscribe and hub.verify_token must match.")
    if not challenge or len(challenge) > CHALLENGE_MAX_CHARS:
        return _error(400, "invalid_challenge", "hub.challenge is missing or too long.")
    return HttpResponse(challenge, content_type="text/plain; charset=utf-8")


@csrf_exempt
def x_webhook(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _receive(request, X)
    if request.method != "GET":
        return _method_not_allowed()
    if not settings.X_CONSUMER_SECRET:
        return _not_configured("X_CONSUMER_SECRET", "X webhook checks")
    crc_token = request.GET.get("crc_token", "")
    if not crc_token or len(crc_token) > CHALLENGE_MAX_CHARS:
        return _error(400, "invalid_challenge", "crc_token is missing or too long.")
    return JsonResponse(signatures.x_crc_response(settings.X_CONSUMER_SECRET, crc_token))


@csrf_exempt
def linkedin_webhook(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _receive(request, LINKEDIN)
    if request.method != "GET":
        return _method_not_allowed()
    if not settings.LINKEDIN_CLIENT_SECRET:
        return _not_configured("LINKEDIN_CLIENT_SECRET", "LinkedIn webhook validations")
    code = request.GET.get("challengeCode", "")
    if not code or len(code) > CHALLENGE_MAX_CHARS:
        return _error(400, "invalid_challenge", "challengeCode is missing or too long.")
    return JsonResponse(signatures.linkedin_challenge_response(settings.LINKEDIN_CLIENT_SECRET, code))
