"""The sandboxes' Alembic branches: applied only where a sandbox is mounted, on PostgreSQL and SQLite.

A new production database gets no sandbox table; a dev database gets them from the branches; a
database that ran the platform's old 0003/0007 (which created them) keeps its tables and rows.
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

import sandboxes
from app import create_app
from core.extensions import db
from tests.conftest import PG_ADMIN_URL, USING_POSTGRES

MIGRATIONS = str(Path(__file__).resolve().parents[2] / "migrations")
REAL_PEERS = {"PAYMENT_GATEWAY_URL": "https://gateway.example/v1", "PAYMENT_WEBHOOK_SECRET": "whsec_real",
              "COURIER_ADAPTER": "http"}
BRANCHES = {"sandbox_gateway_0001", "sandbox_courier_0001"}


def _sandbox_tables() -> set[str]:
    return set(sandboxes.metadata().tables)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    if not USING_POSTGRES:
        pytest.skip("needs PostgreSQL")
    name = f"hanoi_sbx_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield (PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}").replace("postgresql://", "postgresql+psycopg://")
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def _context(url: str, **overrides):
    application = create_app({"SQLALCHEMY_DATABASE_URI": url, "OUTBOX_THREAD": False, **overrides})
    with application.app_context():
        try:
            yield application
        finally:
            db.session.remove()
            db.engine.dispose()


def _state() -> tuple[set[str], set[str]]:
    with db.engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        versions = {row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))}
    return tables, versions


pytestmark = pytest.mark.smoke


def test_a_new_production_database_gets_no_sandbox_table(fresh_url):
    with _context(fresh_url, **REAL_PEERS):
        upgrade(directory=MIGRATIONS, revision="heads")
        tables, versions = _state()
        assert not tables & _sandbox_tables()
        assert len(versions) == 1 and not versions & BRANCHES  # the platform's head only
        with db.engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), db.metadata) == []


def test_a_new_dev_database_gets_the_sandbox_branches(fresh_url):
    with _context(fresh_url):
        upgrade(directory=MIGRATIONS, revision="heads")
        tables, versions = _state()
        assert _sandbox_tables() <= tables
        assert BRANCHES <= versions and len(versions) == 3
        # A branch goes away on its own: its tables with it, the platform's untouched.
        downgrade(directory=MIGRATIONS, revision="sandbox_gateway@base")
        tables, versions = _state()
        assert not any(t.startswith("sandbox_") for t in tables) and "payments" in tables
        assert versions & BRANCHES == {"sandbox_courier_0001"}


def test_each_branch_follows_its_own_sandbox(fresh_url):
    with _context(fresh_url, COURIER_ADAPTER="http"):  # the gateway sandbox only
        upgrade(directory=MIGRATIONS, revision="heads")
        tables, versions = _state()
    assert "sandbox_payment_intents" in tables and "courier_sandbox_shipments" not in tables
    assert versions & BRANCHES == {"sandbox_gateway_0001"}


def test_a_database_that_ran_the_old_0003_and_0007_keeps_its_sandbox_rows(fresh_url):
    # The old chain: the platform's migrations created the sandbox tables, and the sandbox wrote to them.
    with _context(fresh_url, **REAL_PEERS):
        upgrade(directory=MIGRATIONS, revision="heads")
        sandboxes.metadata().create_all(db.engine)  # what the old 0003 and 0007 created
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO sandbox_payment_intents (id, amount, currency, status, client_secret, "
                              "metadata, amount_received, amount_refunded, created) VALUES ('pi_old', 150000, 'vnd', "
                              "'succeeded', 's', '{}', 150000, 0, 1)"))
    # The new code, the sandboxes mounted: the branches adopt the tables as they are.
    with _context(fresh_url):
        upgrade(directory=MIGRATIONS, revision="heads")
        tables, versions = _state()
        assert BRANCHES <= versions
        with db.engine.connect() as conn:
            assert conn.scalar(text("SELECT amount FROM sandbox_payment_intents WHERE id = 'pi_old'")) == 150000
            diff = compare_metadata(MigrationContext.configure(conn), [db.metadata, sandboxes.metadata()])
        assert diff == []
    # The same database later pointed at real peers still upgrades (its recorded branches are found), and
    # the platform's autogenerate proposes no drop of the sandbox tables it keeps.
    with _context(fresh_url, **REAL_PEERS):
        upgrade(directory=MIGRATIONS, revision="heads")
        assert BRANCHES <= _state()[1]
        with db.engine.connect() as conn:
            plain = compare_metadata(MigrationContext.configure(conn), db.metadata)
            filtered = compare_metadata(MigrationContext.configure(
                conn, opts={"include_object": sandboxes.include_object}), db.metadata)
        assert {d[1].name for d in plain if d[0] == "remove_table"} == _sandbox_tables()
        assert filtered == []


def test_the_readmes_flask_db_upgrade_applies_every_branch(tmp_path):
    """``flask db upgrade`` as README and ``make run`` type it: the platform's head and both sandbox branches."""
    import os
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'dev.db'}"
    env = {**os.environ, "FLASK_APP": "wsgi", "DATABASE_URL": url, "INSTANCE_DIR": str(tmp_path), "OUTBOX_THREAD": "0"}
    env.pop("PAYMENT_GATEWAY_URL", None)
    env.pop("COURIER_ADAPTER", None)
    subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=Path(MIGRATIONS).parent, env=env,
                   check=True, capture_output=True, timeout=120)
    with _context(url):
        tables, versions = _state()
    assert BRANCHES <= versions and len(versions) == 3 and _sandbox_tables() <= tables
