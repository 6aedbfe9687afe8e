"""deploy/BACKUP.md's procedure, once, on a throw-away database: dump, drop, restore, the data is there."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest

from tests.conftest import PG_ADMIN_URL

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.postgres


def test_a_dump_restores_into_an_empty_database_with_its_data(database_url, app, tmp_path):
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed (postgresql-client)")
    # The session's migrated database is the one backed up (pg_dump reads a consistent snapshot while
    # others stay connected); the dump is restored into a new, empty database.
    source = database_url.replace("postgresql+psycopg://", "postgresql://")
    name = f"hanoi_backup_{uuid.uuid4().hex[:8]}"
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(source, autocommit=True) as conn:
        conn.execute("INSERT INTO outbox (topic, payload, status, due_at, attempts, created_at) "
                     "VALUES ('backup.check', '{\"hồ sơ\": \"HN-2027-000001\"}', 'pending', now(), 0, now())")
        heads = {row[0] for row in conn.execute("SELECT version_num FROM alembic_version")}
    try:
        dump = subprocess.run([str(ROOT / "deploy" / "pg-backup.sh"), source, str(tmp_path)], capture_output=True,
                              text=True, check=True, timeout=120).stdout.strip()
        assert Path(dump).is_file() and dump.endswith(".dump")
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        restored = subprocess.run([str(ROOT / "deploy" / "pg-restore.sh"), dump, url], capture_output=True,
                                  text=True, check=True, timeout=120)
        assert "restored at migration" in restored.stdout
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT payload->>'hồ sơ' FROM outbox WHERE topic = 'backup.check'").fetchall() \
                == [("HN-2027-000001",)]
            assert {row[0] for row in conn.execute("SELECT version_num FROM alembic_version")} == heads
            assert conn.execute("SELECT count(*) FROM procedures").fetchone()[0] > 0  # the reference data too
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
