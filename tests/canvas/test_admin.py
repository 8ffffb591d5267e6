"""Operators manage the creator directory and its categories in the admin, and
inspect every canvas table."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import User
from canvas.models import Creator, CreatorCategory
from tests.accounts.factories import UserFactory
from tests.canvas.factories import canvas_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client):
    user = UserFactory(email="ops@example.com", role=User.PlatformRole.ADMIN, is_superuser=True)
    client.force_login(user)
    return client


def test_an_operator_adds_a_creator_typed_with_its_at_sign(operator):
    category = CreatorCategory.objects.get(name="Food & Cooking")
    response = operator.post(
        reverse("admin:canvas_creator_add"),
        {
            "platform": "tiktok", "username": "  @ChefMina ", "profile_url": "https://www.tiktok.com/@chefmina",
            "display_name": "Chef Mina", "follower_count": "80000", "category": str(category.pk),
            "is_verified": "on", "is_active": "on", "scrape_frequency_hours": "6", "metadata": "{}",
        },
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    creator = Creator.objects.get()
    saved = (creator.username, creator.platform, creator.category, creator.is_verified, creator.scrape_frequency_hours)
    assert saved == ("ChefMina", "tiktok", category, True, 6)


def test_an_operator_adds_a_category(operator):
    response = operator.post(
        reverse("admin:canvas_creatorcategory_add"),
        {"name": "Sports", "description": "Teams, training", "sort_order": "11", "is_active": "on"},
    )
    assert response.status_code == 302
    assert CreatorCategory.objects.filter(name="Sports", sort_order=11).exists()


def test_every_canvas_changelist_opens_for_an_operator(operator, tenants):
    canvas_rows(tenants.a, tenants.alice)
    for model in ("creator", "creatorcategory", "accountfollowedcreator", "project", "canvasfolder", "chatinterface",
                  "canvasconnection", "contentpiece", "contentanalysis", "generatedscript", "voicemodel",
                  "avatarmodel", "generatedcontent", "processingjob"):  # fmt: skip
        response = operator.get(reverse(f"admin:canvas_{model}_changelist"))
        assert response.status_code == 200, model
