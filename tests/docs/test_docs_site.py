"""The documentation site: every page in the navigation, every module and public name documented, a strict build.

``mkdocs build --strict`` fails on a broken link, a page missing from the navigation or a
docstring that does not render; it runs here in a child process (the [test] extra brings
the [docs] stack; without it the build is skipped, except in CI, where missing is a failure).
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import autograd_lite as ag
import nn

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
MKDOCS = (ROOT / "mkdocs.yml").read_text("utf-8")
DOCS_STACK = ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python", "mkdocs_jupyter")


def require_docs_stack() -> None:
    missing = [name for name in DOCS_STACK if importlib.util.find_spec(name.split(".")[0]) is None]
    if missing and not os.environ.get("CI"):
        pytest.skip(f"the docs stack is not installed ({', '.join(missing)}): pip install -e '.[docs]'")
    assert not missing, f"CI installs the [test] extra, which brings the docs stack; missing: {missing}"


def test_every_page_is_in_the_navigation() -> None:
    pages = {str(path.relative_to(DOCS)) for path in DOCS.rglob("*.md")}
    listed = set(re.findall(r":\s*([\w./-]+\.md)\s*$", MKDOCS, re.M))
    assert listed <= pages, f"the navigation names pages that do not exist: {sorted(listed - pages)}"
    assert pages <= listed, f"pages missing from mkdocs.yml's nav: {sorted(pages - listed)}"


def test_the_api_reference_shows_every_nn_module() -> None:
    reference = (DOCS / "api" / "nn.md").read_text("utf-8")
    modules = {path.stem for path in (ROOT / "nn").glob("*.py")} - {"__init__"}
    shown = set(re.findall(r"^::: nn\.(\w+)$", reference, re.M))
    assert shown == modules, f"docs/api/nn.md: add {sorted(modules - shown)}, remove {sorted(shown - modules)}"


@pytest.mark.parametrize(("package", "names"), [(ag, ag.__all__), (nn, nn.__all__)], ids=["autograd_lite", "nn"])
def test_every_public_name_has_a_docstring(package: object, names: list[str]) -> None:
    undocumented = []
    for name in names:
        value = getattr(package, name)
        if inspect.isroutine(value) or inspect.isclass(value) or inspect.ismodule(value):
            if not (inspect.getdoc(value) or "").strip():
                undocumented.append(name)
    assert undocumented == [], f"public names without a docstring: {undocumented}"


def test_doctest_blocks_are_fenced_for_the_site() -> None:
    pytest.importorskip("markdown")
    require_docs_stack()
    sys.path.insert(0, str(ROOT))
    try:
        from mkdocs_hooks import DoctestFences
    finally:
        sys.path.remove(str(ROOT))
    lines = ["Text [a][b]", "", ">>> f([1])", "[1, 2]", "", "```python", ">>> inside a fence", "```", "    >>> x",
             "    ... y", "    3", "after"]  # fmt: skip
    assert DoctestFences(None).run(lines) == [
        "Text [a][b]", "", "```pycon", ">>> f([1])", "[1, 2]", "```", "", "```python", ">>> inside a fence", "```",
        "    ```pycon", "    >>> x", "    ... y", "    3", "    ```", "after"]  # fmt: skip


def test_the_site_builds_strictly(tmp_path: Path) -> None:
    require_docs_stack()
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
                   "NO_MKDOCS_2_WARNING": "1"}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, env=environment, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    site = tmp_path / "site"
    assert "nn.export_onnx" in (site / "interop" / "index.html").read_text("utf-8")
    reference = (site / "api" / "nn" / "index.html").read_text("utf-8")
    assert "to_torch_state_dict" in reference and "load_torch_state_dict" in reference
    assert '<span class="gp">&gt;&gt;&gt; </span>' in reference and "<blockquote>" not in reference  # examples as code
    assert (site / "tutorials" / "backprop-by-hand" / "index.html").is_file()
    assert "The first release" in (site / "changelog" / "index.html").read_text("utf-8")  # CHANGELOG.md included
