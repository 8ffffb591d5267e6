"""The test suite: its own embedded servers under a separate data folder, so the
tests never touch the development data."""

import os
from pathlib import Path

os.environ.setdefault("AIPLATFORM_DATA_DIR", str(Path(__file__).resolve().parent.parent.parent / ".data" / "test"))
# pytest-xdist (`pytest -n 2`): each worker gets its own embedded PostgreSQL and Redis
# (a data folder per worker), so databases, caches and rate-limit counters never mix. A
# process a worker starts (tests/knowledge/test_worker.py's Celery worker) inherits both the
# worker's name and its folder, and stays in that folder.
if _worker := os.environ.get("PYTEST_XDIST_WORKER"):
    if not (_data_dir := os.environ["AIPLATFORM_DATA_DIR"].rstrip("/")).endswith(f"-{_worker}"):
        os.environ["AIPLATFORM_DATA_DIR"] = f"{_data_dir}-{_worker}"
# A process that runs no test (xdist's controller, mypy's Django plugin; bin/test and
# bin/typecheck set AIPLATFORM_TEST_NO_SERVERS=1): unreachable addresses keep it from
# starting embedded servers; they are taken out of the environment again so that the
# workers the controller spawns start theirs.
_NOWHERE = {
    "DATABASE_URL": "postgres://xdist-controller.invalid/none",
    "REDIS_URL": "redis://xdist-controller.invalid/0",
}
_controller = not _worker and os.environ.get("AIPLATFORM_TEST_NO_SERVERS") == "1"
if _controller:
    for _name, _value in _NOWHERE.items():
        os.environ.setdefault(_name, _value)

from .base import *  # noqa: E402,F403
from .base import DATABASES, PASSWORD_HASHERS, STORAGES  # noqa: E402

if _controller:
    for _name, _value in _NOWHERE.items():
        if os.environ.get(_name) == _value:
            del os.environ[_name]

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

# A fast hasher for the tests' own passwords (argon2 is slow on purpose); argon2 hashes
# still verify, and tests/accounts/test_signup.py checks production's argon2id choice.
PRODUCTION_PASSWORD_HASHERS = PASSWORD_HASHERS
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]

# The API-wide request budget is its own test's subject (tests/platform/test_api_limits.py
# sets it); route sweeps such as the cross-tenant test would otherwise meet 429s.
API_REQUESTS_PER_MINUTE = 0

# No oEmbed lookups of posts added by URL (the network is not the tests'): the tests of
# that feature point these at a loopback fake (tests/canvas/test_oembed.py).
CANVAS_OEMBED_YOUTUBE_URL = CANVAS_OEMBED_TIKTOK_URL = CANVAS_OEMBED_X_URL = ""
