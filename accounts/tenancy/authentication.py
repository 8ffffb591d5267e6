"""DRF authentication by API key. Kept apart from drf.py: DRF imports its
authentication classes while `rest_framework.views` is still loading."""

from rest_framework import authentication, exceptions


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer aip_…`. The middleware has already looked the key up."""

    keyword = "Bearer"

    def authenticate(self, request):
        django_request = request._request
        if getattr(django_request, "api_key", None) is not None:
            return (django_request.api_key.created_by, django_request.api_key)
        error = getattr(django_request, "api_key_error", None)
        if error:
            raise exceptions.AuthenticationFailed(error)
        return None

    def authenticate_header(self, request):
        return self.keyword
