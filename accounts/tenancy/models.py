import uuid

from django.db import models


class TenantQuerySet(models.QuerySet):
    def for_account(self, account) -> "TenantQuerySet":
        return self.filter(account=account)


class TenantModel(models.Model):
    """Base of every table owned by an account.

    Its migration must also call `accounts.tenancy.rls.EnableTenantRLS`; the
    catalog test fails for any subclass whose table lacks row-level security.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True
