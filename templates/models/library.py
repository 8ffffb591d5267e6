"""Seed 002 `component_library`: components an account saved, shared publicly
or sold on the marketplace for credits; plus the rows that make likes,
downloads and purchases count once per account.

Visibility: a library row is its account's (row-level security), and public or
marketplace rows that are listed are readable by every account (a SELECT-only
policy). Counters (`likes`, `downloads`) are kept by database triggers on the
like/download rows (migration templates 0003), since the liking account may not
write the owner's row."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.tenancy.models import TenantModel
from billing.models.fields import credit_field

SEARCH_CONFIG = "english"


class LibraryComponent(TenantModel):
    """`price` is in credits (0 = free). `is_listed` is the operators' switch
    (moderation: an unlisted item is hidden from other accounts). A component
    saved from a campaign keeps `source_component_id` (canvas
    `CampaignComponent`; an id, not a key: the apps do not share tables).
    `search_vector` is kept by a trigger: name (A), tags and category (B),
    description (C)."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    category = models.CharField(max_length=100, blank=True)
    tags = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    component_type = models.CharField(max_length=50, default="custom")
    code = models.TextField(blank=True, help_text=_("Sanitised HTML."))
    css_styles = models.TextField(blank=True)
    props_schema = models.JSONField(default=dict, blank=True)
    preview_image_url = models.TextField(blank=True)
    is_public = models.BooleanField(default=False)
    is_marketplace_item = models.BooleanField(default=False)
    is_listed = models.BooleanField(default=True)
    price = credit_field()
    downloads = models.PositiveIntegerField(default=0)
    likes = models.PositiveIntegerField(default=0)
    source_component_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    search_vector = SearchVectorField(null=True, blank=True, editable=False)

    class Meta:
        db_table = "templates_component_library"
        ordering = ["-created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="templates_library_name"),
            models.CheckConstraint(condition=Q(price__gte=0), name="templates_library_price"),
            models.CheckConstraint(
                condition=Q(is_marketplace_item=False) | Q(is_public=True), name="templates_library_market_public"
            ),
        ]
        indexes = [
            models.Index(fields=["account", "-created_at"], name="templates_library_account"),
            models.Index(fields=["-created_at"], condition=Q(is_public=True, is_listed=True),
                         name="templates_library_public"),
            models.Index(fields=["-likes"], condition=Q(is_marketplace_item=True, is_listed=True),
                         name="templates_library_market"),
            GinIndex(fields=["search_vector"], name="templates_library_search"),
            GinIndex(fields=["tags"], name="templates_library_tags"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return self.name


class LibraryLike(TenantModel):
    """A like by `account` (the liker), once per account."""

    component = models.ForeignKey(LibraryComponent, on_delete=models.CASCADE, related_name="like_rows")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "templates_library_likes"
        constraints = [models.UniqueConstraint(fields=["account", "component"], name="templates_like_once")]


class LibraryDownload(TenantModel):
    """`account` used (downloaded) the component, counted once per account."""

    component = models.ForeignKey(LibraryComponent, on_delete=models.CASCADE, related_name="download_rows")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "templates_library_downloads"
        constraints = [models.UniqueConstraint(fields=["account", "component"], name="templates_download_once")]


class PurchaseStatus(models.TextChoices):
    COMPLETED = "completed", _("Completed")
    REFUNDED = "refunded", _("Refunded")


class LibraryPurchase(TenantModel):
    """`account` (the buyer) bought the component from `seller_account_id`:
    `price` credits left the buyer, `price - platform_fee` reached the seller,
    in one ledger transaction. Once per buyer while completed; the seller reads
    their sales through a SELECT policy on `seller_account_id`."""

    component = models.ForeignKey(LibraryComponent, on_delete=models.PROTECT, related_name="purchases")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    seller_account_id = models.UUIDField()
    price = credit_field()
    platform_fee = credit_field()
    status = models.CharField(max_length=20, choices=PurchaseStatus.choices, default=PurchaseStatus.COMPLETED)
    idempotency_key = models.CharField(max_length=255, blank=True)
    buyer_transaction_id = models.UUIDField(null=True, blank=True)
    seller_transaction_id = models.UUIDField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "templates_library_purchases"
        ordering = ["-created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "component"], condition=Q(status="completed"), name="templates_purchase_once"
            ),
            models.CheckConstraint(condition=Q(price__gte=0, platform_fee__gte=0), name="templates_purchase_amounts"),
            models.CheckConstraint(condition=Q(platform_fee__lte=models.F("price")), name="templates_purchase_fee"),
            models.CheckConstraint(condition=Q(status__in=PurchaseStatus.values), name="templates_purchase_status"),
        ]
        indexes = [models.Index(fields=["seller_account_id", "-created_at"], name="templates_purchase_seller")]
