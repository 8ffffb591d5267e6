"""allauth hooks: a new user gets a personal account; social logins record their provider."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.core.ratelimit import respond_429
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django import forms
from django.conf import settings

from accounts.language import language_for_signup
from accounts.models import User
from accounts.selectors import landing_membership
from accounts.services.accounts import user_onboard
from accounts.tenancy.context import user_context
from accounts.tenancy.middleware import SESSION_KEY


class AccountAdapter(DefaultAccountAdapter):
    def new_user(self, request):
        # A sign-up (form or social) speaks the language its browser asked for.
        user = super().new_user(request)
        user.locale = language_for_signup(request)
        return user

    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            user_onboard(user=user)
        return user

    def pre_authenticate(self, request, **credentials):
        # allauth answers an exhausted `login_failed` limit with a form error (200);
        # a client hammering the sign-in form gets a plain 429 instead.
        try:
            super().pre_authenticate(request, **credentials)
        except forms.ValidationError as exc:
            if exc.code == "too_many_login_attempts":
                raise ImmediateHttpResponse(respond_429(request))
            raise

    def login(self, request, user):
        super().login(request, user)
        # An account chosen in this session (an invitation just accepted) wins.
        if SESSION_KEY in request.session:
            return
        # The request began signed out: its tenant context names no user yet.
        with user_context(user.pk):
            landing = landing_membership(user)
        if landing is not None:
            request.session[SESSION_KEY] = str(landing.account_id)

    def get_login_redirect_url(self, request):
        nxt = request.session.pop("invitation_next", None)
        return nxt or super().get_login_redirect_url(request)

    def get_signup_redirect_url(self, request):
        nxt = request.session.pop("invitation_next", None)
        return nxt or super().get_signup_redirect_url(request)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    _PROVIDERS = {
        "google": User.LoginProvider.GOOGLE,
        "kakao": User.LoginProvider.KAKAO,
        "facebook": User.LoginProvider.FACEBOOK,
    }

    def populate_user(self, request, sociallogin, data):
        user = super().populate_user(request, sociallogin, data)
        user.login_provider = self._PROVIDERS.get(sociallogin.account.provider, User.LoginProvider.EMAIL)
        user.provider_user_id = str(sociallogin.account.uid)
        user.full_name = user.full_name or " ".join(filter(None, [data.get("first_name"), data.get("last_name")]))
        return user

    def save_user(self, request, sociallogin, form=None):
        user = super().save_user(request, sociallogin, form)
        user_onboard(user=user)
        return user

    def list_apps(self, request, provider=None, client_id=None):
        # Providers without configured keys stay hidden.
        configured = {name for name, conf in settings.SOCIALACCOUNT_PROVIDERS.items() if conf.get("APPS")}
        return [app for app in super().list_apps(request, provider, client_id) if app.provider in configured]
