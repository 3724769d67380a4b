"""The layering rules of the design, checked on the import graph."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from ankiconnect_live.actions import ACTIONS

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _modules(folder: str) -> list[Path]:
    return sorted((ROOT / folder).glob("*.py"))


@pytest.mark.parametrize("path", _modules("transport"), ids=lambda p: p.name)
def test_transport_never_imports_anki_or_aqt(path: Path) -> None:
    assert not {"anki", "aqt"} & _imports(path)


@pytest.mark.parametrize("path", _modules("actions") + _modules("events"), ids=lambda p: p.name)
def test_only_the_addon_package_imports_aqt(path: Path) -> None:
    assert "aqt" not in _imports(path)


def test_headless_import_does_not_load_qt() -> None:
    code = (
        "import sys, ankiconnect_live.app, ankiconnect_live.cli, ankiconnect_live.headless;"
        "print(sorted(m for m in sys.modules if m.startswith(('aqt', 'PyQt'))))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_modules_stay_small() -> None:
    sizes = {
        p.relative_to(ROOT): len(p.read_text().splitlines()) for p in ROOT.glob("*/*.py") if ".venv" not in p.parts
    }
    sizes |= {p.relative_to(ROOT): len(p.read_text().splitlines()) for p in ROOT.glob("*.py")}
    assert {str(p): n for p, n in sizes.items() if n > 450 and p.parts[0] not in ("tests", "bench")} == {}


def test_every_action_has_a_summary_and_a_wire_name() -> None:
    for name, action in ACTIONS.items():
        assert action.name == name and action.summary, name
