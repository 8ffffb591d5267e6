"""mypy with django-stubs over the apps, against a baseline (bin/typecheck).

Modules with `disallow_untyped_defs = true` in pyproject.toml's [[tool.mypy.overrides]]
are new code: every error there fails. Elsewhere the errors recorded in
mypy-baseline.txt are tolerated (keyed by file, error code and message with its quoted
names and types left out, not by line, so edits above an old error or a renamed type do
not move it); one more than recorded fails, and a fixed one
is reported so the baseline can shrink (`bin/typecheck --write-baseline`)."""

from __future__ import annotations

import re
import sys
import tomllib
from collections import Counter
from pathlib import Path

from mypy import api

REPO = Path(__file__).resolve().parent.parent
BASELINE = REPO / "mypy-baseline.txt"
APPS = ["accounts", "aiplatform", "billing", "canvas", "channels_bot", "chats", "knowledge", "personas", "templates",
        "workspace"]  # fmt: skip
QUOTED = re.compile(r'"[^"]*"')
ERROR = re.compile(r"^(?P<path>[^:]+\.py):\d+(?::\d+)?: error: (?P<message>.*?)(?:  \[(?P<code>[a-z-]+)\])?$")


def strict_modules() -> list[str]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    overrides = config.get("tool", {}).get("mypy", {}).get("overrides", [])
    modules: list[str] = []
    for override in overrides:
        if override.get("disallow_untyped_defs"):
            names = override["module"]
            modules += [names] if isinstance(names, str) else names
    return modules


def _module(path: str) -> str:
    return path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")


def _is_strict(path: str, strict: list[str]) -> bool:
    module = _module(path)
    return any(module == s or (s.endswith(".*") and module.startswith(s[:-1])) for s in strict)


def errors(output: str) -> list[tuple[str, str]]:
    found = []
    for line in output.splitlines():
        if match := ERROR.match(line):
            # quoted names and types left out: a renamed type elsewhere does not move an old error
            message = QUOTED.sub('"…"', match["message"])
            found.append((match["path"], f"[{match['code'] or 'misc'}] {message}"))
    return found


def read_baseline() -> Counter[str]:
    if not BASELINE.exists():
        return Counter()
    return Counter(line for line in BASELINE.read_text().splitlines() if line and not line.startswith("#"))


def main(argv: list[str]) -> int:
    stdout, stderr, status = api.run(APPS)
    if status == 2:  # mypy itself failed (bad config, crash)
        sys.stderr.write(stdout + stderr)
        return 2
    strict = strict_modules()
    found = errors(stdout)
    new_code = [f"{path}: {error}" for path, error in found if _is_strict(path, strict)]
    rest = Counter(f"{path}: {error}" for path, error in found if not _is_strict(path, strict))
    if "--write-baseline" in argv:
        header = "# mypy errors tolerated in old code (bin/typecheck); fix them and shrink this file.\n"
        BASELINE.write_text(header + "".join(f"{line}\n" for line in sorted(rest.elements())))
        print(f"mypy baseline: {sum(rest.values())} errors written to {BASELINE.name}")
    baseline = read_baseline()
    added = rest - baseline
    fixed = baseline - rest
    for line in new_code:
        print(f"strict (new code): {line}")
    for line in sorted(added.elements()):
        print(f"new: {line}")
    if fixed:
        print(f"mypy: {sum(fixed.values())} baselined errors are gone; run bin/typecheck --write-baseline")
    if new_code or added:
        print(f"mypy: {len(new_code) + sum(added.values())} errors beyond the baseline (see above)")
        return 1
    print(f"mypy: no new errors ({sum(rest.values())} baselined, {len(strict)} strict modules clean)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
