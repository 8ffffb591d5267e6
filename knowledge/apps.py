from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class KnowledgeConfig(AppConfig):
    name = "knowledge"
    verbose_name = "Knowledge (decision units)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # A bad chunking setting would fail every document; fail at boot instead.
        size, overlap = settings.KNOWLEDGE_CHUNK_TOKENS, settings.KNOWLEDGE_CHUNK_OVERLAP
        if size < 8 or not 0 <= overlap < size:
            raise ImproperlyConfigured(
                f"KNOWLEDGE_CHUNK_TOKENS must be at least 8 and KNOWLEDGE_CHUNK_OVERLAP from 0 to below it "
                f"(got {size} and {overlap})."
            )
        if settings.KNOWLEDGE_EMBED_BATCH < 1 or settings.KNOWLEDGE_MAX_UPLOAD_MB < 1:
            raise ImproperlyConfigured("KNOWLEDGE_EMBED_BATCH and KNOWLEDGE_MAX_UPLOAD_MB must be at least 1.")
