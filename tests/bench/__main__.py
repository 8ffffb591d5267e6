"""`python -m tests.bench <area> [options]`: run tests/bench/<area>.py's main()."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def _areas() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if not m.name.startswith("_"))


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help"} or argv[0] not in _areas():
        print(f"usage: python -m tests.bench <area> [options]; areas: {', '.join(_areas())}", file=sys.stderr)
        return 0 if argv and argv[0] in {"-h", "--help"} else 2
    module = importlib.import_module(f"tests.bench.{argv[0]}")
    return module.main(argv[1:]) or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
