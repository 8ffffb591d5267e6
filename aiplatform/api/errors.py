"""Every API error has the shape {"error": {"code", "message", "fields"?}}."""

from django.conf import settings
from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from aiplatform.errors import RateLimited, ServiceError
from aiplatform.requestid import current_request_id

_CODES = {
    400: "validation_error",
    401: "not_authenticated",
    402: "insufficient_credits",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "request_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    body: dict = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return {"error": body}


def _flatten(detail) -> str:
    if isinstance(detail, list):
        return " ".join(_flatten(d) for d in detail)
    if isinstance(detail, dict):
        return " ".join(f"{k}: {_flatten(v)}" for k, v in detail.items())
    return str(detail)


def flatten_fields(detail: dict) -> dict[str, list[str]]:
    """DRF's nested field errors as one level with dotted paths: a list item's error
    ({"unit_ids": {0: [...]}}) is "unit_ids.0", a nested object's field in a list
    ({"items": [{}, {}, {"quantity": [...]}]}) is "items.2.quantity"."""
    fields: dict[str, list[str]] = {}

    def walk(node, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{path}.{key}" if path else str(key))
        elif isinstance(node, list):
            for index, item in enumerate(node):
                if isinstance(item, dict | list):
                    walk(item, f"{path}.{index}")
                else:
                    fields.setdefault(path, []).append(str(item))
        else:
            fields.setdefault(path, []).append(str(node))

    walk(detail, "")
    return fields


def _suspicious_body(exc: SuspiciousOperation) -> tuple[int, dict] | None:
    """Django's guards on the request body (raised when the view first reads it), as
    the API's 413/400 instead of Django's HTML 400 page."""
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        message = _("The request body exceeds the limit of %(limit)s bytes.") % {"limit": limit}
        return 413, error_body("request_too_large", message)
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return 400, error_body("bad_request", str(exc))
    return None


def exception_handler(exc, context):
    if isinstance(exc, SuspiciousOperation) and (refused := _suspicious_body(exc)):
        return Response(refused[1], status=refused[0])
    if isinstance(exc, ServiceError):
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
        data = error_body(exc.code, exc.message, exc.fields)
        data["error"].update(exc.extra)
        return Response(data, status=exc.status, headers=headers)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    detail = response.data
    fields = None
    if isinstance(exc, exceptions.ValidationError):
        message = _("Some fields are invalid.") if isinstance(detail, dict) else _flatten(detail)
        if isinstance(detail, dict):
            fields = flatten_fields(detail)
            if list(fields) == ["non_field_errors"]:
                message = " ".join(fields.pop("non_field_errors"))
        code = "validation_error"
    else:
        message = _flatten(detail.get("detail", detail)) if isinstance(detail, dict) else _flatten(detail)
        code = getattr(getattr(exc, "detail", None), "code", None) or _CODES.get(response.status_code, "error")
        if response.status_code == 404:
            code, message = "not_found", _("Not found.")
        if response.status_code == 401:
            code = "not_authenticated"
    headers = {k: v for k, v in response.items() if k in ("WWW-Authenticate", "Retry-After", "Allow")}
    body = error_body(code, message, fields)
    if isinstance(exc, exceptions.Throttled):
        # The one API budget (aiplatform.api.throttling) answers like a service's RateLimited.
        retry_after = max(int(exc.wait or 1), 1)
        body["error"].update(code="rate_limited", retry_after=retry_after)
        headers["Retry-After"] = str(retry_after)
    return Response(body, status=response.status_code, headers=headers)


def bad_request(request, exception):
    """Django's 400 handler: a body guard tripped outside a DRF view still answers
    in the API's shape under /api/; HTML pages keep Django's page."""
    if request.path.startswith("/api/"):
        refused = _suspicious_body(exception) if isinstance(exception, SuspiciousOperation) else None
        status, body = refused or (400, error_body("bad_request", _("Bad request.")))
        return JsonResponse(body, status=status)
    return defaults.bad_request(request, exception)


def page_not_found(request, exception):
    """Django's 404 handler: an unknown URL under /api/ still answers in the API's shape."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("not_found", _("Not found.")), status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    """Django's 500 handler: an unexpected error under /api/ answers in the API's shape
    with the request id that the server log line of the exception carries too (never
    an HTML page, never a traceback); HTML pages keep the 500.html page."""
    if request.path.startswith("/api/"):
        request_id = getattr(request, "request_id", None) or current_request_id()
        body = error_body("server_error", _("An unexpected error occurred; quote the request id when reporting it."))
        body["error"]["request_id"] = request_id
        return JsonResponse(body, status=500)
    return defaults.server_error(request)
