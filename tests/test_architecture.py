"""The arrows of ../shared/ARCHITECTURE.md, checked on the imports of every module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "restbeat"

#: package -> restbeat packages it must not import
FORBIDDEN = {
    "signal": {"devices", "store", "app", "ui", "cli", "recovery"},
    "recovery": {"devices", "store", "app", "ui", "cli"},
    "devices": {"signal", "recovery", "store", "app", "ui", "cli"},
    "store": {"devices", "signal", "recovery", "app", "ui", "cli"},
    "app": {"ui", "cli"},
}
#: the pure core does no I/O and reads no clock
IMPURE = {"time", "os", "sqlite3", "pathlib", "socket", "asyncio", "datetime.datetime.now"}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_point_one_way(package: str) -> None:
    for path in sorted((PACKAGE / package).rglob("*.py")):
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] == "restbeat" and len(parts) > 1:
                assert parts[1] not in FORBIDDEN[package], f"{path.relative_to(PACKAGE)} imports {name}"


@pytest.mark.parametrize("package", ["signal", "recovery"])
def test_the_core_does_no_io_and_reads_no_clock(package: str) -> None:
    for path in sorted((PACKAGE / package).rglob("*.py")):
        for name in _imports(path):
            assert name.split(".")[0] not in IMPURE, f"{path.relative_to(PACKAGE)} imports {name}"
