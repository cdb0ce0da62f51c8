"""Packaging conventions: one version, a licence that matches the metadata, type hints shipped, a changelog entry."""

from __future__ import annotations

import importlib.metadata
import re
import sys
from pathlib import Path

import pytest

import autograd_lite
import nn

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = (ROOT / "pyproject.toml").read_text("utf-8")


def pyproject_version() -> str:
    found = re.search(r'^version = "([^"]+)"$', PYPROJECT, re.M)
    assert found, "pyproject.toml has no static version"
    return found.group(1)


def test_the_version_has_one_source() -> None:
    assert autograd_lite.__version__ == pyproject_version()
    assert not re.search(r"__version__ = ['\"]", (ROOT / "autograd_lite" / "__init__.py").read_text("utf-8"))
    try:
        installed = importlib.metadata.version("autograd_lite")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("autograd_lite is not installed (run from a source tree)")
    assert installed == autograd_lite.__version__


def test_the_changelog_records_this_release() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text("utf-8")
    assert re.search(rf"^## \[{re.escape(pyproject_version())}\] - \d{{4}}-\d{{2}}-\d{{2}}$", changelog, re.M)


def test_the_licence_is_the_one_the_metadata_names() -> None:
    assert 'license = { text = "MIT" }' in PYPROJECT
    assert "License :: OSI Approved :: MIT License" in PYPROJECT
    assert (ROOT / "LICENSE").read_text("utf-8").startswith("MIT License\n")


@pytest.mark.parametrize("package", [autograd_lite, nn], ids=["autograd_lite", "nn"])
def test_both_packages_ship_their_type_hints(package: object) -> None:
    folder = Path(package.__file__).parent  # type: ignore[attr-defined]
    assert (folder / "py.typed").is_file()
    assert re.search(rf'^"{package.__name__}" = \["py.typed"\]', PYPROJECT, re.M)  # type: ignore[attr-defined]
    assert '"Typing :: Typed"' in PYPROJECT


def test_the_classifiers_name_every_python_the_project_supports() -> None:
    lowest = re.search(r'^requires-python = ">=3\.(\d+)"$', PYPROJECT, re.M)
    assert lowest
    listed = {int(minor) for minor in re.findall(r'"Programming Language :: Python :: 3\.(\d+)"', PYPROJECT)}
    assert min(listed) == int(lowest.group(1)) and sys.version_info.minor in listed
    assert listed == set(range(min(listed), max(listed) + 1))
