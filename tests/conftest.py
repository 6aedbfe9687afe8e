"""Test set-up: a real database built by running the migrations.

``TEST_DATABASE=postgres`` (the default) uses a fresh PostgreSQL database on
127.0.0.1:5432; when PostgreSQL is not reachable the suite falls back to SQLite
and skips the tests marked ``postgres``, saying so, except under ``CI=true``,
where that is an error. ``TEST_DATABASE=sqlite`` is the embedded-default smoke run.

Redis (``TEST_REDIS_URL``, default 127.0.0.1:6379 database 15) is handled the same way:
tests marked ``redis`` are skipped, saying so, when it is unreachable, and under ``CI=true``
a run that selected any of them fails instead.
"""

from __future__ import annotations

import os
import time
import uuid
from datetime import datetime
from pathlib import Path

import psycopg
import pytest
import redis
from flask_migrate import upgrade
from sqlalchemy import MetaData, text
from sqlalchemy.exc import OperationalError

from app import create_app
from core.extensions import db
from core.timeutil import LOCAL_TZ, FrozenClock, use_clock
from tests import factories

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
WANTED = os.environ.get("TEST_DATABASE", "postgres")
IN_CI = os.environ.get("CI", "").lower() == "true"
REDIS_TEST_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
# Filled once per session (the migrations, factories.load_reference_data) and kept for every test;
# every other table the migrations made is emptied after each test (``mutable_tables``).
REFERENCE_TABLES = frozenset({"alembic_version", "service_points", "procedures", "reference_versions"})


def _postgres_reachable() -> str | None:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0]


def _redis_reachable() -> str | None:
    try:
        redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=2, socket_timeout=2).ping()
        return None
    except redis.RedisError as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


_PG_PROBLEM = _postgres_reachable() if WANTED == "postgres" else "not requested (TEST_DATABASE=sqlite)"
USING_POSTGRES = WANTED == "postgres" and _PG_PROBLEM is None
_REDIS_PROBLEM = _redis_reachable()
USING_REDIS = _REDIS_PROBLEM is None


def pytest_sessionstart(session):
    if WANTED == "postgres" and not USING_POSTGRES and IN_CI:
        pytest.exit(f"CI=true but PostgreSQL is not reachable ({_PG_PROBLEM}): nothing may be skipped in CI",
                    returncode=1)


def pytest_report_header(config):
    if USING_POSTGRES:
        database = "database: PostgreSQL (fresh database, built by the Alembic migrations)"
    elif WANTED == "sqlite":
        database = "database: embedded SQLite (the smoke run of the embedded default)"
    else:
        database = (f"database: embedded SQLite — PostgreSQL unreachable ({_PG_PROBLEM}); "
                    "tests marked 'postgres' are SKIPPED in this run")
    if USING_REDIS:
        queues = f"redis: {REDIS_TEST_URL} (tests marked 'redis' relay to rq and run an rq worker)"
    else:
        queues = f"redis: unreachable at {REDIS_TEST_URL} ({_REDIS_PROBLEM}); tests marked 'redis' are SKIPPED"
    return [database, queues]


def pytest_collection_modifyitems(config, items):
    if not USING_POSTGRES:
        skip = pytest.mark.skip(reason=f"needs PostgreSQL: {_PG_PROBLEM}")
        for item in items:
            if "postgres" in item.keywords:
                item.add_marker(skip)
    if not USING_REDIS:
        skip = pytest.mark.skip(reason=f"needs Redis at {REDIS_TEST_URL}: {_REDIS_PROBLEM}")
        for item in items:
            if "redis" in item.keywords:
                item.add_marker(skip)


def pytest_collection_finish(session):
    # After -m/-k deselection: only a run that selected Redis tests needs Redis.
    if IN_CI and not USING_REDIS and any("redis" in item.keywords for item in session.items):
        pytest.exit(f"CI=true but Redis is not reachable at {REDIS_TEST_URL} ({_REDIS_PROBLEM}): "
                    "nothing may be skipped in CI", returncode=1)


@pytest.fixture(scope="session")
def redis_url():
    """The Redis the tests may use (tests keep to their own key namespace and clean it up)."""
    if not USING_REDIS:
        pytest.skip(f"needs Redis at {REDIS_TEST_URL}: {_REDIS_PROBLEM}")
    return REDIS_TEST_URL


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if not USING_POSTGRES:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    name = f"hanoi_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    os.environ.pop("DATABASE_URL", None)
    application = create_app({
        "SQLALCHEMY_DATABASE_URI": database_url.replace("postgresql://", "postgresql+psycopg://"),
        "DOCUMENT_STORAGE_DIR": str(tmp_path_factory.mktemp("documents")),
        "TESTING": True,
        "ROUTING_LOADS_TTL_S": 0,
        "OUTBOX_THREAD": False,  # the tests run due outbox messages themselves (core.outbox.run_due)
        # The platform's own secret differs from the mounted sandbox's (SANDBOX_GATEWAY_WEBHOOK_SECRET): the
        # receiver accepts both, as in development.
        "PAYMENT_WEBHOOK_SECRET": "whsec_test_platform",
    })
    with application.app_context():
        upgrade(directory=str(Path(__file__).resolve().parent.parent / "migrations"), revision="heads")
        factories.load_reference_data()
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def mutable_tables(app) -> list[str]:
    """Every table in the migrated database but the reference ones, children first (the order SQLite
    deletes in), read from SQLAlchemy's reflection of the schema: a new table is cleaned without a list to edit."""
    with app.app_context():
        schema = MetaData()
        schema.reflect(bind=db.engine)
    missing = REFERENCE_TABLES - set(schema.tables)
    assert not missing, f"reference tables not in the database (renamed?): {sorted(missing)}"
    mutable = [t.name for t in reversed(schema.sorted_tables) if t.name not in REFERENCE_TABLES]
    # TRUNCATE … CASCADE empties the tables that refer to the ones named: never the reference data.
    refer = {(name, fk.column.table.name) for name in REFERENCE_TABLES for fk in schema.tables[name].foreign_keys}
    assert not [pair for pair in refer if pair[1] in mutable], f"reference data refers to test data: {refer}"
    return mutable


def _tables_with_rows(tables: list[str]) -> list[str]:
    """The tables of ``tables`` that hold a row, in one query (most tests write to a few tables only)."""
    probe = " UNION ALL ".join(f"SELECT '{t}' WHERE EXISTS (SELECT 1 FROM {t})" for t in tables)  # noqa: S608
    found = {row[0] for row in db.session.execute(text(probe))}
    return [t for t in tables if t in found]


@pytest.fixture(autouse=True)
def _clean_tables(request):
    uses_app = "app" in request.fixturenames
    tables = request.getfixturevalue("mutable_tables") if uses_app else None  # before the test, not in teardown
    yield
    if "app" not in request.fixturenames:
        return
    application = request.getfixturevalue("app")
    tables = tables or request.getfixturevalue("mutable_tables")  # the app was asked for only during the test
    from core import sign_in_guard

    sign_in_guard.reset(application)  # failed sign-ins are counted per IP: every test starts afresh
    with application.app_context():
        # A browser test's live server may still be finishing a request (a retry the page sent as the
        # test ended): its locks can deadlock with TRUNCATE, which PostgreSQL breaks by failing one side.
        for attempt in range(3):
            db.session.rollback()
            try:
                written = _tables_with_rows(tables)
                if not written:
                    return
                if USING_POSTGRES:  # TRUNCATE: the ledger's append-only triggers refuse DELETE, as they should
                    db.session.execute(text(f"TRUNCATE {', '.join(written)} CASCADE"))
                else:
                    for table in written:
                        db.session.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - fixed table names
                db.session.commit()
                return
            except OperationalError:
                if attempt == 2:
                    raise
                time.sleep(0.5)


# The instant the ``clock`` fixture starts at: Tuesday 10 March 2026, 09:00 in Hanoi, a working day
# (no public holiday) inside every demo point's office hours, so routing sees the network open.
OFFICE_MORNING = datetime(2026, 3, 10, 9, 0, tzinfo=LOCAL_TZ)


@pytest.fixture
def clock():
    """The platform's clock (core.timeutil.utcnow) frozen at OFFICE_MORNING for this test.

    ``clock.set(at)`` and ``clock.advance(minutes=5)`` move it; the system clock is back afterwards.
    Tests whose outcome depends on the time of day (routing by opening hours, deadlines, due times)
    use it, so they do not pass or fail with the hour in Hanoi.
    """
    frozen = FrozenClock(OFFICE_MORNING)
    previous = use_clock(frozen)
    yield frozen
    use_clock(previous)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield


@pytest.fixture
def agent_key(app):
    """A bearer key of the postal agent organisation."""
    with app.app_context():
        return factories.org_key(factories.create_org())


@pytest.fixture
def other_agent_key(app):
    with app.app_context():
        return factories.org_key(factories.create_org(code="HNTECH", kind="technology"))


@pytest.fixture
def officer_key(app):
    """A branch officer with no fixed point (sees every dossier)."""
    with app.app_context():
        return factories.user_key(factories.create_user(role="branch_officer"))
