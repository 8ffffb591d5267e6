"""Discovery of every URL route that takes one object id, HTML and API alike,
so that routes added by later apps are covered without editing the tests."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern

ID_KWARGS = {"pk", "id", "uuid", "object_id"}
# Operator paths: staff only, row-level security lifted on purpose; checked separately.
OPERATOR_NAMESPACES = {"admin"}


@dataclass(frozen=True)
class IdRoute:
    name: str  # "namespace:name", reversible
    kwarg: str


def _kwargs(pattern) -> set[str]:
    if isinstance(pattern, RoutePattern):
        return set(pattern.converters)
    if isinstance(pattern, RegexPattern):
        return set(pattern.regex.groupindex)
    return set()


def _walk(resolver: URLResolver, namespace: str, inherited: set[str]):
    for entry in resolver.url_patterns:
        kwargs = inherited | _kwargs(entry.pattern)
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            if ns in OPERATOR_NAMESPACES:
                continue
            yield from _walk(entry, f"{namespace}{ns}:" if ns else namespace, kwargs)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}", kwargs


def id_routes() -> list[IdRoute]:
    found = set()
    for name, kwargs in _walk(get_resolver(), "", set()):
        if len(kwargs) == 1 and (kwarg := next(iter(kwargs))) in ID_KWARGS | {k for k in kwargs if k.endswith("_id")}:
            found.add(IdRoute(name, kwarg))
    return sorted(found, key=lambda r: r.name)
