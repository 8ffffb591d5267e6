"""Admin labels through Django's translation machinery, without migrations (issue 16).

Most model fields and many models give no `verbose_name`, so Django derives an English
label from the name ("created at", "credit transaction") and the admin, model forms and
filters show it as is to a Korean operator. Giving every field a `verbose_name=_(...)`
would add an AlterField operation per field (about 1,100) to the migrations.

Instead `AdminConfig.ready()` (aiplatform/admin.py) calls `translate_labels()`, which, at
runtime, wraps every *derived* label of the project's own apps in `gettext_lazy`:

- a concrete field or forward relation whose constructor got no `verbose_name`
  (`field._verbose_name is None`) gets `field.verbose_name = gettext_lazy(<derived>)`;
  `Field.deconstruct()` reads `_verbose_name`, not `verbose_name`, so the migration
  autodetector sees no change;
- a model whose Meta gave no `verbose_name` / `verbose_name_plural`
  (`_meta.original_attrs`) gets them the same way; migrations read `original_attrs` too.

Explicit labels are left alone, and the derived ones stay derived from the names (renaming
a field renames its label). `makemessages` cannot see runtime strings, so
`aiplatform/admin_labels.py` lists every derived label once as a literal `gettext_lazy`
call (written by `python -m aiplatform.labels`; tests/platform/test_admin_labels.py fails
when it is stale) and the project catalogue (aiplatform/locale) translates them: one
entry for "created at", however many apps have one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from django.apps import AppConfig, apps
from django.db import models
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

ROOT = Path(__file__).resolve().parent.parent
MODULE = Path(__file__).resolve().parent / "admin_labels.py"


def project_apps() -> list[AppConfig]:
    """The apps of this repository (not Django's, allauth's or any other installed package's)."""
    return [
        config
        for config in apps.get_app_configs()
        if Path(config.path).is_relative_to(ROOT) and ".venv" not in Path(config.path).parts
    ]


def _labelled_fields(model: type[models.Model]) -> Iterator[models.Field]:
    """The model's own concrete fields and forward relations that got no verbose_name
    (inherited parents' fields are the parent's; reverse relations are not listed)."""
    for field in [*model._meta.local_fields, *model._meta.local_many_to_many]:
        if field._verbose_name is None and not field.auto_created:  # type: ignore[attr-defined]
            yield field


def _english(label: str | Promise | None) -> str:
    """The English text of a label (derived labels are never None; the type allows it)."""
    with translation.override(None):
        return str(label)


def derived_labels() -> list[str]:
    """Every label of the project's models that Django derives from a name (sorted, unique):
    what `translate_labels` translates and aiplatform/admin_labels.py must list."""
    found: set[str] = set()
    for config in project_apps():
        for model in config.get_models():
            found.update(_english(field.verbose_name) for field in _labelled_fields(model))
            given = model._meta.original_attrs
            if "verbose_name" not in given:
                found.add(_english(model._meta.verbose_name))
            if "verbose_name_plural" not in given:
                found.add(_english(model._meta.verbose_name_plural))
    return sorted(found)


def translate_labels() -> None:
    """Wrap the project's derived field and model labels in gettext_lazy (see the module)."""
    for config in project_apps():
        for model in config.get_models():
            for field in _labelled_fields(model):
                field.verbose_name = gettext_lazy(_english(field.verbose_name))
            opts, given = model._meta, model._meta.original_attrs
            if "verbose_name_plural" not in given:
                opts.verbose_name_plural = gettext_lazy(_english(opts.verbose_name_plural))
            if "verbose_name" not in given:
                opts.verbose_name = gettext_lazy(_english(opts.verbose_name))


def labels_module() -> str:
    """The source of aiplatform/admin_labels.py: the derived labels as literal calls."""
    lines = [
        '"""The derived admin labels of the project\'s models, for makemessages to extract (issue 16).',
        "",
        'Written by `python -m aiplatform.labels`: see aiplatform/labels.py."""',
        "",
        "from django.utils.translation import gettext_lazy",
        "",
        "LABELS = [",
        *(f"    gettext_lazy({json.dumps(label, ensure_ascii=False)})," for label in derived_labels()),
        "]",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":  # python -m aiplatform.labels: (re)write aiplatform/admin_labels.py
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aiplatform.settings.test")
    os.environ.setdefault("AIPLATFORM_TEST_NO_SERVERS", "1")
    django.setup()
    MODULE.write_text(labels_module())
    print(f"{MODULE.relative_to(ROOT)}: {len(derived_labels())} labels")
