"""MkDocs hook: ``>>>`` examples (in the pages and in the docstrings the API reference shows) render as code.

The pages and docstrings keep their examples as bare doctests, which pytest runs; Markdown would
read ``>>>`` as nested quotes and ``[...]`` in outputs as links. A Markdown preprocessor wraps each
run of example lines (``>>>``, ``...`` and the output up to a blank line) in a ``pycon`` fence.
"""

from __future__ import annotations

import re
from typing import Any

from markdown import Extension, Markdown
from markdown.preprocessors import Preprocessor
from mkdocs.plugins import event_priority

FENCE = re.compile(r"^\s*(```|~~~)")


class DoctestFences(Preprocessor):
    """Fence every doctest block outside existing code fences (keeping its indentation)."""

    def run(self, lines: list[str]) -> list[str]:
        result: list[str] = []
        in_fence, in_example, indent = False, False, ""
        for line in lines:
            if in_example and (not line.strip() or not line.startswith(indent)):
                result.append(f"{indent}```")
                in_example = False
            if not in_example and FENCE.match(line):
                in_fence = not in_fence
            elif not in_fence and not in_example and line.lstrip().startswith(">>>"):
                indent = line[: len(line) - len(line.lstrip())]
                result.append(f"{indent}```pycon")
                in_example = True
            result.append(line)
        if in_example:
            result.append(f"{indent}```")
        return result


class DoctestFencesExtension(Extension):
    def extendMarkdown(self, md: Markdown) -> None:
        md.preprocessors.register(DoctestFences(md), "doctest_fences", 35)  # before the fenced-code preprocessor


@event_priority(100)  # before mkdocstrings reads the extensions for the docstrings
def on_config(config: Any) -> Any:
    config.markdown_extensions.append(DoctestFencesExtension())
    return config
