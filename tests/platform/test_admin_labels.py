"""Admin labels in Korean without migrations (issue 16, aiplatform/labels.py): every label
Django derives from a field or model name goes through gettext, has a Korean translation,
and the admin shows it to a Korean operator."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import translation
from django.utils.translation import gettext

from accounts.models import User
from aiplatform.labels import MODULE, derived_labels, labels_module
from billing.models import Reservation
from billing.services.ledger import Reference
from billing.services.reservations import reservation_hold
from tests.billing.factories import fund


def test_the_listed_labels_are_every_derived_label_of_the_project():
    # aiplatform/admin_labels.py is what makemessages extracts: a new field must be listed
    assert MODULE.read_text() == labels_module(), "run `python -m aiplatform.labels` and translate the new labels"


def test_every_derived_label_has_a_korean_translation():
    with translation.override("ko"):
        missing = [label for label in derived_labels() if gettext(label) == label]

    assert not missing, f"translate in aiplatform/locale/ko/LC_MESSAGES/django.po: {missing[:10]}"


def test_a_field_label_follows_the_active_language_and_an_explicit_one_is_kept():
    field = Reservation._meta.get_field("reference_type")

    with translation.override("en"):
        assert str(field.verbose_name) == "reference type"
        assert str(Reservation._meta.verbose_name) == "reservation"
    with translation.override("ko"):
        assert str(field.verbose_name) == gettext("reference type") != "reference type"
        assert str(Reservation._meta.verbose_name_plural) == gettext("reservations")


@pytest.mark.django_db
def test_translated_labels_need_no_migration():
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)  # exits 1 on a change

    assert "No changes detected" in out.getvalue()


@pytest.mark.django_db
def test_a_korean_operator_sees_the_admin_in_korean(client, tenants):
    fund(tenants.a, "100")
    reservation_hold(account=tenants.a, amount="12.5", reference=Reference("chat_message", "m-4711"))
    operator = User.objects.create_superuser(email="ops@example.com", password="pw-123456789")
    User.objects.filter(pk=operator.pk).update(locale="ko")
    client.force_login(operator)

    page = client.get("/admin/billing/reservation/", HTTP_ACCEPT_LANGUAGE="ko").content.decode()

    with translation.override("ko"):
        assert gettext("aiplatform operations") in page
        assert gettext("reservations") in page and ">reservations<" not in page.lower()
        assert gettext("created at") in page and gettext("closed at") in page  # column headers
