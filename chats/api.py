"""REST API of chats: `/api/v1/chat-sessions/` (the user's own chats in the
active account), their messages, and sending a message with the answer
streamed back as Server-Sent Events (chats/sse.py)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from accounts.tenancy.drf import TenantViewSet

from . import serializers as s
from .models import ChatSession
from .selectors import branch_of
from .services.control import answer_stop
from .services.messages import answer_request
from .services.sessions import branch_select, session_create, session_delete, session_update
from .sse import EventStreamRenderer, answer_response

_ID = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH)
_SEARCH = OpenApiParameter("search", OpenApiTypes.STR, description="Matches the title or any message.")
_LEAF = OpenApiParameter("leaf", OpenApiTypes.UUID, description="Show the branch through this message.")


@extend_schema_view(
    list=extend_schema(parameters=[_SEARCH]),
    retrieve=extend_schema(parameters=[_ID]),
    partial_update=extend_schema(parameters=[_ID], request=s.ChatSessionUpdateSerializer),
    destroy=extend_schema(parameters=[_ID]),
)
class ChatSessionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin, TenantViewSet
):
    """Your chats with personas in the active account: favorites first, then by
    last activity. Viewers read; members and up send."""

    queryset = ChatSession.objects.select_related("persona")
    serializer_class = s.ChatSessionSerializer

    def scope_queryset(self, queryset):
        queryset = queryset.filter(user=self.request.user).order_by("-is_favorite", "-last_active", "-id")
        if self.action == "list" and (search := self.request.query_params.get("search", "").strip()):
            from .selectors import sessions_for_user

            queryset = sessions_for_user(self.account, self.request.user, search=search)
        return queryset

    def perform_create(self, serializer):
        serializer.instance = session_create(
            account=self.account, user=self.request.user, persona_id=serializer.validated_data["persona_id"],
            title=serializer.validated_data.get("title", ""),
        )  # fmt: skip

    def partial_update(self, request, pk=None):
        session = self.get_object()
        data = s.ChatSessionUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        session = session_update(account=self.account, user=request.user, session_id=session.pk,
                                 **data.validated_data)  # fmt: skip
        return Response(s.ChatSessionSerializer(session).data)

    def perform_destroy(self, instance):
        session_delete(account=self.account, user=self.request.user, session_id=instance.pk)

    @extend_schema(parameters=[_ID, _LEAF], responses=s.MessageSerializer(many=True))
    @action(detail=True, methods=["get"])
    def messages(self, request, pk=None):
        """The messages of the branch shown (or of the branch through `leaf`), first to last."""
        session = self.get_object()
        branch = branch_of(session, request.query_params.get("leaf") or None)
        return Response(s.branch_dicts(branch))

    @extend_schema(
        parameters=[_ID], request=s.SendSerializer,
        responses={(200, "text/event-stream"): OpenApiResponse(
            description="Server-Sent Events: `message` (your message, then the answer's placeholder), `token` "
                        "(`offset`, `text`) as the answer grows, then `done` (status, content, usage, credits, "
                        "citations, title) or `error` (code, message)."
        )},
    )  # fmt: skip
    @action(detail=True, methods=["post"], renderer_classes=[JSONRenderer, EventStreamRenderer])
    def send(self, request, pk=None):
        """Send a message (or `edit_of` an earlier one, or `regenerate` an answer);
        the answer streams back as Server-Sent Events. Errors before the stream (400,
        402 insufficient_credits, 404, 409, 429 with Retry-After) answer in the
        usual JSON shape (or as one `error` event to `Accept: text/event-stream`)."""
        session = self.get_object()
        data = s.SendSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        prepared = answer_request(
            account=self.account, user=request.user, session_id=session.pk,
            content=data.validated_data.get("content"), edit_of=data.validated_data.get("edit_of"),
            regenerate=data.validated_data.get("regenerate"),
        )  # fmt: skip
        return answer_response(prepared)

    @extend_schema(parameters=[_ID], request=None, responses={200: s.MessageSerializer, 202: s.MessageSerializer})
    @action(detail=True, methods=["post"])
    def stop(self, request, pk=None):
        """Stop the answer being written; it keeps what was generated and is charged
        for it. 200 with the stopped answer, or 202 while its process has not yet
        confirmed (it will; a lost process is closed by the orphan sweep)."""
        session = self.get_object()
        answer = answer_stop(account=self.account, user=request.user, session_id=session.pk, wait=True)
        code = status.HTTP_202_ACCEPTED if not answer.is_final else status.HTTP_200_OK
        return Response(s.message_dict(answer), status=code)

    @extend_schema(parameters=[_ID], request=s.BranchSerializer, responses=s.MessageSerializer(many=True))
    @action(detail=True, methods=["post"])
    def branch(self, request, pk=None):
        """Show another branch (an earlier version of an edited message, another answer)."""
        session = self.get_object()
        data = s.BranchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        session = branch_select(account=self.account, user=request.user, session_id=session.pk,
                                message_id=data.validated_data["message_id"])  # fmt: skip
        return Response(s.branch_dicts(branch_of(session)))
