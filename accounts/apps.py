from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and tenancy"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts.tenancy import schema  # noqa: F401  registers the OpenAPI auth scheme
