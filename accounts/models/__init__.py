from .access import ApiKey, Invitation
from .settings import AppSetting
from .tenants import Account, Membership, Role
from .users import User, UserPreferences, UserProfile

__all__ = [
    "Account",
    "ApiKey",
    "AppSetting",
    "Invitation",
    "Membership",
    "Role",
    "User",
    "UserPreferences",
    "UserProfile",
]
