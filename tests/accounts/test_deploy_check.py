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
        "PAYMENT_PROVIDER": "stripe",
        "STRIPE_SECRET_KEY": "sk_test_deploy_check",
        "STRIPE_WEBHOOK_SECRET": "whsec_deploy_check",
        "PERSONA_ENCRYPTION_KEYS": "aGVyZS1pcy1hLWRlcGxveS1jaGVjay1rZXktMzJieXQ=",  # production has no default
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


def test_production_refuses_the_dev_payment_provider(settings):
    # given production settings asked to use the offline dev provider
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "aiplatform.settings.production",
        "DJANGO_SECRET_KEY": "x" * 60,
        "DJANGO_ALLOWED_HOSTS": "example.com",
        "PAYMENT_PROVIDER": "dev",
        "AIPLATFORM_DATA_DIR": str(settings.DATA_DIR),
    }
    # when Django boots; then it refuses, naming the problem
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], env=env, cwd=settings.BASE_DIR, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "PAYMENT_PROVIDER=dev gives credits away" in result.stderr
