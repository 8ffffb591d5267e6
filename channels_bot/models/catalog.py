from decimal import Decimal

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from pgvector.django import VectorField

from accounts.tenancy.models import TenantModel

TEXT_SEARCH_CONFIG = "simple"  # product names are brand words in any language: no stemming
# The size of the default embedding model's vectors (all-MiniLM-L6-v2, as knowledge's chunks).
# Another default of another size leaves meaning search off (services/products.py says so in the log).
EMBEDDING_DIMENSIONS = 384
currency_validator = RegexValidator(r"^[A-Z]{3}$", "Use a three-letter ISO 4217 code such as USD or KRW.")


class Product(TenantModel):
    """Seed 004 `Products`: what the account sells through its channels."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    price = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))])
    currency = models.CharField(max_length=3, validators=[currency_validator])
    sku = models.CharField(max_length=64, blank=True)
    image_url = models.URLField(max_length=1000, blank=True)
    is_available = models.BooleanField(default=True)
    search_vector = models.GeneratedField(
        expression=SearchVector("name", "sku", "description", config=TEXT_SEARCH_CONFIG),
        output_field=SearchVectorField(),
        db_persist=True,
    )
    # Meaning search: the vector of "name\ndescription" from the default embedding model,
    # filled after commit by the `products_embed` task; the digest (sha256 of model, name
    # and description) says which text it is of, so a stale or missing one is found in SQL.
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS, null=True, blank=True, editable=False)
    embedding_model = models.CharField(max_length=100, blank=True, editable=False)
    embedding_digest = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "sku"], condition=~models.Q(sku=""), name="channels_bot_product_sku"
            ),
            models.CheckConstraint(condition=models.Q(price__gte=0), name="channels_bot_product_price"),
        ]
        indexes = [
            GinIndex(fields=["search_vector"], name="channels_bot_product_text"),
            models.Index(fields=["account", "is_available", "name"], name="channels_bot_product_list"),
        ]

    def __str__(self) -> str:
        return self.name
