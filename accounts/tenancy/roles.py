"""Switching a connection between the app role and the owner (migration) role.

The app role is bound by row-level security; the owner role owns the tables and
runs migrations. See `aiplatform/embedded.py` and the README.
"""

from __future__ import annotations

from contextlib import contextmanager

from django.conf import settings


def _disconnect(connection) -> None:
    """Close the connection and, with psycopg's pool, the alias's pool too.

    The pool is made once per alias from `settings_dict` when it is first used,
    so a pool left open would keep handing out connections of the role it was
    made with. Closing it drops its idle connections; a connection another
    thread still holds is closed when it is returned."""
    connection.close()
    if connection.settings_dict.get("OPTIONS", {}).get("pool"):
        connection.close_pool()


@contextmanager
def as_owner(connection):
    """Reconnect `connection` as the owner role for the block, then back."""
    saved = {k: connection.settings_dict.get(k) for k in ("USER", "PASSWORD")}
    _disconnect(connection)
    connection.settings_dict.update(settings.DATABASE_OWNER)
    try:
        yield
    finally:
        _disconnect(connection)
        connection.settings_dict.update(saved)


def grant_app_role(connection, app_user: str) -> None:
    """Give the app role data access (never ownership) to every table."""
    if not app_user or app_user == settings.DATABASE_OWNER["USER"]:
        return
    role = connection.ops.quote_name(app_user)
    with connection.cursor() as cur:
        cur.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
        cur.execute(f"GRANT {settings.DATABASE_APP_GRANTS} ON ALL TABLES IN SCHEMA public TO {role}")
        cur.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")
