"""Charts rendered on the server as SVG with pygal: no JavaScript, no CDN, printable.

``bar(...)``, ``stacked_bar(...)``, ``horizontal_bar(...)`` and ``line(...)`` take plain labels and
series (name → values, one value per label) and return the SVG as ``Markup``, to be placed in a
page inside ``<figure>`` (the ``chart`` macro in core/templates/_charts.html adds the caption and
a data table for screen readers and print). pygal's interactive script is left out: the page's
Content-Security-Policy allows no inline script, and values are printed on the bars instead of
shown on hover. Sized for a 1280×800 screen (the SVG scales to its container's width); colours
stay distinct in greyscale print; numbers are formatted by the caller's formatter (``money``,
``number``) so they read in the user's language.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

import pygal
from markupsafe import Markup
from pygal.style import Style

# Distinct on screen and in greyscale print, in order of use.
PALETTE = ("#1f5fa8", "#d9822b", "#2e8540", "#a23b72", "#6c757d", "#b8860b", "#17a2b8", "#5a2d82")
STYLE = Style(
    background="white", plot_background="white", foreground="#222", foreground_strong="#111",
    foreground_subtle="#ddd", opacity="1", opacity_hover="0.85", colors=PALETTE,
    font_family="'DejaVu Sans', 'Noto Sans', Arial, sans-serif", label_font_size=13,
    major_label_font_size=13, value_font_size=12, value_label_font_size=12, legend_font_size=13,
    title_font_size=16, tooltip_font_size=12,
)
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>|<script\b[^>]*/>", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)

Formatter = Callable[[float], str]


def _chart(kind, title: str, labels: Sequence[str], series: Mapping[str, Sequence[float | None]],
           formatter: Formatter | None, *, height: int = 380, **options) -> Markup:
    for name, values in series.items():
        if len(values) != len(labels):
            raise ValueError(f"series {name!r} has {len(values)} values for {len(labels)} labels")
    options.setdefault("print_values", True)
    chart = kind(style=STYLE, js=[], disable_xml_declaration=True, width=1000, height=height, title=title,
                 show_legend=len(series) > 1, legend_at_bottom=True, legend_at_bottom_columns=4,
                 print_zeroes=False, truncate_label=-1, x_label_rotation=0,
                 margin=12, spacing=8, value_formatter=formatter or _plain, **options)
    chart.x_labels = list(labels)
    for name, values in series.items():
        chart.add(name, list(values))
    svg = chart.render(is_unicode=True)
    svg = _COMMENT.sub("", _SCRIPT.sub("", svg))
    # The title is the figure's caption as well: the SVG is named for assistive technology.
    # pygal escapes the text it puts in the SVG (labels, titles, values); the label added here is escaped too.
    return Markup(svg.replace("<svg ", f'<svg role="img" aria-label="{Markup.escape(title)}" ', 1))  # noqa: S704


def _plain(value: float) -> str:
    return f"{value:,.0f}".replace(",", ".")


def bar(title: str, labels: Sequence[str], series: Mapping[str, Sequence[float | None]],
        formatter: Formatter | None = None, **options) -> Markup:
    return _chart(pygal.Bar, title, labels, series, formatter, **options)


def stacked_bar(title: str, labels: Sequence[str], series: Mapping[str, Sequence[float | None]],
                formatter: Formatter | None = None, **options) -> Markup:
    return _chart(pygal.StackedBar, title, labels, series, formatter, print_values=False, **options)


def horizontal_bar(title: str, labels: Sequence[str], series: Mapping[str, Sequence[float | None]],
                   formatter: Formatter | None = None, **options) -> Markup:
    height = max(240, 60 + 34 * len(labels) * max(1, len(series)))
    return _chart(pygal.HorizontalBar, title, labels, series, formatter, height=height, **options)


def line(title: str, labels: Sequence[str], series: Mapping[str, Sequence[float | None]],
         formatter: Formatter | None = None, **options) -> Markup:
    return _chart(pygal.Line, title, labels, series, formatter, print_values=False, dots_size=3, **options)
