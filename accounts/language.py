"""Which language a person is spoken to in, and the switcher that changes it.

Signed in: `User.locale` (applied by accounts.locale.UserLocaleMiddleware after the
session user is known). Signed out: Django's LocaleMiddleware (the language cookie,
then Accept-Language). A sign-up takes the language its browser asked for, so a
Korean browser gets a `ko` account from the first page on.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponseRedirect
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

SUPPORTED = {code for code, _name in settings.LANGUAGES}


def language_for_signup(request) -> str:
    """The language a new user starts with: the one this request is being answered in
    (cookie, then Accept-Language, resolved by LocaleMiddleware), if we support it."""
    code = translation.get_language_from_request(request) if request is not None else None
    code = (code or settings.LANGUAGE_CODE).split("-")[0].lower()
    return code if code in SUPPORTED else settings.LANGUAGE_CODE


@require_POST
def set_language(request):
    """Like django.views.i18n.set_language, and also saves a signed-in user's locale so
    the choice follows them to other devices."""
    code = (request.POST.get("language") or "").strip().lower()
    nxt = request.POST.get("next") or request.META.get("HTTP_REFERER") or "/"
    if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        nxt = "/"
    response = HttpResponseRedirect(nxt)
    if code not in SUPPORTED:
        return response
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.locale != code:
        user.locale = code
        user.save(update_fields=["locale", "updated_at"])
    translation.activate(code)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        code,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    return response
