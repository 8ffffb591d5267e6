"""Production: secrets must come from the environment; HTTPS everywhere."""

import hashlib

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")  # no default: fail at boot when missing
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="smtp://localhost:25")
vars().update(EMAIL_CONFIG)

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https"

# The dev provider credits without taking money: never by accident in production.
PAYMENT_PROVIDER = env("PAYMENT_PROVIDER", default="stripe")
if PAYMENT_PROVIDER == "dev" and not env.bool("ALLOW_DEV_PAYMENTS", default=False):
    raise ImproperlyConfigured("PAYMENT_PROVIDER=dev gives credits away; set ALLOW_DEV_PAYMENTS=True only on staging.")
DEV_PAYMENT_WEBHOOK_SECRET = env(
    "DEV_PAYMENT_WEBHOOK_SECRET", default=hashlib.sha256(f"dev-payment-webhooks:{SECRET_KEY}".encode()).hexdigest()
)
if PAYMENT_PROVIDER == "stripe":
    STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY")  # no default: fail at boot when missing
    STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET")
