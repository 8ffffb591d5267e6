"""Stored documents count toward the account's usage: the uploader's monthly
`storage_bytes_used` and the day's measured storage go up with an upload and
down with a delete (billing.services.usage.count); a refused file counts nothing."""

from __future__ import annotations

import pytest

from accounts.tenancy.context import account_context
from billing.models import AccountDailyUsage, UserMonthlyUsage
from knowledge.services import documents as docs
from knowledge.services.units import unit_delete
from tests.knowledge import files
from tests.knowledge.factories import upload

pytestmark = pytest.mark.django_db


def _stored_bytes(kb, user) -> int:
    with account_context(kb.tenants.a.id):
        row = UserMonthlyUsage.objects.filter(account=kb.tenants.a, user=user).first()
    return row.storage_bytes_used if row else 0


def _measured_gb(kb):
    with account_context(kb.tenants.a.id):
        return AccountDailyUsage.objects.filter(account=kb.tenants.a).values_list("storage_used_gb", flat=True).first()


def _upload(kb, membership, name, content, capture):
    with capture(execute=False), account_context(kb.tenants.a.id):
        return docs.document_upload(account=kb.tenants.a, actor=membership, unit=kb.unit, upload=upload(name, content))


def test_an_upload_counts_its_bytes_and_a_delete_gives_them_back(kb, django_capture_on_commit_callbacks):
    pdf = files.pdf()
    # when alice uploads a PDF and bob a Markdown file
    handbook = _upload(kb, kb.tenants.alice_membership, "handbook.pdf", pdf, django_capture_on_commit_callbacks)
    _upload(
        kb, kb.tenants.bob_membership, "notes.md", b"# Notes\n\nShip on Mondays.\n", django_capture_on_commit_callbacks
    )

    # then each member's month counts their own bytes, and the day records what is stored
    assert _stored_bytes(kb, kb.tenants.alice) == len(pdf)
    assert _stored_bytes(kb, kb.tenants.bob) == 26
    assert _measured_gb(kb) is not None  # recorded for the day (a few KB round to 0.00 GB)

    # when alice deletes her PDF
    with account_context(kb.tenants.a.id):
        docs.document_delete(document=handbook, actor=kb.tenants.alice_membership)

    # then her month gives the bytes back
    assert _stored_bytes(kb, kb.tenants.alice) == 0


def test_a_refused_file_counts_nothing_and_a_unit_delete_gives_everything_back(kb, django_capture_on_commit_callbacks):
    # given an empty file (refused: stored as an error, no bytes kept) and a stored one
    _upload(kb, kb.tenants.alice_membership, "empty.txt", b"", django_capture_on_commit_callbacks)
    assert _stored_bytes(kb, kb.tenants.alice) == 0
    _upload(
        kb,
        kb.tenants.alice_membership,
        "notes.md",
        b"# Notes\n\nShip on Mondays.\n",
        django_capture_on_commit_callbacks,
    )

    # when alice deletes the whole unit
    with account_context(kb.tenants.a.id):
        unit_delete(unit=kb.unit, actor=kb.tenants.alice_membership)

    # then her month is back to zero
    assert _stored_bytes(kb, kb.tenants.alice) == 0
