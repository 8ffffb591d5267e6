"""One way to put a row in every tenant table, per account. A tenant model
without an entry here fails `test_every_tenant_model_can_be_seeded`, so a new
app adds its factories when it adds tables."""

from __future__ import annotations

from collections.abc import Callable

from accounts.models import Account, ApiKey, Invitation, Membership, Role
from accounts.tenancy.context import account_context
from billing import models as billing
from canvas import models as canvas
from channels_bot import models as channels_bot
from chats.models import ChatSession, Message
from knowledge import models as knowledge
from personas.models import Persona, PersonaDecisionUnit
from templates import models as templates_models
from templates.models import ServiceResult
from tests.accounts.factories import ApiKeyFactory, InvitationFactory, MembershipFactory, UserFactory
from tests.billing import factories as bf
from tests.canvas.builder.factories import builder_rows
from tests.canvas.factories import canvas_rows
from tests.channels_bot.factories import channel_bot_rows
from tests.chats.factories import ChatSessionFactory, conversation
from tests.knowledge import factories as kf
from tests.personas.factories import PersonaFactory
from tests.templates.factories import ServiceResultFactory
from tests.templates.library_factories import library_rows


def _knowledge_rows(account: Account, owner) -> None:
    document = kf.DocumentFactory(unit=kf.DecisionUnitFactory(account=account, created_by=owner), uploaded_by=owner)
    kf.ChunkFactory(document=document)
    kf.StagedChunkFactory(document=document)
    persona = PersonaFactory(account=account, created_by=owner, name=f"Knowing persona {account.name}")
    with account_context(account.id):
        PersonaDecisionUnit.objects.create(account=account, persona=persona, decision_unit=document.unit)


def _chat_rows(account: Account, owner) -> None:
    persona = PersonaFactory(account=account, created_by=owner, name=f"Chat persona {account.name}")
    conversation(ChatSessionFactory(account=account, user=owner, persona=persona), ("a question", "an answer"))


def _billing_rows(account: Account, owner) -> None:
    bf.fund(account, "50")  # wallet, ledger row, audit rows
    bf.spend(account, "1", idempotency_key=f"seed-{account.id}")  # idempotency record
    bf.SubscriptionFactory(account=account)
    bf.PaymentFactory(account=account)
    bf.PaymentCustomerFactory(account=account)
    bf.TopUpRuleFactory(account=account)
    bf.ReservationFactory(account=account)
    bf.UsageRecordFactory(account=account)
    bf.UserMonthlyUsageFactory(account=account, user=owner)
    bf.DailyProviderCostFactory(account=account)
    bf.AccountDailyUsageFactory(account=account)
    bf.ApiRequestLogFactory(account=account)
    bf.CostControlFactory(account=account)
    with account_context(account.id):
        billing.PlanChange.objects.create(account=account, kind="comp", reason="tenancy seed")


SEEDERS: dict[type, Callable[[Account, object], None]] = {
    Account: lambda account, owner: None,  # exists already
    Membership: lambda account, owner: MembershipFactory(account=account, user=UserFactory(), role=Role.VIEWER),
    Invitation: lambda account, owner: InvitationFactory(account=account),
    ApiKey: lambda account, owner: ApiKeyFactory(account=account, created_by=owner),
    billing.Wallet: _billing_rows,
    ChatSession: _chat_rows,
    Message: lambda account, owner: None,  # filled by _chat_rows
    # Account personas only: public platform personas (account NULL) are readable without a tenant on purpose.
    Persona: lambda account, owner: PersonaFactory(account=account, created_by=owner, name=f"Persona {account.name}"),
    ServiceResult: lambda account, owner: ServiceResultFactory(account=account, user=owner),
    knowledge.DecisionUnit: _knowledge_rows,
    channels_bot.ConnectedChannel: channel_bot_rows,
    canvas.Project: canvas_rows,
    canvas.Campaign: builder_rows,
    **{
        model: (lambda account, owner: None)  # filled by builder_rows
        for model in (
            canvas.CampaignComponent, canvas.CampaignPage, canvas.AIGeneration, canvas.CampaignEvent,
            canvas.Conversion, canvas.PlatformIntegration, canvas.CampaignPublication, canvas.PlatformAnalysis,
            canvas.BuilderJob,
        )
    },  # fmt: skip
    templates_models.LibraryComponent: library_rows,
    **{
        model: (lambda account, owner: None)  # filled by library_rows
        for model in (templates_models.LibraryLike, templates_models.LibraryDownload, templates_models.LibraryPurchase)
    },
    **{
        model: (lambda account, owner: None)  # filled by canvas_rows
        for model in (
            canvas.AccountFollowedCreator, canvas.ProjectCollaborator, canvas.CanvasFolder, canvas.CanvasFolderItem,
            canvas.ChatInterface, canvas.CanvasConnection, canvas.ContentPiece, canvas.ContentAnnotation,
            canvas.ContentAnalysis, canvas.GeneratedScript, canvas.VoiceModel, canvas.AvatarModel,
            canvas.GeneratedContent, canvas.ProcessingJob,
        )
    },  # fmt: skip
    **{
        model: (lambda account, owner: None)  # filled by channel_bot_rows
        for model in (
            channels_bot.Customer,
            channels_bot.Product,
            channels_bot.Conversation,
            channels_bot.ConversationMessage,
            channels_bot.Order,
            channels_bot.OrderItem,
            channels_bot.OrderStatusChange,
            channels_bot.WebhookDelivery,
        )
    },  # fmt: skip
    **{
        model: (lambda account, owner: None)  # filled by _knowledge_rows
        for model in (knowledge.Document, knowledge.Chunk, knowledge.StagedChunk, PersonaDecisionUnit)
    },
    **{
        model: (lambda account, owner: None)  # filled by _billing_rows
        for model in (
            billing.CreditTransaction,
            billing.Reservation,
            billing.IdempotencyRecord,
            billing.AuditLog,
            billing.Subscription,
            billing.Payment,
            billing.PaymentCustomer,
            billing.TopUpRule,
            billing.UsageRecord,
            billing.UserMonthlyUsage,
            billing.DailyProviderCost,
            billing.AccountDailyUsage,
            billing.ApiRequestLog,
            billing.CostControl,
            billing.PlanChange,
        )
    },  # fmt: skip
}


def seed_every_tenant_table(account: Account, owner) -> None:
    for seeder in SEEDERS.values():
        seeder(account, owner)
