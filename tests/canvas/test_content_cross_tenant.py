"""The cross-tenant route rule, on the content studio's routes only (fast to run
while working on them): another account's piece, annotation, script or job ids
answer 404 (or 405) to every method, leak nothing and change nothing."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import NoReverseMatch, reverse

from accounts.tenancy.context import account_context
from tests.tenancy.test_cross_tenant_routes import (  # noqa: F401
    METHODS,
    _foreign_ids,
    _ids_for,
    _secrets,
    _snapshot,
    foreign,
    id_routes,
)

MINE = ("content-piece", "content-annotation", "generated-script", "canvas-job")


@pytest.mark.django_db
def test_foreign_content_ids_answer_404(foreign):  # noqa: F811
    t = foreign
    client = Client(raise_request_exception=True)
    client.force_login(t.alice)
    before = _snapshot(t.b)
    ids = _foreign_ids(t.b)
    failures, checked = [], 0
    for route in id_routes():
        if not route.name.startswith(MINE):
            continue
        for label, obj_id in _ids_for(route, ids).items():
            try:
                url = reverse(route.name, kwargs={route.kwarg: obj_id})
            except NoReverseMatch:
                continue
            for method in METHODS:
                response = getattr(client, method)(url)
                checked += 1
                leaked = [s for s in _secrets(t) if s in response.content.decode(errors="replace")]
                if response.status_code not in (404, 405) or leaked:
                    failures.append((method.upper(), url, label, response.status_code, leaked))
    assert failures == []
    assert checked >= 40
    with account_context(t.b.id):
        assert _snapshot(t.b) == before
