from django.core.exceptions import ObjectDoesNotExist

from accounts.models import Role, UserPreferences
from accounts.selectors import memberships_for_user


def active_account(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or getattr(request, "account", None) is None:
        return {"active_account": getattr(request, "account", None), "my_memberships": []}
    return {
        "active_account": request.account,
        "active_role": request.account_role,
        # Role-dependent bits of the layout ask this, not rank numbers.
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
