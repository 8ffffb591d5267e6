"""Corrections to the generated OpenAPI schema, so that it describes what the API
really sends (the fuzz test, tests/platform/test_api_fuzz.py, validates every
response against it).

- A URL field that may be blank (a model `URLField(blank=True)`) is sent as "" when
  empty, which `format: uri` alone refuses: such a property becomes "a URI or the
  empty string". A field that may not be blank carries `minLength: 1` and stays.
"""

from __future__ import annotations

_KEEP_OUTSIDE = ("readOnly", "writeOnly", "nullable", "description", "title", "default")


def _blank_url(prop: dict) -> dict:
    inner = {k: v for k, v in prop.items() if k not in _KEEP_OUTSIDE}
    outer = {k: v for k, v in prop.items() if k in _KEEP_OUTSIDE}
    return {"anyOf": [inner, {"type": "string", "maxLength": 0}], **outer}


def _walk(node) -> None:
    if isinstance(node, dict):
        properties = node.get("properties")
        if isinstance(properties, dict):
            for name, prop in properties.items():
                if isinstance(prop, dict) and prop.get("format") == "uri" and not prop.get("minLength"):
                    properties[name] = _blank_url(prop)
        for value in node.values():
            _walk(value)
    elif isinstance(node, list):
        for value in node:
            _walk(value)


def blank_urls(result, generator, request, public):
    """drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS POSTPROCESSING_HOOKS)."""
    _walk(result.get("components", {}).get("schemas", {}))
    return result
