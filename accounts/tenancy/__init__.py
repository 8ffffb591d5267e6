"""The shared tenancy mechanism every app uses.

* `models.TenantModel`: base for every tenant-owned table (non-null `account`).
* `context`: the per-transaction PostgreSQL setting that row-level security reads.
* `rls`: migration operations that put a table under row-level security.
* `middleware.TenantMiddleware`: resolves the active account per request.
* `drf` / `views`: base classes that scope every queryset to that account.
"""
