"""Rebuild aiplatform/static/icons/sprite.svg from a lucide-static `icons/` folder."""

from __future__ import annotations

import re
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from workspace.templatetags.shell import SPRITE, icon_names

ATTRS = (
    'viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" '
    'stroke-linecap="round" stroke-linejoin="round"'
)


class Command(BaseCommand):
    help = "Rebuild the icon sprite: the icons in it now plus the names given, from lucide-static's icons/ folder."

    def add_arguments(self, parser):
        parser.add_argument("source", help="lucide-static's icons/ folder")
        parser.add_argument("names", nargs="*", help="icons to add")
        parser.add_argument("--lucide-version", default="1.62.0")

    def handle(self, source, names, lucide_version, **options):
        folder = Path(source)
        wanted = sorted(set(icon_names()) | set(names))
        note = f"<!-- Lucide icons (lucide-static {lucide_version}), ISC licence: see LICENSE in this folder. -->"
        parts = ['<svg xmlns="http://www.w3.org/2000/svg">', note]
        for name in wanted:
            path = folder / f"{name}.svg"
            if not path.exists():
                raise CommandError(f"No icon '{name}' in {folder}.")
            found = re.search(r"<svg[^>]*>(.*)</svg>", path.read_text(), re.S)
            body = " ".join(line.strip() for line in found.group(1).strip().splitlines())
            parts.append(f'<symbol id="{name}" {ATTRS}>{body}</symbol>')
        parts.append("</svg>")
        SPRITE.write_text("\n".join(parts) + "\n")
        icon_names.cache_clear()
        self.stdout.write(self.style.SUCCESS(f"{len(wanted)} icons in {SPRITE}"))
