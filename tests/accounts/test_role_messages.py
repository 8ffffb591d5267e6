"""A refusal built from a role reads as one language: the English sentence keeps the
English role names even while Korean is active (role labels are translated)."""

from django.utils import translation

from accounts.actors import _default_message
from accounts.models import Role


def test_the_default_refusal_names_roles_in_english_while_korean_is_active():
    with translation.override("ko"):
        message = _default_message(Role.ADMIN, "change the plan")

    assert message == "Only admins and owners can change the plan."
