"""`migrate`, run as the owner role, then granting the app role its data access.

Replaces Django's command (accounts is listed first in INSTALLED_APPS) so that
tables are always owned by the migration role and never by the role the app
connects as; otherwise row-level security would not bind the app.
"""

from contextlib import nullcontext

from django.conf import settings
from django.core.management.commands.migrate import Command as DjangoMigrate
from django.db import connections

from accounts.tenancy.roles import as_owner, grant_app_role


class Command(DjangoMigrate):
    def handle(self, *args, **options):
        connection = connections[options["database"]]
        # Already the owner while the test databases are being created.
        already_owner = connection.settings_dict["USER"] == settings.DATABASE_OWNER["USER"]
        with nullcontext() if already_owner else as_owner(connection):
            super().handle(*args, **options)
            grant_app_role(connection, settings.DATABASE_APP_USER)
