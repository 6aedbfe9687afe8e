"""Coordinates must lie in Vietnam (offline polygon)."""

from __future__ import annotations

import pytest

from geo.territory import in_vietnam


@pytest.mark.parametrize(("lat", "lon"), [
    (21.0259, 105.8537), (10.7769, 106.7009), (16.0544, 108.2022), (22.3364, 103.8438),
    (10.2270, 103.9670), (9.1769, 105.1524), (21.5247, 107.9660), (20.6192, 105.763),
])
def test_inside(lat, lon):
    assert in_vietnam(lat, lon)


@pytest.mark.parametrize(("lat", "lon"), [
    (17.9757, 102.6331), (11.5564, 104.9282), (22.8170, 108.3665), (13.7563, 100.5018),
    (22.3193, 114.1694), (12.0, 112.0), (0.0, 0.0),
])
def test_outside(lat, lon):
    assert not in_vietnam(lat, lon)
