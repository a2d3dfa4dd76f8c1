"""Inline SVG charts: horizontal bars, grouped bars, a histogram and a job timeline.

Every label is escaped; nothing here runs script. Colours come from one small palette.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from html import escape

PALETTE = ("#2f6fab", "#e07b39", "#3a9d5d", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#8c8c8c")
STATUS_COLOURS = {
    "answered": "#3a9d5d",
    "summarized": "#3a9d5d",
    "failed": "#c44e52",
    "pending": "#e0a339",
    "skipped": "#8c8c8c",
    "Completed": "#3a9d5d",
    "PartiallyCompleted": "#e0a339",
    "Failed": "#c44e52",
    "Stopped": "#8c8c8c",
    "Expired": "#8c8c8c",
}


def safe_text(value: object) -> str:
    """HTML-escaped, and never a spreadsheet formula when copied out: text starting with
    ``= + - @`` (or a tab or carriage return) gets a leading ``'`` (OWASP's CSV-injection rule)."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text
    return escape(text)


def _svg(width: int, height: int, body: str, title: str) -> str:
    return (
        f'<svg class="chart" role="img" aria-label="{escape(title)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
        f"{body}</svg>"
    )


def number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.4g}"


def bars(rows: Sequence[tuple[str, float]], title: str, width: int = 560, label_w: int = 190) -> str:
    """One horizontal bar per (label, value); labels cut to what ``label_w`` pixels hold."""
    if not rows:
        return '<p class="empty">No data yet.</p>'
    top = max(v for _, v in rows) or 1
    row_h, label_chars = 24, label_w // 6
    parts = []
    for i, (label, value) in enumerate(rows):
        y = i * row_h
        w = max(1.0, (width - label_w - 70) * value / top)
        colour = STATUS_COLOURS.get(label, PALETTE[i % len(PALETTE)])
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 16}" text-anchor="end">{safe_text(str(label)[:label_chars])}'
            f'</text><rect class="bar" x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}" '
            f'fill="{colour}"><title>{safe_text(label)}: {number(value)}</title></rect>'
            f'<text x="{label_w + w + 4:.1f}" y="{y + 16}">{number(value)}</text>'
        )
    return _svg(width, len(rows) * row_h + 4, "".join(parts), title)


def grouped_bars(rows: Sequence[tuple[str, str, float]], title: str, width: int = 560) -> str:
    """Stacked horizontal bars: one bar per group (first item), segments per category (second)."""
    if not rows:
        return '<p class="empty">No data yet.</p>'
    groups = list(dict.fromkeys(g for g, _, _ in rows))
    categories = list(dict.fromkeys(c for _, c, _ in rows))
    totals = {g: sum(v for gg, _, v in rows if gg == g) for g in groups}
    top = max(totals.values()) or 1
    label_w, row_h, plot_w = 150, 24, width - 150 - 60
    parts = []
    for i, group in enumerate(groups):
        y, x = i * row_h, float(label_w)
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 16}" text-anchor="end">{safe_text(str(group)[:28])}</text>'
        )
        for j, category in enumerate(categories):
            value = sum(v for g, c, v in rows if g == group and c == category)
            if not value:
                continue
            w = plot_w * value / top
            parts.append(
                f'<rect class="bar" x="{x:.1f}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}" '
                f'fill="{PALETTE[j % len(PALETTE)]}"><title>{safe_text(group)} / '
                f"{safe_text(category)}: {number(value)}</title></rect>"
            )
            x += w
        parts.append(f'<text x="{x + 4:.1f}" y="{y + 16}">{number(totals[group])}</text>')
    legend_y = len(groups) * row_h + 8
    for j, category in enumerate(categories):
        lx = label_w + (j % 4) * 100
        ly = legend_y + (j // 4) * 18
        parts.append(
            f'<rect x="{lx}" y="{ly}" width="10" height="10" fill="{PALETTE[j % len(PALETTE)]}"/>'
            f'<text x="{lx + 14}" y="{ly + 9}" class="legend">{safe_text(str(category)[:14])}</text>'
        )
    height = legend_y + ((len(categories) + 3) // 4) * 18 + 4
    return _svg(width, height, "".join(parts), title)


def histogram(values: Sequence[float], title: str, bins: int = 20, width: int = 560) -> str:
    """Counts of ``values`` in equal-width bins up to the 99th percentile (outliers counted in a note)."""
    if not values:
        return '<p class="empty">No data yet.</p>'
    ordered = sorted(values)
    cap = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    above = sum(v > cap for v in ordered)
    values = [v for v in ordered if v <= cap]
    low, high = values[0], values[-1]
    span = (high - low) or 1
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int((v - low) / span * bins))] += 1
    top, height, plot_h = max(counts), 180, 150
    bar_w = (width - 40) / bins
    parts = []
    for i, n in enumerate(counts):
        h = plot_h * n / top
        lo = low + span * i / bins
        parts.append(
            f'<rect class="bar" x="{20 + i * bar_w:.1f}" y="{plot_h - h + 5:.1f}" width="{bar_w - 1:.1f}" '
            f'height="{h:.1f}" fill="{PALETTE[0]}"><title>{number(lo)}–{number(lo + span / bins)}: '
            f"{n}</title></rect>"
        )
    parts.append(
        f'<text x="20" y="{height - 8}">{number(low)}</text>'
        f'<text x="{width - 20}" y="{height - 8}" text-anchor="end">{number(high)}</text>'
    )
    if above:
        parts.append(
            f'<text x="{width / 2:.0f}" y="{height - 8}" text-anchor="middle" class="legend">'
            f"{above} above {number(high)} not shown</text>"
        )
    return _svg(width, height, "".join(parts), title)


def timeline(
    jobs: Sequence[tuple[str, dt.datetime, dt.datetime | None, str]], title: str, width: int = 720
) -> str:
    """One bar per job from submitted to ended (to now while running), coloured by status."""
    if not jobs:
        return '<p class="empty">No jobs yet.</p>'
    now = dt.datetime.now(dt.UTC)
    start = min(s for _, s, _, _ in jobs)
    end = max((e or now) for _, _, e, _ in jobs)
    span = (end - start).total_seconds() or 1
    label_w, row_h, plot_w = 170, 22, width - 170 - 20
    parts = []
    for i, (name, submitted, ended, status) in enumerate(jobs):
        y = i * row_h
        x = label_w + plot_w * (submitted - start).total_seconds() / span
        w = max(2.0, plot_w * ((ended or now) - submitted).total_seconds() / span)
        when = (
            f"{submitted:%Y-%m-%d %H:%M:%S} – {ended:%Y-%m-%d %H:%M:%S} UTC"
            if ended
            else f"since {submitted:%Y-%m-%d %H:%M:%S} UTC"
        )
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end">{escape(name[:26])}</text>'
            f'<rect class="bar" x="{x:.1f}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}" '
            f'fill="{STATUS_COLOURS.get(status, PALETTE[0])}"><title>{escape(name)}: {escape(status)}, '
            f"{when}</title></rect>"
        )
    parts.append(
        f'<text x="{label_w}" y="{len(jobs) * row_h + 14}" class="legend">'
        f"{start:%Y-%m-%d %H:%M} UTC</text>"
        f'<text x="{width - 20}" y="{len(jobs) * row_h + 14}" text-anchor="end" class="legend">'
        f"{end:%Y-%m-%d %H:%M} UTC</text>"
    )
    return _svg(width, len(jobs) * row_h + 20, "".join(parts), title)


def scatter(points: Sequence[tuple[str, float, float]], title: str, x_title: str, y_title: str,
            width: int = 560, height: int = 300) -> str:
    """One labelled dot per (label, x, y); x on a log scale when it spans more than 20x (prices
    do), y from 0 to 1 (a rate)."""
    shown = [(label, x, y) for label, x, y in points if x is not None and y is not None and x > 0]
    if not shown:
        return '<p class="empty">No data yet.</p>'
    left, bottom, top_pad, right_pad = 56, 40, 12, 110
    xs = [x for _, x, _ in shown]
    log = max(xs) / min(xs) > 20
    lo, hi = (math.log10(min(xs)), math.log10(max(xs))) if log else (0.0, max(xs))
    span = (hi - lo) or 1.0

    def px(x: float) -> float:
        v = math.log10(x) if log else x
        return left + (width - left - right_pad) * (v - lo) / span

    def py(y: float) -> float:
        return top_pad + (height - top_pad - bottom) * (1 - max(0.0, min(1.0, y)))

    parts = [f'<line x1="{left}" y1="{py(0):.1f}" x2="{width - right_pad}" y2="{py(0):.1f}" stroke="#999"/>',
             f'<line x1="{left}" y1="{py(0):.1f}" x2="{left}" y2="{py(1):.1f}" stroke="#999"/>',
             f'<text x="{left - 6}" y="{py(1) + 4:.1f}" text-anchor="end">1</text>',
             f'<text x="{left - 6}" y="{py(0.5) + 4:.1f}" text-anchor="end">0.5</text>',
             f'<text x="{left - 6}" y="{py(0) + 4:.1f}" text-anchor="end">0</text>',
             f'<text x="{(width - right_pad + left) / 2:.0f}" y="{height - 6}" text-anchor="middle">'
             f'{escape(x_title)}{" (log scale)" if log else ""}</text>',
             f'<text x="12" y="{py(0.5):.0f}" transform="rotate(-90 12 {py(0.5):.0f})" text-anchor="middle">'
             f'{escape(y_title)}</text>']
    placed: list[tuple[float, float]] = []
    for i, (label, x, y) in enumerate(shown):
        colour, label_y = PALETTE[i % len(PALETTE)], py(y) + 4
        while any(abs(px(x) - lx) < 60 and abs(label_y - ly) < 12 for lx, ly in placed):
            label_y += 12  # dots at the same place: their labels one under the other
        placed.append((px(x), label_y))
        parts.append(f'<circle class="dot" cx="{px(x):.1f}" cy="{py(y):.1f}" r="6" fill="{colour}">'
                     f'<title>{safe_text(label)}: {number(x)}, {y:.3f}</title></circle>'
                     f'<text x="{px(x) + 9:.1f}" y="{label_y:.1f}">{safe_text(label)}</text>')
    return _svg(width, height, "".join(parts), title)
