"""The layers stay apart: nothing in content/ imports a platform or an adapter, and
the adapters never reach into the composition root."""

from __future__ import annotations

import ast
from pathlib import Path

FORBIDDEN = ("telegram", "discord", "aiohttp", "adapters", "bot")
ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "content"
ADAPTERS = ROOT / "adapters"


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", "")) in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.add(node.args[0].value)
    return names


def offenders(folder: Path, forbidden: tuple[str, ...] = FORBIDDEN) -> list[str]:
    found = []
    for path in sorted(folder.rglob("*.py")):
        for name in imported_modules(path):
            if name.split(".")[0] in forbidden:
                found.append(f"{path.relative_to(folder.parent)} imports {name}")
    return found


def test_core_imports_no_platform_library_or_adapter() -> None:
    assert len(list(CORE.rglob("*.py"))) > 5
    assert offenders(CORE) == []


def test_the_check_catches_a_forbidden_import(tmp_path: Path) -> None:
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "leak.py").write_text(
        "from telegram import Bot\nimport adapters.console\nimport aiohttp.web\n"
    )
    assert len(offenders(tmp_path / "content")) == 3


def test_adapters_do_not_import_the_composition_root() -> None:
    assert len(list(ADAPTERS.rglob("*.py"))) > 5
    assert offenders(ADAPTERS, ("bot",)) == []


def test_the_adapter_check_catches_an_import_of_the_root(tmp_path: Path) -> None:
    (tmp_path / "adapters").mkdir()
    (tmp_path / "adapters" / "leak.py").write_text("from bot.settings import Settings\nimport bot.composition\n")
    assert len(offenders(tmp_path / "adapters", ("bot",))) == 2
