"""OpenAPI description of the API key authentication (drf-spectacular).

Apart from authentication.py for the same reason that one is apart from drf.py:
drf-spectacular imports DRF's views, which load the authentication classes.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.tenancy.authentication.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key of one account: `Authorization: Bearer aip_…`.",
        }
