"""The chat page: the sidebar of the user's chats, the persona picker, and one
chat. The page renders the stored messages of the branch shown; the browser
then talks to the websocket (`ws/chats/<id>/`) and the REST API
(chats/static/chats/chat.js)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View

from accounts.models import Role
from accounts.tenancy.views import TenantViewMixin
from aiplatform.errors import ServiceError
from aiplatform.flash import service_error_text
from personas.selectors import personas_visible_to

from .selectors import branch_of, session_get_for_user, sessions_for_user, streaming_answer
from .serializers import branch_dicts, session_dict
from .services.sessions import session_create

SIDEBAR_SIZE = 50


class ChatPageView(TenantViewMixin, View):
    def get(self, request, pk=None):
        session, branch, streaming = None, [], None
        if pk is not None:
            session = session_get_for_user(self.account, request.user, pk)  # a foreign id: 404 (the mixin)
            branch = branch_dicts(branch_of(session))
            answer = streaming_answer(session)
            streaming = str(answer.pk) if answer else None
        sessions = list(sessions_for_user(self.account, request.user)[:SIDEBAR_SIZE])
        personas = list(personas_visible_to(self.account))
        picked = session.persona_id if session else _default_persona_id(request.user, personas)
        data = {
            "session": session_dict(session) if session else None,
            "messages": branch,
            "streaming": streaming,
            "sessions": [session_dict(s) for s in sessions],
            "can_send": request.account_role.at_least(Role.MEMBER),
            "urls": {"api": "/api/v1/chat-sessions/", "page": reverse("chats:index"), "ws": "/ws/chats/"},
        }
        return render(request, "chats/chat.html", {
            "chat": session, "sessions": sessions, "personas": personas, "chat_data": data, "picked_persona_id": picked,
        })  # fmt: skip


def _default_persona_id(user, personas: list) -> object | None:
    """The user's default persona (UserPreferences), when this account can see it."""
    try:
        default = user.preferences.default_persona_id
    except ObjectDoesNotExist:
        return None
    return default if any(p.pk == default for p in personas) else None


class NewChatView(TenantViewMixin, View):
    """Start a chat with a persona (the picker's form; works without JavaScript)."""

    required_role = Role.MEMBER

    def post(self, request):
        try:
            session = session_create(account=self.account, user=request.user,
                                     persona_id=request.POST.get("persona_id", ""))  # fmt: skip
        except ServiceError as exc:
            messages.error(request, service_error_text(exc))
            return redirect("chats:index")
        return redirect("chats:session", pk=session.pk)
