"""The demo `bin/dev` loads (manage.py seed_everything): what the demo owner finds in
Acme Logistics, that Globex Media has data of its own, that no row crosses between
them, and that loading it again changes nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.test import Client

from accounts.demo import SECOND_ACCOUNT, TEAM_ACCOUNT, demo_tenant
from accounts.tenancy.context import account_context, rls_bypass
from billing.models import CreditTransaction, UsageRecord, Wallet
from chats.models import ChatSession, Message
from knowledge.models import Chunk, DecisionUnit, Document
from personas.models import Persona, PersonaDecisionUnit
from templates.models import ServiceResult
from workspace.search import workspace_search

pytestmark = [pytest.mark.django_db(transaction=True)]

TENANT_MODELS = {
    "units": DecisionUnit,
    "documents": Document,
    "chunks": Chunk,
    "personas": Persona,
    "persona_units": PersonaDecisionUnit,
    "chats": ChatSession,
    "messages": Message,
    "results": ServiceResult,
    "ledger": CreditTransaction,
    "usage": UsageRecord,
}


def _counts() -> dict[str, dict[str, int]]:
    with rls_bypass("test: count the demo rows of every account"):
        return {
            label: dict(
                model.objects.filter(account__isnull=False)
                .values("account__name")
                .annotate(n=Count("pk"))
                .order_by()
                .values_list("account__name", "n")
            )
            for label, model in TENANT_MODELS.items()
        }


def _seed() -> str:
    out = StringIO()
    call_command("seed_everything", "--strict", stdout=out, stderr=out)
    return out.getvalue()


def test_the_demo_gives_each_tenant_its_own_working_data_and_loads_twice_the_same():
    # when the demo is loaded on an empty database
    log = _seed()
    first = _counts()
    acme, globex = demo_tenant(TEAM_ACCOUNT), demo_tenant(SECOND_ACCOUNT)
    assert "All demo data ready." in log, log

    with account_context(acme.account.id):
        # then Acme has a unit whose four shipped documents (PDF, Word, CSV, Markdown) are indexed
        unit = DecisionUnit.objects.get(name="Acme shipping handbook")
        documents = list(Document.objects.filter(unit=unit).order_by("name"))
        assert {(d.kind, d.status) for d in documents} == {("pdf", "done"), ("docx", "done"), ("csv", "done"),
                                                           ("md", "done")}  # fmt: skip
        assert all(d.chunk_count > 0 for d in documents)
        acme_docs = {str(d.pk) for d in documents}
        # and a persona of its own that reads that unit
        persona = Persona.objects.get(account=acme.account, name="Acme Shipping Desk")
        assert list(PersonaDecisionUnit.objects.filter(persona=persona).values_list("decision_unit", flat=True)) == [
            unit.pk
        ]
        # and two chats of the owner, every question answered in full, each answer citing Acme's documents
        chats = list(ChatSession.objects.filter(user=acme.user, persona=persona))
        assert len(chats) == 2
        answers = list(Message.objects.filter(session__in=chats, sender=Message.Sender.BOT))
        assert len(answers) == 4
        assert all(a.status == Message.Status.COMPLETE and a.content and a.citations for a in answers)
        cited = {c["document_id"] for a in answers for c in a.citations}
        assert cited and cited <= acme_docs
        # and a completed service result with a live share link
        result = ServiceResult.objects.get(account=acme.account)
        assert result.status == ServiceResult.Status.COMPLETED and result.is_public and result.share_token
        # and a month of ledger and usage history: the balance is the sum of the ledger
        days = set(CreditTransaction.objects.annotate(d=TruncDate("created_at")).values_list("d", flat=True))
        assert len(days) >= 25
        usage_days = set(UsageRecord.objects.annotate(d=TruncDate("created_at")).values_list("d", flat=True))
        assert len(usage_days) >= 25
        total = CreditTransaction.objects.aggregate(s=Sum("amount"))["s"]
        assert Wallet.objects.get(account=acme.account).balance == total

    # and the share link opens for anyone, signed out
    assert Client().get(f"/services/share/{result.share_token}/").status_code == 200

    with account_context(globex.account.id):
        # and Globex has its own unit, persona and chat, citing only its own documents
        globex_docs = {str(pk) for pk in Document.objects.filter(status="done").values_list("pk", flat=True)}
        assert len(globex_docs) == 2 and not globex_docs & acme_docs
        answers = list(Message.objects.filter(sender=Message.Sender.BOT))
        assert answers and {c["document_id"] for a in answers for c in a.citations} <= globex_docs
        # and under Globex's context no Acme row is visible
        assert not Document.objects.filter(pk__in=acme_docs).exists()
        assert not ChatSession.objects.filter(user=acme.user).exists()

    # and each owner's search finds only their own account's knowledge
    assert workspace_search(account=acme.account, user=acme.user, query="hazardous").counts.get("documents") == 1
    assert workspace_search(account=globex.account, user=globex.user, query="hazardous").hits == ()
    assert workspace_search(account=globex.account, user=globex.user, query="thumbnail").counts.get("documents") == 1
    assert workspace_search(account=acme.account, user=acme.user, query="thumbnail").hits == ()

    # when the demo is loaded again (bin/dev does on every start)
    _seed()

    # then nothing was added, in either account
    assert _counts() == first
    assert set(first["documents"]) == {TEAM_ACCOUNT, SECOND_ACCOUNT}


def test_the_demo_owner_signs_in_to_acme_logistics():
    from accounts.management.commands.seed_demo import DEMO_PASSWORD, DEMO_USERS

    call_command("seed_demo", stdout=StringIO())
    client = Client()
    response = client.post("/auth/login/", {"login": DEMO_USERS["owner"][0], "password": DEMO_PASSWORD})
    assert response.status_code == 302
    html = client.get(response["Location"]).content.decode()
    assert f'<h2 data-testid="active-account">{TEAM_ACCOUNT}</h2>' in html
