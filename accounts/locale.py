"""Speak the signed-in user's language (User.locale: en or ko) and show dates in
their time zone (UserPreferences.timezone).

The preferences row is joined into the query that loads the signed-in user (see
the backends below), so reading it costs no query of its own."""

import zoneinfo

from allauth.account.auth_backends import AuthenticationBackend
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone, translation

# API responses stay in UTC whoever asks: clients convert, pages do not.
API_PREFIX = "/api/"


def _user_with_preferences(user_id):
    model = get_user_model()
    try:
        user = model._default_manager.select_related("preferences").get(pk=user_id)
    except model.DoesNotExist:
        return None
    return user


class PreferencesModelBackend(ModelBackend):
    """Django's backend, loading the session user together with their preferences."""

    def get_user(self, user_id):
        user = _user_with_preferences(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


class PreferencesAllauthBackend(AuthenticationBackend):
    """allauth's backend, loading the session user together with their preferences."""

    def get_user(self, user_id):
        user = _user_with_preferences(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


def preferred_timezone(user) -> zoneinfo.ZoneInfo | None:
    """The user's zone, or None (UTC) when they have none or it is not a known zone name."""
    try:
        name = user.preferences.timezone
    except ObjectDoesNotExist:
        return None
    if not name:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


class UserLocaleMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        zone = None
        if user is not None and user.is_authenticated:
            if user.locale:
                translation.activate(user.locale)
                request.LANGUAGE_CODE = translation.get_language()
            if not request.path.startswith(API_PREFIX):
                zone = preferred_timezone(user)
        if zone is None:
            timezone.deactivate()
            return self.get_response(request)
        timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
