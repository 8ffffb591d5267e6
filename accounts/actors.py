"""Who acts, for every service: one type and one role check.

A service that a person triggers takes their `Membership` (their role in the
account). Work done by the platform itself (a sweep, a limit that trips, an
operator's action in the admin) passes an explicit `SystemActor` naming why,
never None: `require_role(None, ...)` is a programming error, so a forgotten
actor can no longer skip the check silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

from accounts.models import Membership, Role
from aiplatform.errors import Forbidden

if TYPE_CHECKING:
    from accounts.models import User


@dataclass(frozen=True)
class SystemActor:
    """The platform (or an operator through the admin) acting on an account; passes
    every role check. `reason` says who and why, for the audit trail and logs."""

    reason: str
    user = None  # no person: audit columns that name a user stay empty
    user_id = None

    def __str__(self) -> str:
        return f"system ({self.reason})"


Actor: TypeAlias = Membership | SystemActor


def system_actor(reason: str) -> SystemActor:
    if not reason.strip():
        raise ValueError("A system actor says why it acts.")
    return SystemActor(reason.strip())


def _default_message(role: Role, what: str) -> str:
    who = f"{role.value}s" + (" and owners" if role == Role.ADMIN else "")  # the English name: the sentence is English
    return f"Only {who} can {what}."


def require_role(actor: Actor, role: Role, message: str | None = None, *, what: str | None = None) -> None:
    """Forbidden (403) unless the actor's role is at least `role`; a SystemActor
    always may. `message` is the refusal as said to the person; else it is built
    from `what` ("Only admins and owners can {what}.")."""
    if actor is None:
        raise TypeError("require_role needs an actor: pass system_actor(reason) for work done by the platform.")
    if isinstance(actor, SystemActor):
        return
    if not actor.role_enum.at_least(role):
        raise Forbidden(message or _default_message(role, what or "do this"))


def acting_user(actor: Actor) -> User | None:
    """The person behind an actor, for audit columns (None for the platform)."""
    return actor.user
