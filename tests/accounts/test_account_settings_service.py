"""Account settings are saved through a service (issue 18): an admin's change is
audited (billing_auditlog, by a database trigger) and a member's is refused."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_account_settings_are_saved_by_the_service_with_an_audit_row(tenants):
    from django.test import Client  # noqa: PLC0415

    from accounts.tenancy.context import rls_bypass  # noqa: PLC0415
    from billing.models import AuditLog  # noqa: PLC0415

    # when alice (owner) renames the account on the settings page
    client = Client()
    client.force_login(tenants.alice)
    response = client.post("/settings/account/", {"name": "Renamed A", "billing_email": "bills@example.com"})

    # then it is saved and the audit log holds the before and after
    assert response.status_code == 302, response.content
    tenants.a.refresh_from_db()
    assert (tenants.a.name, tenants.a.billing_email) == ("Renamed A", "bills@example.com")
    with rls_bypass("test: read the audit"):
        row = AuditLog.objects.filter(account=tenants.a, table_name="accounts_account").get()
    assert (row.operation, row.old_row["name"], row.new_row["name"]) == ("UPDATE", "Account A", "Renamed A")


def test_a_member_cannot_change_the_account_settings(tenants):
    from django.test import Client  # noqa: PLC0415

    client = Client()
    client.force_login(tenants.bob)
    response = client.post("/settings/account/", {"name": "Bob's now", "billing_email": ""})
    assert response.status_code == 403
    tenants.a.refresh_from_db()
    assert tenants.a.name == "Account A"
