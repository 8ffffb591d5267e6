"""Settings of the real Celery worker that test_worker.py starts as a subprocess:
the test settings, pointed at the test database and the test's media folder,
with eager execution off and a short broker visibility timeout, so that a
message of a killed worker is delivered again within seconds (production keeps
the broker's default of an hour and has the ingestion sweep besides)."""

import os

from aiplatform.settings.test import *  # noqa: F403
from aiplatform.settings.test import DATABASES

DATABASES["default"]["NAME"] = DATABASES["default"]["TEST"]["NAME"]
MEDIA_ROOT = os.environ["KNOWLEDGE_WORKER_MEDIA_ROOT"]
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": float(os.environ.get("KNOWLEDGE_WORKER_VISIBILITY", "8"))}
