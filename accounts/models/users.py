import re
import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

USERNAME_PATTERN = re.compile(r"[^\W_](?:[\w.-]*[^\W_])?")  # letters and digits of any script, inner . _ -


def validate_username(value: str) -> None:
    """A display handle (seed 001 `username`): 3 to 50 characters, letters and digits
    of any script with `.`, `_` or `-` inside, not all digits."""
    if not 3 <= len(value) <= 50:
        raise ValidationError(_("A username has 3 to 50 characters."), code="username_length")
    if not USERNAME_PATTERN.fullmatch(value) or ".." in value:
        raise ValidationError(_("Use letters and digits, with . _ or - between them."), code="username_characters")
    if value.isdigit():
        raise ValidationError(_("A username needs at least one letter."), code="username_digits")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra) -> "User":
        extra.setdefault("role", User.PlatformRole.USER)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra) -> "User":
        extra.update(role=User.PlatformRole.SUPER_ADMIN, is_superuser=True)
        return self._create(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. Seeds 000-004 `users`; the tenant is `Account`, not the user."""

    class PlatformRole(models.TextChoices):
        USER = "user", _("User")
        ADMIN = "admin", _("Platform admin")
        SUPER_ADMIN = "super_admin", _("Super admin")

    class LoginProvider(models.TextChoices):
        EMAIL = "email", _("Email")
        GOOGLE = "google", "Google"
        KAKAO = "kakao", "Kakao"
        FACEBOOK = "facebook", "Facebook"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(max_length=255, unique=True)
    full_name = models.CharField(max_length=255, blank=True)
    # Seed 001 `username`: an optional display handle, unique whatever its case (blank: none).
    username = models.CharField(
        max_length=50, blank=True, validators=[validate_username],
        help_text=_("Your display handle: 3 to 50 letters or digits, with . _ or - between them."),
    )  # fmt: skip
    avatar_url = models.URLField(max_length=500, blank=True)
    role = models.CharField(max_length=20, choices=PlatformRole.choices, default=PlatformRole.USER)
    locale = models.CharField(max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE)
    business_name = models.CharField(max_length=255, blank=True)
    login_provider = models.CharField(max_length=20, choices=LoginProvider.choices, default=LoginProvider.EMAIL)
    provider_user_id = models.CharField(max_length=255, blank=True)
    is_active = models.BooleanField(default=True, help_text=_("Unset to ban or soft-delete the user."))
    last_active_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
            models.UniqueConstraint(
                Lower("username"), condition=~models.Q(username=""), name="accounts_user_username_ci_unique",
                violation_error_message="This username is taken.",
            ),
        ]  # fmt: skip
        indexes = [models.Index(fields=["role"]), models.Index(fields=["is_active"])]

    def __str__(self) -> str:
        return self.email

    @property
    def is_staff(self) -> bool:
        """Django admin access follows the platform role."""
        return self.is_active and self.role in (self.PlatformRole.ADMIN, self.PlatformRole.SUPER_ADMIN)

    @property
    def display_name(self) -> str:
        return self.full_name or self.username or self.email.split("@")[0]

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.display_name


class UserProfile(models.Model):
    """Brand profile (seed 003 `user_profiles`)."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="profile", primary_key=True)
    brand_name = models.CharField(max_length=255, blank=True)
    brand_description = models.TextField(blank=True)
    persona_description = models.TextField(blank=True)
    target_audience = models.TextField(blank=True)
    content_style_preferences = models.JSONField(default=dict, blank=True)
    social_media_handles = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"profile of {self.user_id}"


class UserPreferences(models.Model):
    """Seed 000 `user_preferences` and seed 002 `users.settings`."""

    class Theme(models.TextChoices):
        SYSTEM = "system", _("System")
        LIGHT = "light", _("Light")
        DARK = "dark", _("Dark")

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="preferences", primary_key=True)
    timezone = models.CharField(max_length=64, default="UTC")
    theme = models.CharField(max_length=10, choices=Theme.choices, default=Theme.SYSTEM)
    email_notifications = models.BooleanField(default=True)
    marketing_emails = models.BooleanField(default=False)
    default_persona_id = models.UUIDField(null=True, blank=True)
    extra = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "user preferences"

    def __str__(self) -> str:
        return f"preferences of {self.user_id}"
