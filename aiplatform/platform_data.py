"""The platform data that data migrations seed: the model registry, the plan and credit-pack
catalogue, the paid services with their first templates, the creator categories.

A flushed database (`manage.py flush`, the end of every transactional test) keeps the schema
but loses these rows; anything that subscribes an account, validates a model or runs a
service needs them back. Every seed below is idempotent (get_or_create / update_or_create),
so running them again over existing rows changes nothing an operator edited.
"""

from importlib import import_module

from django.apps import apps

# (app label, migration, function), in migration order.
SEEDS = (
    ("ai", "0002_seed_registry", "seed"),
    ("ai", "0003_local_embedding_model", "seed"),
    ("ai", "0004_accepts_images", "mark"),
    ("billing", "0003_plans_and_packs", "load"),
    ("billing", "0015_plan_monthly_campaigns", "load"),
    ("templates", "0002_seed_services", "seed"),
    ("templates", "0005_face_reading_photo", "add_v2"),
    ("canvas", "0002_seed_creator_categories", "seed"),
)
# Data migrations that transform existing rows rather than seed new ones.
TRANSFORMS = (("templates", "0004_service_inputs_encrypted"),)
# One table per seed whose emptiness says the seeds are gone.
SENTINELS = (("ai", "AiModel"), ("billing", "Plan"), ("templates", "Service"), ("canvas", "CreatorCategory"))


def platform_data_missing() -> bool:
    return any(not apps.get_model(label, model).objects.exists() for label, model in SENTINELS)


def platform_data_load() -> None:
    """Run every seed (idempotent; the plan seed resets the catalogue's figures)."""
    for label, migration, function in SEEDS:
        module = import_module(f"{apps.get_app_config(label).name}.migrations.{migration}")
        getattr(module, function)(apps, None)


def platform_data_ensure() -> bool:
    """Run the seeds again when a table of theirs is empty (a flushed database), and only
    then, so an operator's edits of the catalogue survive. True when they ran."""
    if not platform_data_missing():
        return False
    platform_data_load()
    return True
