"""Demo data for the embedded default: an operator, two accounts and their people.

Idempotent: a second run leaves existing users and accounts as they are.
"""

from allauth.account.models import EmailAddress
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Account, Membership, Role, User
from accounts.services.accounts import account_create, user_onboard
from accounts.tenancy.context import account_context, rls_bypass

DEMO_PASSWORD = "demo-pass-1234"
DEMO_USERS = {
    "operator": ("operator@demo.aiplatform.local", "Olivia Operator"),
    "owner": ("owner@demo.aiplatform.local", "Owen Owner"),
    "member": ("member@demo.aiplatform.local", "Mina Member"),
    "other": ("other@demo.aiplatform.local", "Oscar Other"),
}


def _user(email: str, name: str, **extra) -> tuple[User, bool]:
    user = User.objects.filter(email=email).first()
    if user:
        return user, False
    user = User.objects.create_user(email=email, password=DEMO_PASSWORD, full_name=name, **extra)
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
    return user, True


class Command(BaseCommand):
    help = "Create the demo operator, accounts and users (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        operator, _ = _user(*DEMO_USERS["operator"], role=User.PlatformRole.SUPER_ADMIN, is_superuser=True)
        owner, new_owner = _user(*DEMO_USERS["owner"])
        member, _ = _user(*DEMO_USERS["member"])
        other, new_other = _user(*DEMO_USERS["other"])
        for user in (owner, member, other):
            with rls_bypass("demo data: does the user have a personal account yet"):
                has_account = Membership.objects.filter(user=user).exists()
            if not has_account:
                user_onboard(user=user)
        with rls_bypass("demo data: find the demo team account"):
            team = Account.objects.filter(name="Acme Logistics").first()
        if team is None:
            team = account_create(name="Acme Logistics", owner=owner, plan_type=Account.PlanType.TEAM)
            with account_context(team.id):
                Membership.objects.create(account=team, user=member, role=Role.MEMBER)
        with rls_bypass("demo data: second tenant"):
            second = Account.objects.filter(name="Globex Media").first()
        if second is None:
            account_create(name="Globex Media", owner=other, plan_type=Account.PlanType.TEAM)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
