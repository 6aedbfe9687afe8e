"""0024 on a database that already holds service points: their precision is read from coord_source."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.smoke, pytest.mark.slow]

SOURCES = {
    "HN-CN01": ("approximate: centre point of legacy ward Xuân La in vietnamadminunits 1.0.4; the building is "
                "within ~2 km", "ward_centre"),
    "HN-D001": ("approximate: mean of the 13 legacy ward centre points of the former district in "
                "vietnamadminunits 1.0.4", "district_mean"),
    "HN-X00004": ("unit centre point of the 2025 unit in vietnamadminunits 1.0.4 (area 2.97 km2)", "unit_centre"),
    "HN-X00008": ("Geocoded to the building (rooftop)", "building"),
    "HN-X00025": ("entered by an administrator", "unknown"),
}


def test_existing_points_get_their_precision_from_coord_source(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    env = {**os.environ, "FLASK_APP": "wsgi", "DATABASE_URL": url, "INSTANCE_DIR": str(tmp_path)}

    def flask(*args):
        subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT, env=env, check=True, capture_output=True)

    flask("db", "upgrade", "0023")
    engine = create_engine(url)
    with engine.begin() as conn:
        for i, (code, (source, _)) in enumerate(SOURCES.items(), start=1):
            conn.execute(text(
                "INSERT INTO service_points (id, code, tier, name, address, lat, lon, coord_source, opening_hours, "
                "levels, daily_capacity, created_at, updated_at) VALUES (:id, :code, 'commune_point', 'Điểm', "
                "'Hà Nội', 21.0, 105.8, :source, '24/7', :levels, 10, '2026-01-01', '2026-01-01')"),
                {"id": i, "code": code, "source": source,
                 "levels": '["district", "commune"]' if i % 2 else '["province", "district", "commune"]'})
    flask("db", "upgrade", "0024")
    with engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT code, coord_precision FROM service_points")).all())
        urls = {row[0] for row in conn.execute(text("SELECT source_url FROM service_points"))}
        levels = {row[0] for row in conn.execute(text("SELECT levels FROM service_points"))}
    assert {tuple(json.loads(value)) for value in levels} == {("commune",), ("province", "commune")}  # no district
    assert rows == {code: precision for code, (_, precision) in SOURCES.items()}
    assert urls == {None}
    flask("db", "downgrade", "0023")
    with engine.connect() as conn:
        columns = [row[1] for row in conn.execute(text("PRAGMA table_info(service_points)"))]
    assert "coord_precision" not in columns and "source_url" not in columns
