"""The exclusion flow as a diagram (matplotlib): the cases down the middle, each rule's
exclusions in a box to the side, as papers draw them."""

from __future__ import annotations

import os
import textwrap
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .cohort import Cohort

WRAP = 34  # characters a line of a box holds


def draw(result: Cohort, folder: str, formats: tuple[str, ...] = ("png", "svg")) -> list[str]:
    """Draw ``flow.<format>`` for each format into ``folder``; returns the paths.

    Raises
    ------
    ImportError
        Without matplotlib (the ``plot`` extra).
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError(
            "the flow diagram needs matplotlib: pip install 'vitalproc[plot]'"
        ) from exc
    from matplotlib.patches import FancyBboxPatch

    n = len(result.steps)
    row_h = 1.0
    height = (n + 1) * row_h + 0.6
    fig = Figure(figsize=(8.0, max(2.5, 1.05 * height)))
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 10)
    ax.set_ylim(-height + 0.3, 0.5)
    ax.axis("off")

    def box(x: float, y: float, text: str, w: float, bold: bool = False) -> float:
        lines = [ln for part in text.split("\n") for ln in textwrap.wrap(part, WRAP) or [""]]
        h = 0.22 * len(lines) + 0.18
        ax.add_patch(
            FancyBboxPatch(
                (x - w / 2, y - h / 2),
                w,
                h,
                boxstyle="round,pad=0.02,rounding_size=0.08",
                fc="white",
                ec="black",
                lw=1.0,
            )
        )
        ax.text(
            x,
            y,
            "\n".join(lines),
            ha="center",
            va="center",
            fontsize=9,
            fontweight="bold" if bold else "normal",
        )
        return h

    def arrow(x0: float, y0: float, x1: float, y1: float) -> None:
        ax.annotate(
            "",
            xy=(x1, y1),
            xytext=(x0, y0),
            arrowprops={
                "arrowstyle": "-|>",
                "lw": 1.0,
                "color": "black",
                "shrinkA": 0,
                "shrinkB": 0,
            },
        )

    cx, side = 3.0, 7.6
    y = 0.0
    h = box(cx, y, f"{result.title}\nall cases (n = {result.start:,})", 4.2, bold=True)
    prev_bottom = y - h / 2
    for step in result.steps:
        y -= row_h
        mid = y + row_h / 2
        ax.plot([cx, cx], [prev_bottom, mid], color="black", lw=1.0)
        box(side, mid, f"Excluded (n = {step.removed:,}):\n{step.rule}", 4.0)
        arrow(cx, mid, side - 2.0, mid)
        last = step is result.steps[-1]
        label = f"Included (n = {step.remaining:,})" if last else f"n = {step.remaining:,}"
        h = box(cx, y - 0.2, label, 3.0 if not last else 3.4, bold=last)
        arrow(cx, mid, cx, y - 0.2 + h / 2)
        prev_bottom = y - 0.2 - h / 2
    paths = []
    for fmt in formats:
        path = os.path.join(folder, f"flow.{fmt}")
        fig.savefig(
            path,
            dpi=200 if fmt == "png" else None,
            bbox_inches="tight",
            metadata={"Software": None} if fmt == "png" else {"Date": None, "Creator": None},
        )
        paths.append(path)
    return paths
