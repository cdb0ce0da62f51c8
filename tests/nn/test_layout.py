"""Dependencies point one way: the nn library never imports its applications (nn.apps), which import the library.

Read from the source with ``ast``, so a lazy import inside a function counts as much as one at the top.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

NN = Path(__file__).resolve().parents[2] / "nn"
LIBRARY = sorted(NN.glob("*.py"))
APPS = sorted((NN / "apps").glob("*.py"))
LIBRARY_MODULES = {path.stem for path in LIBRARY} - {"__init__"}
EXTRAS = {"matplotlib", "mlxtend", "safetensors", "onnx"}  # optional extras, imported lazily where needed


def imported_modules(path: Path) -> Iterator[str]:
    """Every module ``path`` imports, anywhere in the file; ``from nn import data`` counts as nn.data."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}: relative import of {node.module!r}; nn uses absolute imports"
            if node.module == "nn":
                yield from (f"nn.{alias.name}" for alias in node.names)
            else:
                yield node.module


def allowed_in_the_library(module: str) -> bool:
    """The stdlib, NumPy, the optional extras, ``autograd_lite`` itself (its public API) and nn's library modules."""
    top, _, rest = module.partition(".")
    if top == "nn":
        return rest == "" or rest.partition(".")[0] in LIBRARY_MODULES
    if top == "autograd_lite":
        return rest == ""  # import autograd_lite as ag: the public API, not its submodules
    return top in sys.stdlib_module_names or top in {"numpy", *EXTRAS}


def test_the_library_and_the_apps_are_where_this_test_looks():
    assert {"module", "layers", "losses", "optim", "training"} <= LIBRARY_MODULES
    assert {"demo", "mnist", "figures", "common"} <= {path.stem for path in APPS}


@pytest.mark.parametrize("path", LIBRARY, ids=lambda path: path.name)
def test_library_modules_import_only_the_stdlib_numpy_autograd_lite_and_the_library(path):
    outside = sorted({module for module in imported_modules(path) if not allowed_in_the_library(module)})
    assert outside == [], f"nn/{path.name} imports {', '.join(outside)}; the library must not depend on them"


@pytest.mark.parametrize("name", ["common", "demo", "mnist"])
def test_the_apps_build_on_the_library(name):
    # The allowed direction: an application imports nn's library modules (and the other apps).
    assert "nn" in set(imported_modules(NN / "apps" / f"{name}.py"))


def test_importing_nn_does_not_load_the_apps():
    code = "import sys, nn; print(sorted(name for name in sys.modules if name.startswith('nn.apps')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=NN.parent)
    assert result.stdout.strip() == "[]"
