"""The layer contract of ARCHITECTURE.md holds, and breaking it fails the check
that `bin/test` runs before the suite."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).with_name("lint-imports")


def _packages() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return config["tool"]["importlinter"]["root_packages"]


def _copy_tree(target: Path) -> None:
    for package in _packages():
        skip = shutil.ignore_patterns("__pycache__", "static", "*.html")
        shutil.copytree(ROOT / package, target / package, ignore=skip)
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")


def _lint(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT), "--config", "pyproject.toml", "--no-cache"], cwd=cwd, capture_output=True, text=True,
        env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"}, timeout=120,
    )  # fmt: skip


def test_the_code_keeps_the_layer_contract():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout[-2000:]
    assert "1 kept, 0 broken" in result.stdout


def test_a_lower_layer_importing_a_product_breaks_the_contract(tmp_path):
    # given a copy of the code in which knowledge imports the chats product
    _copy_tree(tmp_path)
    (tmp_path / "knowledge" / "layer_probe.py").write_text("import chats.models  # noqa\n")

    # when the contract is checked
    result = _lint(tmp_path)

    # then it fails and names the import
    assert result.returncode == 1
    assert "knowledge is not allowed to import chats" in result.stdout
    assert "knowledge.layer_probe -> chats.models" in result.stdout


def test_one_product_importing_another_breaks_the_contract(tmp_path):
    _copy_tree(tmp_path)
    (tmp_path / "channels_bot" / "layer_probe.py").write_text("from chats.services import sessions  # noqa\n")

    result = _lint(tmp_path)

    assert result.returncode == 1
    assert "channels_bot is not allowed to import chats" in result.stdout
