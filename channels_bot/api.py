"""REST API of the channel bot: channels, customers, products, orders and
conversations of the active account. Viewers read; members answer customers
and move orders; admins and owners manage channels. A foreign id answers 404.
Every write goes through a service; its domain errors come back in the API's
error shape (409 `window_closed` when the platform no longer accepts a message).
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from accounts.models import Role
from accounts.tenancy.drf import TenantViewSet
from aiplatform.api.pagination import PageNumberPagination
from aiplatform.api.parsers import JSONParser

from . import selectors as sel
from . import serializers as s
from .models import ConnectedChannel, Conversation, Customer, Order, Product
from .services import handoff
from .services.channels import channel_disconnect, channel_update
from .services.inbox import agent_message_send, conversation_mark_read
from .services.orders import order_transition
from .services.products import product_create, product_delete, product_update, products_import_csv

_ID = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH)


def _query(serializer_class, request) -> dict:
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    return {k: v for k, v in query.validated_data.items() if v not in (None, "")}


@extend_schema_view(retrieve=extend_schema(parameters=[_ID]), destroy=extend_schema(parameters=[_ID]))
class ChannelViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin):
    """Connected pages and profiles. Tokens are never shown; `needs_reconnect`
    says when a channel must go through the connect flow again. DELETE
    disconnects: the tokens are erased and the bot stops, the history stays."""

    queryset = ConnectedChannel.objects.select_related("persona").order_by("platform_type", "channel_name", "id")
    serializer_class = s.ChannelSerializer
    write_role = Role.ADMIN

    @extend_schema(parameters=[_ID], request=s.ChannelUpdateSerializer, responses=s.ChannelSerializer)
    def partial_update(self, request, pk=None):
        channel = self.get_object()
        data = s.ChannelUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        channel_update(channel=channel, actor=self.membership, **data.validated_data)
        return Response(self.get_serializer(sel.channel_get_for_account(self.account, channel.pk)).data)

    def destroy(self, request, pk=None):
        channel_disconnect(channel=self.get_object(), actor=self.membership)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CustomerViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """People who wrote to the account's channels, most recently seen first, with
    their order count. `?search=` matches the name or platform id."""

    queryset = Customer.objects.all()
    serializer_class = s.CustomerSerializer

    def scope_queryset(self, queryset):
        query = _query(s.CustomerQuerySerializer, self.request) if self.action == "list" else {}
        return sel.customers_for_account(self.account, **query)

    @extend_schema(parameters=[s.CustomerQuerySerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)


@extend_schema_view(retrieve=extend_schema(parameters=[_ID]))
class ProductViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin):
    """The catalog the bot sells from. `?search=` matches words of the name, SKU
    and description; `?available=` narrows. Import many at once with
    `POST products/import/` (multipart `file`, CSV)."""

    queryset = Product.objects.defer("search_vector", "embedding").order_by("name", "id")
    serializer_class = s.ProductSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def scope_queryset(self, queryset):
        if self.action != "list":
            return queryset
        query = _query(s.ProductQuerySerializer, self.request)
        return sel.products_for_account(self.account, search=query.get("search", ""), available=query.get("available"))

    @extend_schema(parameters=[s.ProductQuerySerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=s.ProductWriteSerializer, responses={201: s.ProductSerializer})
    def create(self, request):
        data = s.ProductWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        product = product_create(account=self.account, actor=self.membership, **data.validated_data)
        return Response(self.get_serializer(product).data, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[_ID], request=s.ProductWriteSerializer(partial=True), responses=s.ProductSerializer)
    def partial_update(self, request, pk=None):
        product = self.get_object()
        data = s.ProductWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        product = product_update(product=product, actor=self.membership, **data.validated_data)
        return Response(self.get_serializer(sel.product_get_for_account(self.account, product.pk)).data)

    @extend_schema(parameters=[_ID], responses={204: None, 200: OpenApiTypes.OBJECT})
    def destroy(self, request, pk=None):
        """204 when deleted; 200 with `deleted: false` and the product when it was
        ordered before (it is kept, marked unavailable)."""
        outcome = product_delete(product=self.get_object(), actor=self.membership)
        if outcome.deleted:
            return Response(status=status.HTTP_204_NO_CONTENT)
        body = {"deleted": False, "message": outcome.message, "product": s.ProductSerializer(outcome.product).data}
        return Response(body)

    @extend_schema(request={"multipart/form-data": s.ProductImportSerializer}, responses=OpenApiTypes.OBJECT)
    @action(detail=False, methods=["post"], url_path="import", parser_classes=[MultiPartParser, FormParser])
    def import_csv(self, request):
        """Create or update products from a CSV (matched by SKU), all or nothing.
        A file with errors is a 400 whose `error.errors` lists {line, field, message}."""
        data = s.ProductImportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = products_import_csv(account=self.account, actor=self.membership, file=data.validated_data["file"])
        return Response(import_result_dict(result))


def import_result_dict(result) -> dict:
    """The import's outcome: counts and the products created or updated."""
    return {
        "created": result.created, "updated": result.updated, "rows": result.rows,
        "products": s.ProductSerializer(result.products, many=True).data,
    }  # fmt: skip


@extend_schema_view(retrieve=extend_schema(parameters=[_ID]))
class OrderViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Orders taken in conversations, newest first; filter by `status`, `channel`,
    `customer`. One order shows its items and status history; members move it
    along `PENDING → CONFIRMED → PROCESSING → SHIPPED` (or `CANCELLED` before
    shipping) and the customer is told on their channel."""

    queryset = Order.objects.all()
    serializer_class = s.OrderSerializer

    def scope_queryset(self, queryset):
        if self.action == "list":
            filters = sel.OrderFilters(**_query(s.OrderQuerySerializer, self.request))
            return sel.orders_for_account(self.account, filters)
        return sel.order_detail_queryset(self.account)

    def get_serializer_class(self):
        return s.OrderSerializer if self.action == "list" else s.OrderDetailSerializer

    @extend_schema(parameters=[s.OrderQuerySerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(parameters=[_ID], request=s.OrderTransitionSerializer, responses=s.OrderDetailSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        """Move the order to `status` (409 when that move is not allowed from its current status)."""
        order = self.get_object()
        data = s.OrderTransitionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order_transition(
            order=order, to_status=data.validated_data["status"], actor_kind="agent", actor=self.membership,
            note=data.validated_data["note"],
        )  # fmt: skip
        return Response(s.OrderDetailSerializer(sel.order_get_for_account(self.account, order.pk)).data)


@extend_schema_view(retrieve=extend_schema(parameters=[_ID]))
class ConversationViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Threads with customers, most recent activity first. Filter by `channel`,
    `status`, `handler`, `needs_human`, `unread`, `customer`. Members answer
    (`POST messages/`), take over from the bot, give back, close and archive."""

    queryset = Conversation.objects.all()
    serializer_class = s.ConversationSerializer
    action_roles = {"read": Role.VIEWER}

    def scope_queryset(self, queryset):
        filters = sel.ConversationFilters()
        if self.action == "list":
            filters = sel.ConversationFilters(**_query(s.ConversationQuerySerializer, self.request))
        return sel.conversations_for_account(self.account, filters)

    @extend_schema(parameters=[s.ConversationQuerySerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def _fresh(self, conversation) -> Response:
        return Response(s.ConversationSerializer(sel.conversation_get_for_account(self.account, conversation.pk)).data)

    @extend_schema(methods=["get"], parameters=[_ID], responses=s.ConversationMessageSerializer(many=True))
    @extend_schema(
        methods=["post"],
        parameters=[_ID],
        request=s.AgentSendSerializer,
        responses={201: s.ConversationMessageSerializer},
    )
    @action(detail=True, methods=["get", "post"])
    def messages(self, request, pk=None):
        """GET: the thread, first to last (paginated). POST `{"text"}`: answer as an agent
        (409 `window_closed` when the customer has not written within the platform's window)."""
        conversation = self.get_object()
        if request.method == "POST":
            data = s.AgentSendSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            message = agent_message_send(conversation=conversation, actor=self.membership, **data.validated_data)
            return Response(s.ConversationMessageSerializer(message).data, status=status.HTTP_201_CREATED)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(sel.messages_of_conversation(self.account, conversation), request, view=self)
        return paginator.get_paginated_response(s.ConversationMessageSerializer(page, many=True).data)

    @extend_schema(parameters=[_ID], request=None, responses=s.ConversationSerializer)
    @action(detail=True, methods=["post"], url_path="take-over")
    def take_over(self, request, pk=None):
        """A human answers from now on; the bot stays quiet (Messenger: the thread goes to the Page Inbox)."""
        conversation = handoff.conversation_take_over(conversation=self.get_object(), actor=self.membership)
        return self._fresh(conversation)

    @extend_schema(parameters=[_ID], request=None, responses=s.ConversationSerializer)
    @action(detail=True, methods=["post"], url_path="give-back")
    def give_back(self, request, pk=None):
        """The bot answers the customer's next message again."""
        conversation = handoff.conversation_give_back(conversation=self.get_object(), actor=self.membership)
        return self._fresh(conversation)

    @extend_schema(parameters=[_ID], request=None, responses=s.ConversationSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """Closed by an agent; the customer's next message reopens it."""
        conversation = handoff.conversation_close(conversation=self.get_object(), actor=self.membership)
        return self._fresh(conversation)

    @extend_schema(parameters=[_ID], request=None, responses=s.ConversationSerializer)
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        conversation = handoff.conversation_archive(conversation=self.get_object(), actor=self.membership)
        return self._fresh(conversation)

    @extend_schema(parameters=[_ID], request=None, responses=s.ConversationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        """Mark the thread read: its unread count goes to 0 (viewers may)."""
        conversation = conversation_mark_read(conversation=self.get_object(), actor=self.membership)
        return self._fresh(conversation)
