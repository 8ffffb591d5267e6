"""The credits badge in the top bar: the active account's balance."""

from __future__ import annotations

from functools import cached_property

from aiplatform.charts import display_number
from billing.models import Wallet

# A billing page that has read the wallet leaves it here, so the badge costs no second query.
WALLET_ATTRIBUTE = "billing_wallet"


class CreditsBadge:
    """Read lazily: a page that does not show the badge makes no query."""

    def __init__(self, request):
        self._request = request

    @cached_property
    def balance(self):
        wallet = getattr(self._request, WALLET_ATTRIBUTE, None)
        if wallet is not None:
            return wallet.balance
        account = self._request.account
        return Wallet.objects.for_account(account).values_list("balance", flat=True).first()

    @property
    def text(self) -> str:
        return display_number(self.balance) if self.balance is not None else "0"


def credits(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or getattr(request, "account", None) is None:
        return {}
    return {"credits_badge": CreditsBadge(request)}
