import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.tenancy.models import TenantModel


class Role(models.TextChoices):
    """Membership roles, strongest first."""

    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    MEMBER = "member", _("Member")
    VIEWER = "viewer", _("Viewer")

    @property
    def rank(self) -> int:
        return _RANK[self]

    def at_least(self, other: "Role | str") -> bool:
        return _RANK[self] >= _RANK[Role(other)]


_RANK = {Role.VIEWER: 0, Role.MEMBER: 1, Role.ADMIN: 2, Role.OWNER: 3}


class Account(models.Model):
    """The tenant (seed 003 `accounts`), with its plan limits."""

    class PlanType(models.TextChoices):
        INDIVIDUAL = "individual", _("Individual")
        TEAM = "team", _("Team")
        AGENCY = "agency", _("Agency")

    class SubscriptionStatus(models.TextChoices):
        ACTIVE = "active", _("Active")
        CANCELLED = "cancelled", _("Cancelled")
        PAST_DUE = "past_due", _("Past due")
        TRIALING = "trialing", _("Trialing")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=255)
    is_personal = models.BooleanField(default=False)
    plan_type = models.CharField(max_length=20, choices=PlanType.choices, default=PlanType.INDIVIDUAL)
    subscription_status = models.CharField(
        max_length=20, choices=SubscriptionStatus.choices, default=SubscriptionStatus.ACTIVE
    )
    billing_email = models.EmailField(max_length=255, blank=True)
    creator_limit = models.PositiveIntegerField(default=5)
    user_limit = models.PositiveIntegerField(default=1)
    voice_model_limit = models.PositiveIntegerField(default=10)
    storage_limit_gb = models.PositiveIntegerField(default=50)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["plan_type"]), models.Index(fields=["subscription_status"])]

    def __str__(self) -> str:
        return self.name


class Membership(TenantModel):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "user"], name="accounts_membership_unique")]
        indexes = [models.Index(fields=["user", "account"])]

    def __str__(self) -> str:
        return f"{self.user_id} {self.role} of {self.account_id}"

    @property
    def role_enum(self) -> Role:
        return Role(self.role)
