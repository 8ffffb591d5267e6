"""bin/typecheck (bin/mypy_baseline.py): an error in a strict module always fails, an
old module may keep its baselined errors and no more, and a line move or a renamed
type does not count as a new error."""

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "bin" / "mypy_baseline.py"


@pytest.fixture
def checker(monkeypatch, tmp_path):
    spec = importlib.util.spec_from_file_location("mypy_baseline", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "BASELINE", tmp_path / "mypy-baseline.txt")
    monkeypatch.setattr(module, "strict_modules", lambda: ["accounts.actors", "billing.sql.*"])

    def run(output: str, *argv: str) -> int:
        monkeypatch.setattr(module.api, "run", lambda paths: (output, "", 1 if "error:" in output else 0))
        return module.main(list(argv))

    return run


OLD = 'billing/views.py:10: error: Item "None" of "Foo | None" has no attribute "bar"  [union-attr]\n'


def test_an_error_in_new_code_fails_even_when_baselined(checker, capsys):
    new = "accounts/actors.py:58: error: Function is missing a return type annotation  [no-untyped-def]\n"
    assert checker(new, "--write-baseline") == 1
    assert "strict (new code): accounts/actors.py" in capsys.readouterr().out


def test_old_code_keeps_its_baselined_errors_and_no_more(checker):
    assert checker(OLD, "--write-baseline") == 0
    # the same error moved down and naming a renamed type is still the old one
    assert checker(OLD.replace(":10:", ":42:").replace("Foo", "Renamed")) == 0
    # one more of its kind, or a new kind, fails
    assert checker(OLD + OLD.replace(":10:", ":11:")) == 1
    assert checker(OLD + 'billing/views.py:12: error: Name "x" is not defined  [name-defined]\n') == 1
    # a fixed one passes and says the baseline can shrink
    assert checker("Success: no issues found\n") == 0


def test_a_package_pattern_marks_its_submodules_strict(checker):
    assert checker("billing/sql/load.py:3: error: Missing type  [no-untyped-def]\n", "--write-baseline") == 1
