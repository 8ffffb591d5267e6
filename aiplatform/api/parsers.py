"""The API's JSON parser: the size and nesting of a body are checked before it is
decoded, so no request can exhaust the memory or the stack of a web process.

- At most `API_JSON_MAX_BYTES` (or `DATA_UPLOAD_MAX_MEMORY_SIZE`, whichever is
  lower) are read: a longer body (by its Content-Length, or by what arrives) is a
  413 `request_too_large` naming the limit, and the rest is never read.
- The raw text is scanned for nesting (brackets outside strings) before
  `json.loads`: deeper than `API_JSON_MAX_DEPTH` is a 400 `parse_error`. The
  decoder's own RecursionError is still caught, as a last resort.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate

from django.conf import settings
from rest_framework import parsers, status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.settings import api_settings
from rest_framework.utils import json as drf_json

# A JSON string (escapes included); what remains outside them is structure.
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
_BRACKETS = re.compile(r"[^\[\]{}]+")


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"


def json_max_bytes() -> int:
    limits = [settings.API_JSON_MAX_BYTES, settings.DATA_UPLOAD_MAX_MEMORY_SIZE]
    return min(limit for limit in limits if limit is not None)


def too_large_message(limit: int) -> str:
    return f"The request body exceeds the limit of {limit} bytes."


def json_depth(text: str) -> int:
    """How deep the arrays and objects of a JSON text nest (0 for a scalar); brackets
    inside strings do not count. Malformed text gives a number too (the decoder then
    refuses it)."""
    structure = _BRACKETS.sub("", _STRINGS.sub("", text))
    if not structure:
        return 0
    return max(accumulate(_STEP[ord(c)] for c in structure))


def read_bounded(stream, request, limit: int) -> bytes:
    """The body, read only up to `limit` bytes: RequestTooLarge past it."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
    except ValueError:
        declared = 0
    if declared > limit:
        raise RequestTooLarge(too_large_message(limit))
    raw = stream.read(limit + 1)
    if len(raw) > limit:
        raise RequestTooLarge(too_large_message(limit))
    return raw


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        raw = read_bounded(stream, parser_context.get("request"), json_max_bytes())
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        if json_depth(text) > settings.API_JSON_MAX_DEPTH:
            raise ParseError(f"JSON parse error - nested deeper than {settings.API_JSON_MAX_DEPTH} levels.")
        parse_constant = drf_json.strict_constant if api_settings.STRICT_JSON else None
        try:
            return json.loads(text, parse_constant=parse_constant)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
