"""The architecture, checked from the source with ``ast``: rooms, import directions, sizes.

autograd_lite: engine <- ops <- numpy_routing, functional, gradcheck <- teaching <- cli.
A module imports only from its own room or rooms before it; nothing in autograd_lite
imports nn; no module reaches for another module's private (underscored) names; no
function in autograd_lite/ or nn/ is longer than one screen.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "autograd_lite"
SOURCES = sorted([*PACKAGE.rglob("*.py"), *(ROOT / "nn").rglob("*.py")])
MAX_FUNCTION_LINES = 60

#: The rooms of autograd_lite in dependency order.
ROOMS = {
    "autograd_lite.engine": 0,
    "autograd_lite.display": 0,
    "autograd_lite.ops": 1,
    "autograd_lite.numpy_routing": 2,
    "autograd_lite.functional": 2,
    "autograd_lite.gradcheck": 2,
    "autograd_lite.creation": 1,
    "autograd_lite.random": 1,
    "autograd_lite.teaching": 3,
    "autograd_lite.exercises": 3,  # teaching level: grades learners' ops with gradcheck and teaching.trace
    "autograd_lite.compiler": 3,  # uses functional (backward_code wraps value_and_grad)
    "autograd_lite.cli": 4,
}
#: Imports that point back on purpose, each with its reason.
BACKWARD_IMPORTS = {
    # Tensor's operators (a + b, np.exp(t)) run the op table; imported at the end of engine.py, once both exist.
    ("autograd_lite.engine", "autograd_lite.ops"),
    ("autograd_lite.engine", "autograd_lite.numpy_routing"),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def room(module: str) -> int | None:
    for prefix, rank in ROOMS.items():
        if module == prefix or module.startswith(prefix + "."):
            return rank
    return None


def imports(path: Path) -> Iterator[tuple[str, list[str]]]:
    """(module, names imported from it) for every import in the file, top level or inside functions."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from ((alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [alias.name for alias in node.names]
            if node.module == "autograd_lite":  # from autograd_lite import ops: the module itself
                yield from ((f"autograd_lite.{name}", []) for name in names if name[0].islower() and name != "cli")
            yield node.module, names


LIBRARY = [path for path in SOURCES if path.is_relative_to(PACKAGE)]


@pytest.mark.parametrize("path", LIBRARY, ids=module_name)
def test_imports_point_one_way(path: Path) -> None:
    here = module_name(path)
    for imported, _ in imports(path):
        assert not imported.startswith("nn"), f"{here} imports {imported}: autograd_lite never depends on nn"
        rank, own = room(imported), room(here)
        if rank is None or own is None or (here, imported) in BACKWARD_IMPORTS:
            continue
        assert rank <= own, f"{here} (room {own}) imports {imported} (room {rank}): dependencies point one way"


@pytest.mark.parametrize("path", SOURCES, ids=module_name)
def test_no_private_names_cross_module_borders(path: Path) -> None:
    here = module_name(path)
    for imported, names in imports(path):
        if imported.split(".")[0] not in ("autograd_lite", "nn") or imported == here:
            continue
        private = [name for name in names if name.startswith("_") and not name.startswith("__")]
        assert not private, f"{here} imports private names {private} from {imported}; make what it needs public"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported_names = [node.names for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))]
    modules = {alias.asname or alias.name for names in imported_names for alias in names} | {"ag", "nn"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules:
            attribute = node.attr
            assert not (attribute.startswith("_") and not attribute.startswith("__")), (
                f"{here}:{node.lineno} uses {node.value.id}.{attribute}, a private name of another module"
            )


@pytest.mark.parametrize("path", SOURCES, ids=module_name)
def test_functions_fit_on_one_screen(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1  # type: ignore[operator]
            assert length <= MAX_FUNCTION_LINES, (
                f"{module_name(path)}:{node.lineno} {node.name} is {length} lines; split it into named helpers"
            )
