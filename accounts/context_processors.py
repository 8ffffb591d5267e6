from django.core.exceptions import ObjectDoesNotExist

from accounts.models import Role, UserPreferences
from accounts.selectors import memberships_for_user


class RoleAtLeast:
    """`{% if active_role_at_least.owner %}`: whether the active role is at least the
    named one (Role.at_least), so templates never compare rank numbers."""

    def __init__(self, role: Role | None):
        self.role = role

    def __getitem__(self, name: str) -> bool:
        if name not in Role.values:
            raise KeyError(name)  # a typo in a template is an empty string there, never True
        return self.role is not None and self.role.at_least(name)


def active_account(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or getattr(request, "account", None) is None:
        return {
            "active_account": getattr(request, "account", None),
            "active_role_at_least": RoleAtLeast(None),
            "my_memberships": [],
        }
    return {
        "active_account": request.account,
        "active_role": request.account_role,
        # Role-dependent bits of the templates ask these, not rank numbers:
        # active_role_at_least.owner / .admin / .member, can_manage_account (= .admin).
        "active_role_at_least": RoleAtLeast(request.account_role),
        "can_manage_account": request.account_role.at_least(Role.ADMIN),
        # Lazy: evaluated only by templates that show the switcher.
        "my_memberships": memberships_for_user(user),
    }


def theme(request):
    """The signed-in user's theme (light, dark or system) for <html data-theme>.
    Their preferences came with the query that loaded them (accounts.locale)."""
    user = getattr(request, "user", None)
    choice = UserPreferences.Theme.SYSTEM
    if user is not None and user.is_authenticated:
        try:
            choice = user.preferences.theme
        except ObjectDoesNotExist:
            pass
    if choice not in UserPreferences.Theme.values:
        choice = UserPreferences.Theme.SYSTEM
    return {"theme": choice}
