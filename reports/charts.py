"""Charts drawn on the server with matplotlib (PNG), labelled in Chinese.

Matplotlib's bundled fonts have no Chinese glyphs: a CJK font is looked up among the
system's fonts once (WenQuanYi Micro Hei, Noto/Source Han Sans, …; CI installs
``fonts-wqy-microhei``). Without one the app warns at start-up and charts show boxes.
"""

from __future__ import annotations

import io
import logging
import math
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _matplotlib() -> Any:
    """matplotlib, loaded on the first chart: it costs every process that imports the app
    (web and worker processes, CLI commands) about half a second otherwise."""
    import matplotlib

    matplotlib.use("Agg")  # no display on a server
    return matplotlib

PREFERRED_FONTS = ("WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Noto Sans CJK SC",
                   "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
                   "Droid Sans Fallback", "AR PL UMing CN", "SimHei", "Microsoft YaHei")
PROBE = "按时办结率满意"
AREA_COLOURS = {"factor": "#2b6cb0", "policy": "#2f855a", "special": "#b7791f",
                "other": "#718096", None: "#cbd5e0"}


def _covers(path: str, text: str) -> bool:
    from matplotlib.ft2font import FT2Font

    try:
        font = FT2Font(path)
    except Exception:  # an unreadable font file is simply not a candidate
        return False
    return all(font.get_char_index(ord(ch)) for ch in text)


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The family name of a system font with Chinese glyphs, or None."""
    _matplotlib()
    from matplotlib import font_manager

    fonts = font_manager.fontManager.ttflist
    by_name = {f.name: f for f in fonts}
    for name in PREFERRED_FONTS:
        if name in by_name and _covers(by_name[name].fname, PROBE):
            return name
    for entry in fonts:
        if _covers(entry.fname, PROBE):
            return str(entry.name)
    return None


def warn_if_no_cjk_font() -> bool:
    """Log a clear warning when charts would lack Chinese glyphs; True when a font exists."""
    name = cjk_font()
    if name is None:
        log.warning("reports: no CJK font found; chart labels will show as boxes. Install one, "
                    "e.g. `apt-get install fonts-wqy-microhei`, then restart.")
        return False
    return True


def _figure(width: float = 8.0, height: float = 3.6) -> Figure:
    matplotlib = _matplotlib()
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100)
    font = cjk_font()
    if font:
        matplotlib.rcParams["font.family"] = [font, "DejaVu Sans"]
    matplotlib.rcParams["axes.unicode_minus"] = False
    return figure


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def month_labels(months: Sequence[str]) -> list[str]:
    """``2026-01`` … as ``2026年1月``, ``2月`` …: the year in full where it begins (the first
    label and each January), never a two-digit ``26年01月``."""
    labels = []
    shown_year = None
    for month in months:
        year, number = month.split("-")
        labels.append(f"{year}年{int(number)}月" if year != shown_year else f"{int(number)}月")
        shown_year = year
    return labels


def _month_axis(axes: Any, months: Sequence[str]) -> list[int]:
    """Months as positions (labels may repeat across years), labelled by :func:`month_labels`."""
    positions = list(range(len(months)))
    axes.set_xticks(positions, labels=month_labels(months))
    axes.tick_params(axis="x", labelsize=8)
    return positions


def _legend_above(axes: Any, columns: int) -> None:
    """The legend above the plot, outside it: it never covers a bar, a line or a point."""
    axes.legend(loc="lower left", bbox_to_anchor=(0, 1.02), fontsize=8, ncols=max(columns, 1),
                frameon=False, borderaxespad=0)


def volume_figure(months: Sequence[str], counts: Mapping[tuple[str, Any], int],
                  areas: Mapping[Any, str]) -> Figure:
    figure = _figure()
    axes = figure.subplots()
    positions = _month_axis(axes, months)
    bottom = [0] * len(months)
    for area, name in areas.items():
        values = [counts.get((m, area), 0) for m in months]
        axes.bar(positions, values, bottom=bottom, label=name,
                 color=AREA_COLOURS.get(area, "#a0aec0"))
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    from matplotlib.ticker import MaxNLocator

    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title("各月受理量（按服务类别）", pad=22)
    axes.set_ylabel("件")
    _legend_above(axes, len(areas))
    return figure


def volume_by_area(months: Sequence[str], counts: Mapping[tuple[str, Any], int],
                   areas: Mapping[Any, str]) -> bytes:
    """Stacked monthly bars: cases received per service area."""
    return _png(volume_figure(months, counts, areas))


# Two rates often coincide (both 100 %): the second line is dashed with larger hollow markers,
# so the first stays visible inside it instead of being painted over.
TREND_STYLES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("按时办结率", {"color": "#2b6cb0", "linestyle": "-", "marker": "o", "markersize": 5,
                "zorder": 3}),
    ("满意率", {"color": "#2f855a", "linestyle": "--", "marker": "s", "markersize": 9,
             "markerfacecolor": "none", "markeredgewidth": 1.5, "zorder": 2}),
)


def trend_figure(months: Sequence[str], on_time: Sequence[float | None],
                 satisfaction: Sequence[float | None]) -> Figure:
    figure = _figure()
    axes = figure.subplots()
    positions = _month_axis(axes, months)
    for values, (name, style) in zip((on_time, satisfaction), TREND_STYLES, strict=True):
        axes.plot(positions, [math.nan if v is None else v * 100 for v in values],
                  label=name, **style)
    axes.set_ylim(0, 108)
    axes.set_ylabel("%")
    axes.set_title("按时办结率与满意率走势", pad=22)
    _legend_above(axes, len(TREND_STYLES))
    return figure


def rate_trend(months: Sequence[str], on_time: Sequence[float | None],
               satisfaction: Sequence[float | None]) -> bytes:
    """Two lines, in percent: 按时办结率 and 满意率 per month (gaps where nothing was due)."""
    return _png(trend_figure(months, on_time, satisfaction))


def unit_bars(names: Sequence[str], received: Sequence[int], late: Sequence[int]) -> bytes:
    """Horizontal bars per unit: assignments received, and 逾期办结 (assessed late) in the
    period — not today's overdue (当前逾期)."""
    height = max(2.4, 0.32 * len(names) + 1.2)
    figure = _figure(8.0, height)
    axes = figure.subplots()
    positions = list(range(len(names)))
    axes.barh([p + 0.2 for p in positions], received, height=0.4, label="受理",
              color="#2b6cb0")
    axes.barh([p - 0.2 for p in positions], late, height=0.4, label="逾期办结", color="#c53030")
    axes.set_yticks(positions, labels=names, fontsize=8)
    axes.invert_yaxis()
    from matplotlib.ticker import MaxNLocator

    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title("各单位受理与逾期办结")
    axes.legend(loc="lower right", fontsize=8)
    return _png(figure)
