"""Server-drawn SVG charts: no script, no inline style (the CSP forbids both).

Each function takes plain numbers and returns SVG markup marked safe for templates.
Colours come from attributes so the stylesheet can restyle them by class.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from django.utils.safestring import SafeString, mark_safe

__all__ = ["Band", "Marker", "Series", "bar_chart", "day_ticks", "line_chart"]


@dataclass(frozen=True)
class Series:
    label: str
    points: Sequence[tuple[float, float]]
    css: str = "series-a"


@dataclass(frozen=True)
class Marker:
    """A vertical mark at ``x`` (an infusion, a dose change)."""

    x: float
    label: str
    css: str = "marker"
    #: a few characters drawn at the top of the line ("#3"); the full label is its tooltip
    short: str = ""


@dataclass(frozen=True)
class Band:
    """A horizontal band from ``y0`` to ``y1`` (a severity band, a target range)."""

    y0: float
    y1: float
    label: str
    css: str = "band"


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    if high <= low:
        return [low]
    raw = (high - low) / count
    magnitude = 10 ** len(str(int(raw))) / 10 if raw >= 1 else 0.1
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = (low // step) * step
    ticks = []
    value = first
    while value <= high + 1e-9:
        if value >= low - 1e-9:
            ticks.append(round(value, 6))
        value += step
    return ticks


def day_ticks(lo: float, hi: float, label: Callable[[float], str], most: int = 7) -> dict[float, str]:
    """Ticks on a day axis at whole-day steps (1, 2, 3, 7, 14, 28 … days) with at most
    ``most`` ticks, each labelled by ``label(day)`` (a date)."""
    span = max(hi - lo, 1.0)
    step = next((d for d in (1, 2, 3, 7, 14, 28, 56, 91, 182, 364) if span / d <= most - 1), 728)
    first = -(-lo // step) * step
    ticks: dict[float, str] = {}
    day = first
    while day <= hi + 1e-9:
        ticks[day] = label(day)
        day += step
    return ticks


def _fmt(value: float) -> str:
    return f"{value:g}" if abs(value) < 1e5 else f"{value:.3g}"


def line_chart(
    series: Sequence[Series],
    *,
    title: str,
    x_label: str,
    y_label: str,
    y_min: float | None = None,
    y_max: float | None = None,
    x_min: float | None = None,
    x_max: float | None = None,
    markers: Sequence[Marker] = (),
    bands: Sequence[Band] = (),
    x_tick_labels: dict[float, str] | None = None,
    width: int = 720,
    height: int = 300,
) -> SafeString:
    """A line chart with optional markers and bands; accessible via its title and a table."""
    xs = [x for s in series for x, _ in s.points] + [m.x for m in markers]
    ys = [y for s in series for _, y in s.points]
    lo_x = x_min if x_min is not None else min(xs, default=0.0)
    hi_x = x_max if x_max is not None else max(xs, default=1.0)
    lo_y = y_min if y_min is not None else min(ys + [0.0])
    hi_y = y_max if y_max is not None else max(ys + [1.0]) * 1.08
    hi_x = hi_x if hi_x > lo_x else lo_x + 1
    hi_y = hi_y if hi_y > lo_y else lo_y + 1
    left, right, top, bottom = 56, 16, 34, 46
    pw, ph = width - left - right, height - top - bottom

    def px(x: float) -> float:
        return left + (x - lo_x) / (hi_x - lo_x) * pw

    def py(y: float) -> float:
        return top + ph - (y - lo_y) / (hi_y - lo_y) * ph

    out = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for band in bands:
        y0, y1 = py(min(max(band.y1, lo_y), hi_y)), py(min(max(band.y0, lo_y), hi_y))
        out.append(
            f'<rect class="{band.css}" x="{left}" y="{y0:.1f}" width="{pw}" height="{max(y1 - y0, 0):.1f}"/>'
            f'<text class="band-label" x="{left + pw - 4}" y="{y0 + 12:.1f}" text-anchor="end">'
            f"{escape(band.label)}</text>"
        )
    for tick in _ticks(lo_y, hi_y):
        y = py(tick)
        out.append(
            f'<line class="grid" x1="{left}" x2="{left + pw}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{_fmt(tick)}</text>'
        )
    labels = x_tick_labels or {t: _fmt(t) for t in _ticks(lo_x, hi_x, 6)}
    for tick, text in labels.items():
        out.append(
            f'<text class="tick" x="{px(tick):.1f}" y="{top + ph + 16}" text-anchor="middle">{escape(text)}</text>'
        )
    out.append(
        f'<line class="axis" x1="{left}" x2="{left + pw}" y1="{top + ph}" y2="{top + ph}"/>'
        f'<line class="axis" x1="{left}" x2="{left}" y1="{top}" y2="{top + ph}"/>'
        f'<text class="axis-label" x="{left + pw / 2}" y="{height - 8}" text-anchor="middle">'
        f"{escape(x_label)}</text>"
        f'<text class="axis-label" x="14" y="{top + ph / 2}" text-anchor="middle" '
        f'transform="rotate(-90 14 {top + ph / 2})">{escape(y_label)}</text>'
    )
    for marker in markers:
        x = px(marker.x)
        out.append(
            f'<line class="{marker.css}" x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + ph}">'
            f"<title>{escape(marker.label)}</title></line>"
        )
        if marker.short:
            out.append(
                f'<text class="marker-label" x="{x:.1f}" y="{top - 4}" text-anchor="middle">'
                f"{escape(marker.short)}<title>{escape(marker.label)}</title></text>"
            )
    for index, s in enumerate(series):
        if not s.points:
            continue
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in s.points)
        out.append(f'<polyline class="line {s.css}" points="{path}"/>')
        if len(s.points) <= 40:
            out.extend(
                f'<circle class="dot {s.css}" cx="{px(x):.1f}" cy="{py(y):.1f}" r="4">'
                f"<title>{escape(s.label)}: {_fmt(y)}</title></circle>"
                for x, y in s.points
            )
        lx = left + 8 + index * 170
        out.append(
            f'<rect class="swatch {s.css}" x="{lx}" y="10" width="14" height="4"/>'
            f'<text class="legend" x="{lx + 20}" y="16">{escape(s.label)}</text>'
        )
    out.append("</svg>")
    return mark_safe("".join(out))  # noqa: S308 - every text above is escaped


def bar_chart(
    bars: Sequence[tuple[str, float]],
    *,
    title: str,
    unit: str = "",
    width: int = 560,
    bar_height: int = 26,
) -> SafeString:
    """Horizontal bars with their labels and values."""
    top = max((v for _, v in bars), default=1.0) or 1.0
    label_w, gap = 240, 8
    height = len(bars) * (bar_height + gap) + gap
    out = [
        f'<svg class="chart bars" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for i, (label, value) in enumerate(bars):
        y = gap + i * (bar_height + gap)
        w = (width - label_w - 60) * value / top
        out.append(
            f'<text class="tick" x="{label_w - 8}" y="{y + bar_height * 0.68:.1f}" text-anchor="end">'
            f"{escape(label)}</text>"
            f'<rect class="bar" x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_height}" rx="4"/>'
            f'<text class="value" x="{label_w + w + 6:.1f}" y="{y + bar_height * 0.68:.1f}">'
            f"{_fmt(value)}{escape(unit)}</text>"
        )
    out.append("</svg>")
    return mark_safe("".join(out))  # noqa: S308 - every text above is escaped
