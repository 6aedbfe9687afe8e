"""Upgrading a database that already holds dossiers: 0002 gives each a tracking token, 0008 keeps
only its hash (the link handed out keeps working), 0021 leaves their numbers as they were."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.smoke, pytest.mark.slow]


def test_tracking_tokens_are_backfilled(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    env = {**os.environ, "FLASK_APP": "wsgi", "DATABASE_URL": url, "INSTANCE_DIR": str(tmp_path)}

    def flask(*args):
        subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT, env=env, check=True, capture_output=True)

    flask("db", "upgrade", "0001")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO organisations (id, code, name, kind, is_active, created_at) "
                          "VALUES (1, 'ORG', 'Org', 'postal', 1, '2026-01-01')"))
        conn.execute(text("INSERT INTO procedures (id, code, name, level, sector, fee_vnd, processing_days, "
                          "required_documents, search_text, is_active, updated_at) VALUES "
                          "(1, 'P-1', 'Thủ tục', 'commune', 'X', 0, 1, '[]', 'thu tuc', 1, '2026-01-01')"))
        conn.execute(text("INSERT INTO service_points (id, code, tier, name, address, lat, lon, coord_source, "
                          "opening_hours, levels, daily_capacity, created_at, updated_at) VALUES (1, 'HN-X1', "
                          "'commune_point', 'Điểm', 'Hà Nội', 21.0, 105.8, 'test', '24/7', :levels, 10, "
                          "'2026-01-01', '2026-01-01')"), {"levels": '["commune"]'})
        for i in (1, 2):
            conn.execute(text(
                "INSERT INTO dossiers (id, number, procedure_id, status, citizen_name, citizen_id_number, "
                "citizen_phone, lat, lon, location_source, organisation_id, service_point_id, routing, "
                "outside_service_radius, delivery_method, fee_vnd, received_at, deadline_at, updated_at, "
                "idempotency_owner, idempotency_key, request_fingerprint) VALUES "
                f"({i}, 'HN-X1-260101-000{i}', 1, 'routed', 'A', '001090012345', '+84912345678', 21.0, 105.8, "
                "'gps', 1, 1, '{}', 0, 'collect', 0, '2026-01-01', '2026-01-02', '2026-01-01', 'org:1', "
                f"'k{i}', 'f')"))
    flask("db", "upgrade", "0002")
    with engine.connect() as conn:
        tokens = [row[0] for row in conn.execute(text("SELECT tracking_token FROM dossiers ORDER BY id"))]
    assert len(tokens) == 2 and all(tokens) and tokens[0] != tokens[1]
    flask("db", "upgrade", "heads")
    with engine.connect() as conn:
        columns = [row[1] for row in conn.execute(text("PRAGMA table_info(dossiers)"))]
        hashes = dict(conn.execute(text("SELECT token_hash, dossier_id FROM tracking_links")).all())
        numbers = conn.execute(text("SELECT number, agency_code FROM dossiers ORDER BY id")).all()
    assert "tracking_token" not in columns
    # 0021: the legal numbers are for new dossiers; these keep theirs, in the former format, with no agency code.
    assert [tuple(row) for row in numbers] == [("HN-X1-260101-0001", None), ("HN-X1-260101-0002", None)]
    assert hashes == {hashlib.sha256(token.encode()).hexdigest(): i for i, token in enumerate(tokens, start=1)}
