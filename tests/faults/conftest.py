"""Fixtures of the fault tests: a private PostgreSQL and a private Redis that a test may kill and restart."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.faults.servers import PrivatePostgres, PrivateRedis


@pytest.fixture(scope="session")
def private_postgres():
    if os.geteuid() != 0:
        pytest.skip("a private PostgreSQL needs root (initdb runs as the postgres user)")
    try:
        server = PrivatePostgres()
    except (FileNotFoundError, KeyError) as exc:
        pytest.skip(f"no PostgreSQL server binaries: {exc}")
    try:
        server.start()
        yield server
    finally:
        server.remove()


@pytest.fixture
def private_redis(tmp_path_factory):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = PrivateRedis(tmp_path_factory.mktemp("private-redis"))
    server.start()
    yield server
    server.kill()


@pytest.fixture(scope="session")
def fault_db_url(private_postgres):
    """A database on the private PostgreSQL, built by the migrations, with the reference data."""
    import psycopg
    from flask_migrate import upgrade

    from app import create_app
    from core.extensions import db
    from tests import factories

    with psycopg.connect(private_postgres.admin_url, autocommit=True) as conn:
        conn.execute('CREATE DATABASE "faults"')
    url = private_postgres.url("faults")
    builder = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "OUTBOX_THREAD": False})
    with builder.app_context():
        upgrade(directory=str(Path(__file__).resolve().parents[2] / "migrations"), revision="heads")
        factories.load_reference_data()
        db.engine.dispose()
    return url


@pytest.fixture
def fault_app(fault_db_url, tmp_path):
    """The app on the private PostgreSQL (its engine options are the production ones: core.config.engine_options)."""
    from sqlalchemy import text

    from app import create_app
    from core.extensions import db
    from tests.conftest import REFERENCE_TABLES

    os.environ.pop("DATABASE_URL", None)
    application = create_app({"SQLALCHEMY_DATABASE_URI": fault_db_url, "TESTING": True, "OUTBOX_THREAD": False,
                              "DOCUMENT_STORAGE_DIR": str(tmp_path / "documents"), "ROUTING_LOADS_TTL_S": 0})
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
        tables = [t for t in db.inspect(db.engine).get_table_names() if t not in REFERENCE_TABLES]
        db.session.execute(text(f"TRUNCATE {', '.join(tables)} CASCADE"))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
