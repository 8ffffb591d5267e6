"""Compile every gettext catalogue of the project (`<app>/locale/*/LC_MESSAGES/*.po`
and `aiplatform/locale`) to `.mo` with polib, in pure Python.

Django's `compilemessages` needs GNU gettext's `msgfmt`, which a fresh machine may lack;
bin/setup runs `python -m aiplatform.i18n` instead. Fuzzy entries are left out (as msgfmt
does without --use-fuzzy), so a guessed translation never reaches a page.

Usage: python -m aiplatform.i18n [--check]   (--check: exit 1 if a .mo is stale)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
SKIP = {".venv", ".data", "node_modules", "staticfiles", ".git"}


def catalogues(root: Path = ROOT) -> list[Path]:
    found = []
    for po in sorted(root.glob("*/locale/*/LC_MESSAGES/*.po")) + sorted(root.glob("*/*/locale/*/LC_MESSAGES/*.po")):
        if not SKIP.intersection(po.relative_to(root).parts):
            found.append(po)
    return found


def compiled_bytes(po_path: Path) -> bytes:
    catalogue = polib.pofile(str(po_path))
    for entry in list(catalogue):
        if entry.fuzzy or entry.obsolete:
            catalogue.remove(entry)
    with tempfile.NamedTemporaryFile(suffix=".mo") as tmp:
        catalogue.save_as_mofile(tmp.name)
        return Path(tmp.name).read_bytes()


def compile_all(root: Path = ROOT, *, check: bool = False) -> list[Path]:
    """Write each catalogue's .mo (unchanged files untouched); return the stale ones."""
    stale = []
    for po in catalogues(root):
        mo = po.with_suffix(".mo")
        data = compiled_bytes(po)
        if not mo.exists() or mo.read_bytes() != data:
            stale.append(mo)
            if not check:
                mo.write_bytes(data)
    return stale


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = compile_all(check=check)
    for mo in stale:
        print(f"{'stale' if check else 'compiled'}: {mo.relative_to(ROOT)}")
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
