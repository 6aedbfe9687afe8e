"""Server-side SVG charts: no script survives (the CSP allows none), the figures are printed, bad input is refused."""

from __future__ import annotations

import defusedxml.ElementTree as ET
import pytest

from core import charts


def test_a_bar_chart_is_svg_without_script_and_prints_its_values():
    svg = charts.bar("Thu theo ngày", ["01/12", "02/12"], {"Thẻ": [150000, 0], "VietQR": [50000, 20000]},
                     formatter=lambda v: f"{v:,.0f} ₫".replace(",", "."))
    root = ET.fromstring(str(svg))
    assert root.tag.endswith("svg") and root.get("role") == "img" and root.get("aria-label") == "Thu theo ngày"
    assert "<script" not in svg and "<!--" not in svg
    assert "150.000 ₫" in svg and "20.000 ₫" in svg and "01/12" in svg


@pytest.mark.parametrize("draw", [charts.stacked_bar, charts.horizontal_bar, charts.line])
def test_every_kind_renders_and_refuses_a_series_of_the_wrong_length(draw):
    assert "<svg" in draw("t", ["a", "b", "c"], {"x": [1, 2, 3], "y": [3, None, 1]})
    with pytest.raises(ValueError):
        draw("t", ["a", "b"], {"x": [1]})
