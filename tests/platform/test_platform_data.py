"""The platform data the data migrations seed comes back after a flush (aiplatform/platform_data.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.apps import apps

from aiplatform.platform_data import SEEDS, TRANSFORMS, platform_data_ensure, platform_data_load
from billing.models import Plan

pytestmark = [pytest.mark.django_db]


def _data_migrations() -> set[tuple[str, str]]:
    found = set()
    for config in apps.get_app_configs():
        folder = Path(config.path) / "migrations"
        if not folder.is_dir() or "site-packages" in folder.parts:
            continue  # third-party apps' migrations are theirs
        for path in folder.glob("0*.py"):
            if "RunPython(" in path.read_text():
                found.add((config.label, path.stem))
    return found


def test_every_data_migration_is_a_listed_seed_or_transform():
    listed = {(label, name) for label, name, _ in SEEDS} | set(TRANSFORMS)

    assert _data_migrations() == listed


def test_a_flushed_catalogue_comes_back_and_an_intact_one_is_left_alone():
    # given the plans are gone, as after a flush
    Plan.objects.all().delete()

    # when the platform data is ensured, then it runs and the catalogue is back
    assert platform_data_ensure() is True
    assert set(Plan.objects.values_list("code", flat=True)) == {"free", "creator", "business", "agency"}
    assert Plan.objects.get(code="business").monthly_campaigns == 100

    # and a second call finds nothing missing and changes no operator edit
    Plan.objects.filter(code="free").update(name="Starter")
    assert platform_data_ensure() is False
    assert Plan.objects.get(code="free").name == "Starter"


def test_loading_twice_creates_no_duplicates():
    platform_data_load()
    before = {
        label: apps.get_model(label, model).objects.count()
        for label, model in (("ai", "AiModel"), ("templates", "Service"))
    }
    platform_data_load()

    assert {
        label: apps.get_model(label, model).objects.count()
        for label, model in (("ai", "AiModel"), ("templates", "Service"))
    } == before
