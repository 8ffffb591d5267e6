"""The chats app's demo: conversations of the demo owners with their account's
persona, answered the normal way (the engine streams the answer from the model,
meters and charges it, and stores the citations of the knowledge it used).

Run by `manage.py seed_chats_demo` after the knowledge and persona demos. With the
embedded default the model is the offline one: its answers quote the retrieved
passages of the shipped documents and say that they come from the offline model.
Idempotent: a chat is found by its title; a question already answered is not asked again.
"""

from __future__ import annotations

import asyncio

from accounts.demo import SECOND_ACCOUNT, TEAM_ACCOUNT, DemoTenant
from accounts.tenancy.context import account_context
from chats.models import ChatSession, Message
from chats.services import generation
from chats.services.dbthreads import lanes_close_connections
from chats.services.messages import answer_request
from chats.services.sessions import session_create
from personas.demo_accounts import demo_persona

ANSWER_TIMEOUT_SECONDS = 120

DEMO_CHATS: dict[str, list[tuple[str, list[str]]]] = {
    TEAM_ACCOUNT: [
        ("Shipping a parcel to Jeju", [
            "How long does standard delivery to Jeju take, and what does a 5 kg parcel cost?",
            "What happens if the parcel arrives damaged?",
        ]),
        ("Returns and the warehouse", [
            "How many days do customers have to return goods, and who pays for the pickup?",
            "Which goods go to the hazardous cage in the warehouse?",
        ]),
    ],
    SECOND_ACCOUNT: [
        ("Episode titles", ["How long may an episode title be, and what must a thumbnail show?"]),
    ],
}  # fmt: skip


async def _stream(prepared) -> None:
    reg = generation.registry()
    try:
        gen = reg.start(prepared)
        await asyncio.wait_for(gen.finished.wait(), timeout=ANSWER_TIMEOUT_SECONDS)
    finally:
        await reg.aclose()


def ask(tenant: DemoTenant, session: ChatSession, question: str) -> Message | None:
    """One question, answered through the chats engine; returns the stored answer."""
    prepared = answer_request(account=tenant.account, user=tenant.user, session_id=session.pk, content=question)
    try:
        asyncio.run(_stream(prepared))
    finally:
        lanes_close_connections()
    with account_context(tenant.account.id):
        return Message.objects.filter(pk=prepared.answer_id).first()


def _answered(tenant: DemoTenant, session: ChatSession) -> set[str]:
    with account_context(tenant.account.id):
        asked = list(Message.objects.filter(session=session, sender=Message.Sender.USER).values_list("content", "pk"))
        done = set(
            Message.objects.filter(session=session, status=Message.Status.COMPLETE)
            .exclude(sender=Message.Sender.USER)
            .values_list("parent_id", flat=True)
        )
    return {content for content, pk in asked if pk in done}


def seed_chats(tenant: DemoTenant) -> tuple[int, int]:
    """The tenant's demo chats, every question answered. Returns (chats created, answers written)."""
    persona = demo_persona(tenant)
    if persona is None:
        return 0, 0
    created = answers = 0
    for title, questions in DEMO_CHATS.get(tenant.account.name, []):
        with account_context(tenant.account.id):
            session = ChatSession.objects.filter(account=tenant.account, user=tenant.user, title=title).first()
        if session is None:
            session = session_create(account=tenant.account, user=tenant.user, persona_id=persona.pk, title=title)
            created += 1
        answered = _answered(tenant, session)
        for question in questions:
            if question not in answered:
                ask(tenant, session, question)
                answers += 1
    return created, answers
