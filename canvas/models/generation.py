"""Seed 003 generation: scripts, the account's voice and avatar models, the
media generated with them, and the processing queue every long job is a row of."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.tenancy.models import TenantModel
from billing.models.fields import credit_field

from .common import WorkStatus, choice_check


def _score_check(name: str) -> models.CheckConstraint:
    # Quality is a 0-1 score (seed DECIMAL(3,2)).
    return models.CheckConstraint(
        condition=Q(quality_score__gte=0, quality_score__lte=1) | Q(quality_score__isnull=True), name=name
    )


def _nonnegative(field: str, name: str) -> models.CheckConstraint:
    return models.CheckConstraint(condition=Q(**{f"{field}__gte": 0}), name=name)


class GeneratedScript(TenantModel):
    """Seed 003 `generated_scripts`: research perspectives and a rewritten script
    from a content piece, in the account's brand voice; editable afterwards."""

    content_piece = models.ForeignKey(
        "canvas.ContentPiece", on_delete=models.CASCADE, null=True, blank=True, related_name="scripts"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    original_script = models.TextField(blank=True)
    research_perspectives = models.JSONField(default=list, blank=True)
    rewritten_script = models.TextField(blank=True)
    generation_prompt = models.TextField(blank=True)
    ai_model_used = models.CharField(max_length=100, blank=True)
    generation_status = models.CharField(max_length=50, choices=WorkStatus.choices, default=WorkStatus.PENDING)
    generation_cost_credits = credit_field()
    generated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [
            choice_check("generation_status", WorkStatus, "canvas_script_status"),
            _nonnegative("generation_cost_credits", "canvas_script_cost"),
        ]
        indexes = [models.Index(fields=["content_piece"], name="canvas_script_piece")]

    def __str__(self) -> str:
        return f"script {self.id} ({self.generation_status})"


class TrainingStatus(models.TextChoices):
    """Seed 003 `voice_models.training_status`."""

    PENDING = "pending", _("Pending")
    TRAINING = "training", _("Training")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")


class VoiceModel(TenantModel):
    """Seed 003 `voice_models`: a cloned voice (ElevenLabs, or the offline TTS).
    Active models count toward the plan's `voice_model_limit`; a retrained voice
    is a new row with the next `version_number` under the same name."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    name = models.CharField(max_length=255)
    elevenlabs_voice_id = models.CharField(max_length=255, blank=True)
    # Who made it (aiplatform.ai.media): "elevenlabs", or "offline" (espeak-ng); its voice there
    # (the ElevenLabs voice_id, or the offline voice such as "en-us+f3:p62").
    provider = models.CharField(max_length=20, default="offline")
    provider_voice_id = models.CharField(max_length=255, blank=True)
    sample_audio_url = models.TextField(blank=True)
    sample_audio_path = models.TextField(blank=True)
    training_status = models.CharField(max_length=50, choices=TrainingStatus.choices, default=TrainingStatus.PENDING)
    version_number = models.PositiveIntegerField(default=1)
    is_active = models.BooleanField(default=True)
    quality_score = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)
    training_duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "-version_number", "id"]
        constraints = [
            choice_check("training_status", TrainingStatus, "canvas_voice_status"),
            models.UniqueConstraint(fields=["account", "name", "version_number"], name="canvas_voice_version"),
            models.CheckConstraint(condition=Q(version_number__gte=1), name="canvas_voice_version_positive"),
            models.CheckConstraint(condition=~Q(name=""), name="canvas_voice_name"),
            _score_check("canvas_voice_quality"),
        ]
        indexes = [
            models.Index(fields=["user", "is_active"], name="canvas_voice_user_active"),
            models.Index(fields=["account", "is_active"], name="canvas_voice_account_active"),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version_number}"


class AvatarModel(TenantModel):
    """Seed 003 `avatar_models`: a talking avatar (HeyGen, or the offline
    photo-and-audio renderer) from a sample video or photos."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    name = models.CharField(max_length=255)
    heygen_avatar_id = models.CharField(max_length=255, blank=True)
    # Who renders it (aiplatform.ai.media): "heygen" (talking photo) or "offline" (mouth-flap on the photo).
    provider = models.CharField(max_length=20, default="offline")
    sample_video_url = models.TextField(blank=True)
    sample_video_path = models.TextField(blank=True)
    training_photos_urls = ArrayField(models.TextField(), default=list, blank=True)
    training_photos_paths = ArrayField(models.TextField(), default=list, blank=True)
    creation_status = models.CharField(max_length=50, choices=WorkStatus.choices, default=WorkStatus.PENDING)
    is_active = models.BooleanField(default=True)
    quality_score = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            choice_check("creation_status", WorkStatus, "canvas_avatar_status"),
            models.CheckConstraint(condition=~Q(name=""), name="canvas_avatar_name"),
            _score_check("canvas_avatar_quality"),
        ]
        indexes = [models.Index(fields=["account", "is_active"], name="canvas_avatar_account_active")]

    def __str__(self) -> str:
        return self.name


class GeneratedMediaType(models.TextChoices):
    AUDIO = "audio", _("Audio")
    VIDEO = "video", _("Video")


class GeneratedContent(TenantModel):
    """Seed 003 `generated_content`: an MP3 or MP4 made from a script with a
    voice (and an avatar for video)."""

    project = models.ForeignKey(
        "canvas.Project", on_delete=models.CASCADE, null=True, blank=True, related_name="generated_content"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    script = models.ForeignKey(
        GeneratedScript, on_delete=models.SET_NULL, null=True, blank=True, related_name="generated_content"
    )
    voice_model = models.ForeignKey(
        VoiceModel, on_delete=models.SET_NULL, null=True, blank=True, related_name="generated_content"
    )
    avatar_model = models.ForeignKey(
        AvatarModel, on_delete=models.SET_NULL, null=True, blank=True, related_name="generated_content"
    )
    content_type = models.CharField(max_length=50, choices=GeneratedMediaType.choices)
    file_url = models.TextField(blank=True)
    file_path = models.TextField(blank=True)
    file_size_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    generation_status = models.CharField(max_length=50, choices=WorkStatus.choices, default=WorkStatus.PENDING)
    processing_started_at = models.DateTimeField(null=True, blank=True)
    processing_completed_at = models.DateTimeField(null=True, blank=True)
    generation_cost_credits = credit_field()
    error_message = models.TextField(blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    # The file is deleted from storage after this (MEDIA_FILE_TTL_DAYS); the row stays.
    storage_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "generated content"
        ordering = ["-created_at", "id"]
        constraints = [
            choice_check("content_type", GeneratedMediaType, "canvas_generated_type"),
            choice_check("generation_status", WorkStatus, "canvas_generated_status"),
            _nonnegative("generation_cost_credits", "canvas_generated_cost"),
        ]
        indexes = [
            models.Index(fields=["account", "-created_at"], name="canvas_generated_account"),
            models.Index(
                fields=["storage_expires_at"], condition=Q(storage_expires_at__isnull=False),
                name="canvas_generated_expiry",
            ),  # fmt: skip
        ]

    def __str__(self) -> str:
        return f"{self.content_type} {self.id} ({self.generation_status})"


class JobType(models.TextChoices):
    CONTENT_ANALYSIS = "content_analysis", _("Content analysis")
    SCRIPT_GENERATION = "script_generation", _("Script generation")
    VOICE_GENERATION = "voice_generation", _("Voice generation")
    AVATAR_GENERATION = "avatar_generation", _("Avatar generation")
    CONTENT_SCRAPING = "content_scraping", _("Content scraping")
    FILE_PROCESSING = "file_processing", _("File processing")


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    PROCESSING = "processing", _("Processing")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class ProcessingJob(TenantModel):
    """Seed 003 `processing_queue`: one row per long job (analysis, script, voice,
    avatar, scraping, file processing), the one source of truth for its status.
    The Celery task that runs it mirrors into this row (`task_id`, `progress`);
    a sweep repairs rows whose worker died."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    job_type = models.CharField(max_length=100, choices=JobType.choices)
    job_data = models.JSONField()
    priority = models.IntegerField(default=0)
    status = models.CharField(max_length=50, choices=JobStatus.choices, default=JobStatus.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=3)
    scheduled_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    error_message = models.TextField(blank=True)
    estimated_credits = credit_field()
    actual_credits = credit_field()
    task_id = models.CharField(max_length=255, blank=True, help_text=_("The Celery task running the job."))
    progress = models.PositiveSmallIntegerField(default=0, help_text=_("0-100, shown live."))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "canvas_processing_queue"
        ordering = ["-priority", "scheduled_at", "id"]
        constraints = [
            choice_check("job_type", JobType, "canvas_job_type"),
            choice_check("status", JobStatus, "canvas_job_status"),
            models.CheckConstraint(condition=Q(max_attempts__gte=1), name="canvas_job_max_attempts"),
            models.CheckConstraint(condition=Q(attempts__lte=models.F("max_attempts")), name="canvas_job_attempts"),
            models.CheckConstraint(condition=Q(progress__lte=100), name="canvas_job_progress"),
            _nonnegative("estimated_credits", "canvas_job_estimated"),
            _nonnegative("actual_credits", "canvas_job_actual"),
        ]
        indexes = [
            models.Index(fields=["status", "scheduled_at"], name="canvas_job_status_scheduled"),
            models.Index(fields=["account", "status", "-created_at"], name="canvas_job_account_status"),
        ]

    def __str__(self) -> str:
        return f"{self.job_type} {self.id} ({self.status})"
