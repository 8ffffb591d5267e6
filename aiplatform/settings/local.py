"""Development: the README's first command runs with these settings."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# Serve static files straight from the app folders; no collectstatic in dev.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405

# DEVELOPMENT ONLY, public in this repository: encrypts persona system prompts of
# the local database. Production has no default and refuses to start without a key.
DEV_PERSONA_ENCRYPTION_KEY = "YWlwbGF0Zm9ybS1ERVYtT05MWS1wZXJzb25hLWtleSE="
PERSONA_ENCRYPTION_KEYS = env.list("PERSONA_ENCRYPTION_KEYS", default=[DEV_PERSONA_ENCRYPTION_KEY])
