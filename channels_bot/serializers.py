"""API shapes of the channel bot: explicit output serializers (read-only) and
input serializers per write. No serializer ever exposes a channel's tokens."""

from __future__ import annotations

from django.utils.translation import gettext
from rest_framework import serializers

from .models import ConnectedChannel, Conversation, ConversationMessage, Customer, Order, Product
from .models.catalog import currency_validator
from .models.orders import TRANSITIONS

SEND_TEXT_MAX = 2000  # Messenger's text limit, the strictest of the platforms with DMs


class UserRefSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    email = serializers.EmailField(read_only=True)
    name = serializers.CharField(source="display_name", read_only=True)


class PersonaRefSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(read_only=True)


# Channels


class ChannelSerializer(serializers.ModelSerializer):
    platform = serializers.CharField(source="platform_type", read_only=True)
    platform_label = serializers.CharField(source="get_platform_type_display", read_only=True)
    persona = PersonaRefSerializer(read_only=True, allow_null=True)
    needs_reconnect = serializers.BooleanField(read_only=True)

    class Meta:
        model = ConnectedChannel
        fields = [
            "id", "platform", "platform_label", "platform_specific_id", "channel_name", "route", "page_id",
            "is_active", "persona", "auth_state", "auth_error", "needs_reconnect", "token_expires_at",
            "last_webhook_at", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class ChannelUpdateSerializer(serializers.Serializer):
    channel_name = serializers.CharField(max_length=200, required=False)
    is_active = serializers.BooleanField(required=False, help_text="Off: the bot ignores this channel's messages.")
    persona = serializers.UUIDField(
        required=False, allow_null=True, help_text="A persona visible to the account, or null for none."
    )

    def validate_channel_name(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError(gettext("A channel needs a name."))
        return value.strip()


# Customers


class CustomerSerializer(serializers.ModelSerializer):
    channel_name = serializers.CharField(source="channel.channel_name", read_only=True)
    platform = serializers.CharField(source="channel.platform_type", read_only=True)
    order_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Customer
        fields = [
            "id", "channel", "channel_name", "platform", "platform_customer_id", "full_name", "profile_picture_url",
            "first_seen_at", "last_seen_at", "order_count",
        ]  # fmt: skip
        read_only_fields = fields


class CustomerQuerySerializer(serializers.Serializer):
    search = serializers.CharField(required=False, allow_blank=True, max_length=200)
    channel = serializers.UUIDField(required=False)


class CustomerRefSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    full_name = serializers.CharField(read_only=True)
    platform_customer_id = serializers.CharField(read_only=True)
    profile_picture_url = serializers.CharField(read_only=True)


class ChannelRefSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    channel_name = serializers.CharField(read_only=True)
    platform = serializers.CharField(source="platform_type", read_only=True)


# Catalog


class ProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = [
            "id", "name", "description", "price", "currency", "sku", "image_url", "is_available", "created_at",
            "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class ProductWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    currency = serializers.CharField(max_length=3, min_length=3, help_text="ISO 4217, e.g. USD or KRW.")
    sku = serializers.CharField(required=False, allow_blank=True, max_length=64)
    image_url = serializers.URLField(required=False, allow_blank=True, max_length=1000)
    is_available = serializers.BooleanField(required=False)

    def validate_currency(self, value: str) -> str:
        value = value.strip().upper()
        currency_validator(value)
        return value


class ProductQuerySerializer(serializers.Serializer):
    search = serializers.CharField(required=False, allow_blank=True, max_length=200)
    available = serializers.BooleanField(required=False, allow_null=True, default=None)


class ProductImportSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="CSV with a header row: name, price, currency (required), description, sku, image_url, is_available."
    )


# Orders


class OrderSerializer(serializers.ModelSerializer):
    customer = CustomerRefSerializer(read_only=True)
    channel = ChannelRefSerializer(read_only=True)
    item_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Order
        fields = [
            "id", "customer", "channel", "conversation", "order_status", "total_amount", "currency", "item_count",
            "shipping_address", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class OrderItemSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    product = serializers.UUIDField(source="product_id", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)
    sku = serializers.CharField(source="product.sku", read_only=True)
    quantity = serializers.IntegerField(read_only=True)
    price_at_purchase = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    currency_at_purchase = serializers.CharField(read_only=True)
    line_total = serializers.SerializerMethodField()

    def get_line_total(self, item) -> str:
        return f"{item.price_at_purchase * item.quantity:.2f}"


class OrderStatusChangeSerializer(serializers.Serializer):
    from_status = serializers.CharField(read_only=True)
    to_status = serializers.CharField(read_only=True)
    actor_kind = serializers.CharField(read_only=True)
    actor = UserRefSerializer(read_only=True, allow_null=True)
    note = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class OrderDetailSerializer(OrderSerializer):
    items = OrderItemSerializer(many=True, read_only=True)
    history = OrderStatusChangeSerializer(source="status_changes", many=True, read_only=True)
    allowed_transitions = serializers.SerializerMethodField()

    class Meta(OrderSerializer.Meta):
        fields = [*OrderSerializer.Meta.fields, "billing_address", "items", "history", "allowed_transitions"]
        read_only_fields = fields

    def get_allowed_transitions(self, order) -> list[str]:
        return sorted(TRANSITIONS[order.order_status])


class OrderQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Order.Status.choices, required=False)
    channel = serializers.UUIDField(required=False)
    customer = serializers.UUIDField(required=False)


class OrderTransitionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Order.Status.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


# Conversations


class LastMessageSerializer(serializers.Serializer):
    content = serializers.CharField(source="last_message_content", read_only=True, allow_null=True)
    sender_type = serializers.CharField(source="last_message_sender", read_only=True, allow_null=True)
    delivery_state = serializers.CharField(source="last_message_state", read_only=True, allow_null=True)


class ConversationSerializer(serializers.ModelSerializer):
    customer = CustomerRefSerializer(read_only=True)
    channel = ChannelRefSerializer(read_only=True)
    assigned_to = UserRefSerializer(read_only=True, allow_null=True)
    last_message = LastMessageSerializer(source="*", read_only=True)

    class Meta:
        model = Conversation
        fields = [
            "id", "customer", "channel", "status", "handler", "needs_human", "assigned_to", "unread_count",
            "started_at", "last_message_at", "last_customer_message_at", "last_message",
        ]  # fmt: skip
        read_only_fields = fields


class ConversationQuerySerializer(serializers.Serializer):
    channel = serializers.UUIDField(required=False)
    status = serializers.ChoiceField(choices=Conversation.Status.choices, required=False)
    handler = serializers.ChoiceField(choices=Conversation.Handler.choices, required=False)
    needs_human = serializers.BooleanField(required=False, allow_null=True, default=None)
    unread = serializers.BooleanField(required=False, allow_null=True, default=None)
    customer = serializers.UUIDField(required=False)


class ConversationMessageSerializer(serializers.ModelSerializer):
    sent_by = UserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = ConversationMessage
        fields = [
            "id", "conversation", "sender_type", "content_type", "content", "payload", "timestamp",
            "platform_message_id", "delivery_state", "error_code", "error_message", "reply_to", "sent_by",
            "credits_charged",
        ]  # fmt: skip
        read_only_fields = fields


class AgentSendSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=SEND_TEXT_MAX, trim_whitespace=True)
