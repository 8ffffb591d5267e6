"""The content demo seeds Acme's content lab through the real services (upload
probed with ffmpeg, analysis and script run through the queue, a scraped inbox),
and a second run changes nothing."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from accounts.demo import TEAM_ACCOUNT, demo_tenant
from accounts.tenancy.context import account_context
from canvas.management.commands.seed_content_demo import content_demo_seed
from canvas.models import ContentAnalysis, ContentPiece, GeneratedScript, JobStatus, ProcessingJob

pytestmark = pytest.mark.django_db


def _counts(account):
    with account_context(account.id):
        return (
            ContentPiece.objects.filter(account=account).count(),
            ContentAnalysis.objects.filter(account=account, analysis_status="completed").count(),
            GeneratedScript.objects.filter(account=account, generation_status="completed").count(),
            ProcessingJob.objects.filter(account=account, status=JobStatus.COMPLETED).count(),
        )


def test_the_content_demo_seeds_once(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    call_command("seed_demo")
    account = demo_tenant(TEAM_ACCOUNT).account
    message = content_demo_seed()
    assert "created" in message and "skipped" not in message, message
    pieces, analyses, scripts, jobs = _counts(account)
    with account_context(account.id):
        states = list(ProcessingJob.objects.values_list("job_type", "status", "error_message"))
    assert (analyses, scripts, jobs) == (1, 1, 2), states
    assert pieces == 5  # 2 by URL, 1 upload, 2 scraped into the inbox
    with account_context(account.id):
        upload = ContentPiece.objects.get(account=account, platform="upload")
    assert upload.duration_seconds == 6 and upload.thumbnail_url
    assert "already there" in content_demo_seed()
    assert _counts(account) == (pieces, analyses, scripts, jobs)
