from rest_framework import serializers

from .models import CostControl, CreditPack, CreditTransaction, Payment, Plan, Subscription, TopUpRule, Wallet


class WalletSerializer(serializers.ModelSerializer):
    available = serializers.DecimalField(max_digits=18, decimal_places=4, read_only=True)

    class Meta:
        model = Wallet
        fields = ["balance", "reserved", "available", "lifetime_credits", "tier", "auto_top_up_below", "updated_at"]
        read_only_fields = fields


class TransactionSerializer(serializers.ModelSerializer):
    actor = serializers.EmailField(source="actor.email", read_only=True, default=None, allow_null=True)

    class Meta:
        model = CreditTransaction
        fields = [
            "id", "type", "amount", "balance_after", "actor", "reference_type", "reference_id", "description",
            "payment_method", "provider", "amount_paid", "currency", "refund_of", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class CreditPackSerializer(serializers.ModelSerializer):
    class Meta:
        model = CreditPack
        fields = ["code", "name", "credits", "price", "currency"]
        read_only_fields = fields


class PlanSerializer(serializers.ModelSerializer):
    class Meta:
        model = Plan
        fields = [
            "code", "name", "plan_type", "monthly_price", "currency", "monthly_credits", "user_limit",
            "creator_limit", "voice_model_limit", "storage_limit_gb", "monthly_generations", "trial_days",
        ]  # fmt: skip
        read_only_fields = fields


class LimitUsageSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    used = serializers.FloatField(help_text="Counted; storage in GB to two places.")
    limit = serializers.IntegerField()
    percent = serializers.IntegerField()


class SubscriptionSerializer(serializers.ModelSerializer):
    plan = PlanSerializer(read_only=True)
    scheduled_plan = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = Subscription
        fields = [
            "plan", "status", "current_period_start", "current_period_end", "trial_ends_at",
            "cancel_at_period_end", "past_due_since", "scheduled_plan", "provider",
        ]  # fmt: skip
        read_only_fields = fields


class PlanChangeSerializer(serializers.Serializer):
    plan = serializers.SlugField()


class PlanChangeResultSerializer(serializers.Serializer):
    """What asking for a plan did: `checkout` means pay at `checkout_url` first."""

    outcome = serializers.ChoiceField(
        choices=["unchanged", "checkout", "upgrade_requested", "applied", "scheduled", "resumed"]
    )
    message = serializers.CharField()
    checkout_url = serializers.CharField(allow_blank=True)
    payment_id = serializers.UUIDField(allow_null=True, source="payment.id", default=None)
    subscription = SubscriptionSerializer()


class PaymentSerializer(serializers.ModelSerializer):
    pack = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Payment
        fields = [
            "id", "kind", "pack", "credits", "amount", "currency", "provider", "status", "checkout_url",
            "failure_reason", "created_at", "completed_at",
        ]  # fmt: skip
        read_only_fields = fields


class TopUpCreateSerializer(serializers.Serializer):
    pack = serializers.SlugField()


class TopUpRuleSerializer(serializers.ModelSerializer):
    pack = serializers.SlugRelatedField(slug_field="code", queryset=CreditPack.objects.filter(is_active=True))

    class Meta:
        model = TopUpRule
        fields = [
            "id", "kind", "enabled", "pack", "threshold", "interval_days", "next_run_at", "last_run_at", "last_error",
        ]  # fmt: skip
        read_only_fields = ["id", "next_run_at", "last_run_at", "last_error"]


class CostControlSerializer(serializers.ModelSerializer):
    class Meta:
        model = CostControl
        fields = ["daily_limit", "monthly_limit", "auto_shutoff", "shutoff_active", "shutoff_reason", "shutoff_at"]
        read_only_fields = ["shutoff_active", "shutoff_reason", "shutoff_at"]


class ShutoffSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


class UsageQuerySerializer(serializers.Serializer):
    days = serializers.IntegerField(min_value=1, max_value=366, default=30)


class UsageDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    credits = serializers.DecimalField(max_digits=18, decimal_places=4)
    calls = serializers.IntegerField()
    tokens = serializers.IntegerField()
    cost = serializers.DecimalField(max_digits=14, decimal_places=6)


class UsageGroupSerializer(serializers.Serializer):
    feature = serializers.CharField(required=False)
    model = serializers.CharField(required=False)
    credits = serializers.DecimalField(max_digits=18, decimal_places=4)
    calls = serializers.IntegerField()
    cost = serializers.DecimalField(max_digits=14, decimal_places=6)


class UsageSummarySerializer(serializers.Serializer):
    days = serializers.IntegerField()
    daily = UsageDaySerializer(many=True)
    by_feature = UsageGroupSerializer(many=True)
    by_model = UsageGroupSerializer(many=True)
