"""Slides of a backward pass: one picture per step (Graphviz draws each), and an animated GIF of them (Pillow).

``trace.save_frames(folder)`` writes ``step-01.png``, ``step-02.png``, ...; ``trace.save_gif(path)``
assembles the same pictures into one looping animation. Both need the Graphviz ``dot``
program, and the GIF needs Pillow (matplotlib brings it); without them the error says what
to install. Every file is written whole or not at all (a temporary file, then a rename).
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from autograd_lite.teaching.trace import BackwardTrace


def _write_atomically(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def frame_pictures(trace: BackwardTrace, image_format: str = "png", rankdir: str = "LR") -> list[bytes]:
    """Each step's graph rendered by ``dot`` (its op highlighted, the gradients known so far filled in)."""
    if not trace.steps:
        raise ValueError("slides: the trace has no steps (the output is a leaf), so there is nothing to show")
    return [trace.frame(index, rankdir=rankdir).pipe(format=image_format) for index in range(len(trace.steps))]


def save_frames(trace: BackwardTrace, folder: str | Path, image_format: str = "png", rankdir: str = "LR") -> list[Path]:
    """Write one picture per step into ``folder`` (made if missing): ``step-01.png``, ...; returns the paths."""
    if image_format not in ("png", "svg", "pdf", "jpg"):
        raise ValueError(f"save_frames: image_format must be 'png', 'svg', 'pdf' or 'jpg', got {image_format!r}")
    pictures = frame_pictures(trace, image_format, rankdir)  # all drawn before anything is written
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    width = max(2, len(str(len(pictures))))
    paths = []
    for number, picture in enumerate(pictures, start=1):
        path = target / f"step-{number:0{width}d}.{image_format}"
        _write_atomically(path, picture)
        paths.append(path)
    return paths


def _pillow() -> Any:
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("save_gif needs Pillow to assemble the frames: pip install pillow") from None
    return Image


def save_gif(trace: BackwardTrace, path: str | Path, seconds_per_step: float = 1.5, rankdir: str = "LR") -> Path:
    """An animated GIF of the backward pass, one frame per step, looping; returns the path."""
    if not seconds_per_step > 0:
        raise ValueError(f"save_gif: seconds_per_step must be positive, got {seconds_per_step}")
    image = _pillow()
    opened = [image.open(io.BytesIO(picture)).convert("RGB") for picture in frame_pictures(trace, "png", rankdir)]
    # The frames differ a little in size (a box grows when its gradient arrives): put each on one white canvas.
    width, height = max(frame.width for frame in opened), max(frame.height for frame in opened)
    frames = []
    for frame in opened:
        canvas = image.new("RGB", (width, height), "white")
        canvas.paste(frame, ((width - frame.width) // 2, (height - frame.height) // 2))
        frames.append(canvas)
    buffer = io.BytesIO()
    frames[0].save(
        buffer, format="GIF", save_all=True, append_images=frames[1:], duration=int(seconds_per_step * 1000), loop=0
    )
    target = Path(path)
    _write_atomically(target, buffer.getvalue())
    return target
