from django.utils.translation import gettext as _
from rest_framework import serializers

from .models import Account, ApiKey, Invitation, Membership, Role, User


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "full_name",
            "username",
            "avatar_url",
            "locale",
            "business_name",
            "role",
            "login_provider",
            "created_at",
        ]
        read_only_fields = ["id", "email", "role", "login_provider", "created_at"]

    def validate_username(self, value: str) -> str:
        """Unique whatever its case (the database constraint's rule), as a 400."""
        value = (value or "").strip()
        taken = User.objects.filter(username__iexact=value)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if value and taken.exists():
            raise serializers.ValidationError(_("This username is taken."))
        return value


class AccountSerializer(serializers.ModelSerializer):
    class Meta:
        model = Account
        fields = [
            "id",
            "name",
            "is_personal",
            "plan_type",
            "subscription_status",
            "billing_email",
            "creator_limit",
            "user_limit",
            "voice_model_limit",
            "storage_limit_gb",
            "created_at",
        ]
        read_only_fields = fields


class MyAccountSerializer(serializers.ModelSerializer):
    """An account as one of my memberships."""

    account = AccountSerializer(read_only=True)
    is_active = serializers.SerializerMethodField()

    class Meta:
        model = Membership
        fields = ["account", "role", "is_active"]

    def get_is_active(self, membership) -> bool:
        active = self.context.get("active_account_id")
        return active is not None and membership.account_id == active


class AccountCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    plan_type = serializers.ChoiceField(choices=Account.PlanType.choices, default=Account.PlanType.TEAM)


class MemberSerializer(serializers.ModelSerializer):
    user = UserSerializer(read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "user", "role", "created_at"]
        read_only_fields = fields


class RoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


class InvitationSerializer(serializers.ModelSerializer):
    invited_by = serializers.EmailField(source="invited_by.email", read_only=True, default=None, allow_null=True)

    class Meta:
        model = Invitation
        fields = ["id", "email", "role", "status", "invited_by", "expires_at", "accepted_at", "created_at"]
        read_only_fields = fields


class InvitationCreateSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=255)
    role = serializers.ChoiceField(choices=Role.choices, default=Role.MEMBER)


class InvitationAcceptSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=200)


class ApiKeySerializer(serializers.ModelSerializer):
    created_by = serializers.EmailField(source="created_by.email", read_only=True)

    class Meta:
        model = ApiKey
        fields = ["id", "name", "prefix", "role", "created_by", "last_used_at", "revoked_at", "created_at"]
        read_only_fields = fields


class ApiKeyCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    role = serializers.ChoiceField(choices=Role.choices, default=Role.MEMBER)


class ApiKeyCreatedSerializer(ApiKeySerializer):
    key = serializers.CharField(read_only=True, help_text="The secret. Shown once; store it now.")

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]
        read_only_fields = fields
