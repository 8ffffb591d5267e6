"""Migration operations that put a tenant table under row-level security.

Usage in an app's migration, after the CreateModel:

    from accounts.tenancy.rls import EnableTenantRLS
    operations = [..., EnableTenantRLS("Persona")]

The policy fails closed: with no `app.account_id` set, NULLIF turns the empty
setting into NULL and `account_id = NULL` matches nothing; WITH CHECK applies
the same test to written rows, so an insert or update into another account is
rejected. FORCE makes the policy bind the table owner too.
"""

from __future__ import annotations

from django.db import migrations

ACCOUNT_EXPR = "NULLIF(current_setting('app.account_id', true), '')::uuid"
USER_EXPR = "NULLIF(current_setting('app.user_id', true), '')::uuid"
BYPASS_EXPR = "coalesce(current_setting('app.rls_bypass', true), '') = 'on'"
POLICY_NAME = "tenant_isolation"


def tenant_predicate(column: str = "account_id") -> str:
    return f"({column} = {ACCOUNT_EXPR} OR {BYPASS_EXPR})"


class EnableTenantRLS(migrations.operations.base.Operation):
    """Enable + force RLS on `model_name`'s table with the tenant policy.

    `column` names the tenant key (the Account table itself uses `id`).
    `read_policies` maps extra policy names to SELECT-only predicates, ORed with
    the tenant policy (e.g. a user reading their own memberships everywhere).
    """

    reversible = True
    reduces_to_sql = True

    def __init__(self, model_name: str, column: str = "account_id", read_policies: dict[str, str] | None = None):
        self.model_name = model_name
        self.column = column
        self.read_policies = read_policies or {}

    def deconstruct(self):
        kwargs = {"model_name": self.model_name}
        if self.column != "account_id":
            kwargs["column"] = self.column
        if self.read_policies:
            kwargs["read_policies"] = self.read_policies
        return (self.__class__.__qualname__, [], kwargs)

    def state_forwards(self, app_label, state):
        pass

    def _table(self, app_label, state) -> str:
        return state.apps.get_model(app_label, self.model_name)._meta.db_table

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        table = schema_editor.quote_name(self._table(app_label, to_state))
        pred = tenant_predicate(self.column)
        schema_editor.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        schema_editor.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        schema_editor.execute(f"CREATE POLICY {POLICY_NAME} ON {table} USING {pred} WITH CHECK {pred}")
        for name, predicate in self.read_policies.items():
            schema_editor.execute(f"CREATE POLICY {name} ON {table} FOR SELECT USING ({predicate})")

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        table = schema_editor.quote_name(self._table(app_label, from_state))
        for name in self.read_policies:
            schema_editor.execute(f"DROP POLICY IF EXISTS {name} ON {table}")
        schema_editor.execute(f"DROP POLICY IF EXISTS {POLICY_NAME} ON {table}")
        schema_editor.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        schema_editor.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")

    def describe(self):
        return f"Enable row-level security on {self.model_name}"

    @property
    def migration_name_fragment(self):
        return f"rls_{self.model_name.lower()}"
