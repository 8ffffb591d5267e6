from .controls import CostControl
from .ledger import AuditLog, CreditTransaction, IdempotencyRecord, Reservation, Wallet
from .payments import CreditPack, Payment, PaymentCustomer, TopUpRule, WebhookEvent
from .plans import Plan, PlanChange, Subscription
from .usage import AccountDailyUsage, ApiRequestLog, DailyProviderCost, UsageRecord, UserMonthlyUsage

__all__ = [
    "AccountDailyUsage",
    "ApiRequestLog",
    "AuditLog",
    "CostControl",
    "CreditPack",
    "CreditTransaction",
    "DailyProviderCost",
    "IdempotencyRecord",
    "Payment",
    "PaymentCustomer",
    "Plan",
    "PlanChange",
    "Reservation",
    "Subscription",
    "TopUpRule",
    "UsageRecord",
    "UserMonthlyUsage",
    "Wallet",
    "WebhookEvent",
]
