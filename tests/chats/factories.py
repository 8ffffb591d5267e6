"""Factories of chats. Rows are written inside their account's context, as the
application writes them (row-level security's WITH CHECK applies)."""

from __future__ import annotations

import factory

from accounts.tenancy.context import account_context
from chats.models import ChatSession, Message
from tests.accounts.factories import AccountFactory, TenantFactory, UserFactory
from tests.personas.factories import PersonaFactory


class ChatSessionFactory(TenantFactory):
    class Meta:
        model = ChatSession

    account = factory.SubFactory(AccountFactory)
    user = factory.SubFactory(UserFactory)
    persona = factory.LazyAttribute(lambda o: PersonaFactory(account=o.account))
    title = ""


class MessageFactory(TenantFactory):
    class Meta:
        model = Message

    session = factory.SubFactory(ChatSessionFactory)
    account = factory.LazyAttribute(lambda o: o.session.account)
    sender = Message.Sender.USER
    content = factory.Sequence(lambda n: f"message {n}")
    status = Message.Status.COMPLETE


def conversation(session: ChatSession, *turns: tuple[str, str]) -> list[Message]:
    """Stored question/answer pairs, each answer the child of its question; the
    session's active leaf moves to the last answer."""
    made: list[Message] = []
    parent = session.active_leaf
    for question, answer in turns:
        q = MessageFactory(session=session, parent=parent, sender=Message.Sender.USER, content=question)
        a = MessageFactory(session=session, parent=q, sender=Message.Sender.BOT, content=answer)
        made += [q, a]
        parent = a
    with account_context(session.account_id):
        ChatSession.objects.filter(pk=session.pk).update(active_leaf=parent)
    session.active_leaf = parent
    return made
