"""The test suite: its own embedded servers under a separate data folder, so the
tests never touch the development data."""

import os
from pathlib import Path

os.environ.setdefault("AIPLATFORM_DATA_DIR", str(Path(__file__).resolve().parent.parent.parent / ".data" / "test"))

from .base import *  # noqa: E402,F403
from .base import DATABASES, STORAGES  # noqa: E402

DEBUG = False
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# No pool unless DATABASE_POOL_MAX_SIZE is set for the run: the concurrency tests open one
# real connection per thread (50 at once) to race on row locks, and a pool that wide would
# keep them all open from one test to the next. tests/tenancy/test_connection_pool_leak.py
# switches the pool on (its `pooled` fixture) to test the production path.
if "DATABASE_POOL_MAX_SIZE" not in os.environ:
    DATABASE_POOL_MAX_SIZE = 0
    DATABASES["default"].get("OPTIONS", {}).pop("pool", None)
DATABASES["default"]["CONN_MAX_AGE"] = 0
DATABASES["default"]["TEST"] = {"NAME": "test_aiplatform"}
# pytest-django's transactional tests empty tables with TRUNCATE; production never grants it.
DATABASE_APP_GRANTS = "SELECT, INSERT, UPDATE, DELETE, TRUNCATE"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True

# TESTS ONLY, public in this repository: a fixed key so persona fixtures are reproducible.
TEST_PERSONA_ENCRYPTION_KEY = "YWlwbGF0Zm9ybS1URVNULU9OTFktcGVyc29uYS1rZXk="
PERSONA_ENCRYPTION_KEYS = [TEST_PERSONA_ENCRYPTION_KEY]
