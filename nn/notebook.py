"""What a Jupyter notebook shows for nn's objects: a Module's layer table, History's curves as a picture.

IPython asks an object for ``_repr_html_`` / ``_repr_png_`` / ``_repr_mimebundle_``; the
Module and History methods of those names call these functions. A figure from
``History.plot()`` is a :func:`notebook_figure` (a matplotlib Figure with ``_repr_png_``),
so a cell ending in ``history.plot()`` shows the picture in a fresh kernel, where no
pyplot backend has registered a display for Figures.
"""

from __future__ import annotations

import functools
import html
import io
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nn.module import Module

TABLE_STYLE = (
    "<style>.nn-table{border-collapse:collapse;font-size:12px}.nn-table td,.nn-table th"
    "{padding:2px 8px;border-bottom:1px solid #ddd;text-align:left}.nn-table td.count{text-align:right}</style>"
)


def _shape(shape: tuple[int, ...]) -> str:
    return "×".join(str(side) for side in shape) or "scalar"


def module_rows(module: Module) -> list[tuple[int, str, str, str, int]]:
    """(depth, name, type with its settings, own parameters with shapes, parameter count) per module, depth first.

    A module's own parameters are those none of its sub-modules hold; the count includes the sub-modules'.
    """
    rows = []
    inline: list[str] = []  # modules drawn on one line: their sub-modules are not listed
    parents: list[str] = []  # the enclosing modules' names, to indent by depth in the tree
    for name, child in module.named_modules():
        if any(name.startswith(prefix + ".") for prefix in inline):
            continue
        while parents and not name.startswith(parents[-1] + "." if parents[-1] else ""):
            parents.pop()
        depth = len(parents)
        parents.append(name)
        if child.repr_inline:
            inline.append(name)
        held = {id(parameter) for grandchild in child.children() for parameter in grandchild.parameters()}
        own = [(key, value) for key, value in child.named_parameters() if id(value) not in held]
        text = ", ".join(f"{key} {_shape(value.shape)}" for key, value in own)
        kind = f"{type(child).__name__}({child.extra_repr()})"
        rows.append((depth, name or "(model)", kind, text, child.parameter_count()))
    return rows


def module_html(module: Module) -> str:
    """The layer table a notebook shows for a Module: name, type, its own parameters, parameter count."""
    cells = []
    for depth, name, kind, own, count in module_rows(module):
        indent = "&nbsp;" * 3 * depth
        cells.append(
            f"<tr><td>{indent}{html.escape(name)}</td><td><code>{html.escape(kind)}</code></td>"
            f"<td>{html.escape(own)}</td><td class='count'>{count:,}</td></tr>"
        )
    header = "<tr><th>Layer</th><th>Type</th><th>Own parameters</th><th>Parameters</th></tr>"
    total = f"<caption style='text-align:left'>{module.parameter_count():,} trainable parameters</caption>"
    return f"{TABLE_STYLE}<table class='nn-table'>{total}{header}{''.join(cells)}</table>"


def figure_png(figure: Any) -> bytes:
    """The figure rendered as PNG bytes (Agg, no display needed)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80)
    return buffer.getvalue()


@functools.lru_cache(maxsize=1)
def notebook_figure_class() -> type:
    """matplotlib's Figure with ``_repr_png_``: made on first use, since matplotlib is an optional extra."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    class NotebookFigure(Figure):
        """A Figure that shows itself as a picture in a notebook, whatever pyplot's backend (or none)."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            FigureCanvasAgg(self)  # attaches an Agg canvas: savefig works with no display

        def _repr_png_(self) -> bytes:
            return figure_png(self)

    return NotebookFigure


def notebook_figure(**kwargs: Any) -> Any:
    """A new matplotlib Figure (``figsize=...`` etc.) that a notebook displays as its PNG."""
    return notebook_figure_class()(**kwargs)
