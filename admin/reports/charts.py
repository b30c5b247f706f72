"""Charts for summaries: matplotlib (Agg, no pyplot state) drawn to deterministic SVG text.

Charts only ever receive numbers that already passed disclosure control; a hidden value (None) is
drawn as no bar with the words "not shown", never as a height; labels print the published integers only.
"""

from __future__ import annotations

import base64
import functools
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

from admin.reports.disclosure import HIDDEN

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@functools.cache
def _figure_class() -> type[Figure]:
    """matplotlib, set up on the first chart: importing it takes about a second, and `ourvoice run` imports
    this module when it mounts the admin, before it can poll Telegram (issue 27, restart time)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import rcParams
    from matplotlib.figure import Figure

    rcParams["svg.hashsalt"] = "ourvoice"  # stable ids: same data, same SVG
    rcParams["svg.fonttype"] = "none"  # real text, not glyph paths: small, searchable, quick to print
    rcParams["font.family"] = "DejaVu Sans"
    rcParams["font.size"] = 9
    return Figure


COLOURS = ("#2a6f97", "#e07a5f", "#3d9970", "#9b5de5", "#f2a541")


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": "ourvoice"}, bbox_inches="tight")
    return buf.getvalue()


def _wrap(text: str, width: int = 34) -> str:
    words, lines, line = text.split(), [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    lines.append(line)
    return "\n".join(lines[:3])


def bar_chart(
    labels: Sequence[str],
    values: Sequence[int | None],
    texts: Sequence[str],
    *,
    title: str = "",
    colour: int = 0,
) -> str:
    """Horizontal bars (people per answer); hidden values (None) are labelled with `texts`, not drawn."""
    n = max(1, len(labels))
    fig = _figure_class()(figsize=(6.2, 0.36 * n + 0.7))
    ax = fig.add_subplot()
    ys = list(range(n))[::-1]
    shown = [v or 0 for v in values]
    top = max(shown + [5])
    ax.barh(ys, shown, color=COLOURS[colour % len(COLOURS)], height=0.6)
    for y, v, t in zip(ys, values, texts, strict=False):
        if v is None:
            ax.text(top * 0.01, y, t or HIDDEN, va="center", ha="left", color="#555555", style="italic")
        else:
            ax.text(v + top * 0.01, y, f"{v:,}", va="center", ha="left")
    ax.set_yticks(ys, [_wrap(x) for x in labels])
    ax.set_xlim(0, top * 1.18)
    ax.set_xlabel("people")
    if title:
        ax.set_title(_wrap(title, 70), loc="left", fontsize=10)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return _svg(fig)


def line_chart(
    xlabels: Sequence[str],
    series: dict[str, Sequence[float | None]],
    *,
    title: str,
    ylim: tuple[float, float],
) -> str:
    """Lines over months (averages); a missing point (too few people) leaves a gap."""
    fig = _figure_class()(figsize=(6.2, 2.8))
    ax = fig.add_subplot()
    xs = list(range(len(xlabels)))
    for k, (name, ys) in enumerate(series.items()):
        pts = [float("nan") if y is None else y for y in ys]
        ax.plot(xs, pts, marker="o", color=COLOURS[k % len(COLOURS)], label=_wrap(name, 40))
    ax.set_xticks(xs, list(xlabels))
    ax.set_ylim(*ylim)
    ax.set_ylabel("average (1 to 5)")
    ax.set_title(_wrap(title, 70), loc="left", fontsize=10)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return _svg(fig)


def data_uri(svg: str) -> str:
    """An <img src> value embedding the SVG (works in browsers and in WeasyPrint)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
