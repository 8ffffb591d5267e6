from django.apps import AppConfig


class PersonasConfig(AppConfig):
    name = "personas"
    verbose_name = "AI personas"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from .crypto import check_keys

        # A missing or malformed encryption key stops the app here, at boot,
        # rather than on the first persona read or written.
        check_keys()
