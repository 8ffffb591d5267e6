from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class AiConfig(AppConfig):
    name = "aiplatform.ai"
    label = "ai"
    verbose_name = "AI gateway"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from billing.models import CostControl

        from .guard import on_cost_control_saved
        from .models import AiModel
        from .registry import cache_clear

        # Only cache invalidation: an edited model or a shut-off takes effect at once in this process.
        post_save.connect(cache_clear, sender=AiModel, dispatch_uid="ai-registry-cache-save")
        post_delete.connect(cache_clear, sender=AiModel, dispatch_uid="ai-registry-cache-delete")
        post_save.connect(on_cost_control_saved, sender=CostControl, dispatch_uid="ai-guard-cache")
