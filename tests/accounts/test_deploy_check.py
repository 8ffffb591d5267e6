"""`manage.py check --deploy` passes, warnings included, with production settings."""

from __future__ import annotations

import os
import secrets
import string
import subprocess
import sys

from django.conf import settings


def test_check_deploy_passes_with_production_settings():
    # given production settings with a strong secret, one allowed host, and the
    # test suite's embedded servers (so nothing new is started)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "aiplatform.settings.production",
        "DJANGO_SECRET_KEY": "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(60)),
        "DJANGO_ALLOWED_HOSTS": "example.com",
        "AIPLATFORM_DATA_DIR": str(settings.DATA_DIR),
    }
    env.pop("DJANGO_DEBUG", None)

    # when Django's deployment checks run, failing on any warning
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )

    # then they find nothing
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."
