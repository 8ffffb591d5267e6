from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkspaceConfig(AppConfig):
    """The app shell around the products: navigation, icons, global search and the
    demo orchestration. It sits above every product (it reads them all, none reads it)."""

    name = "workspace"
    verbose_name = _("Workspace shell")
    default_auto_field = "django.db.models.BigAutoField"
