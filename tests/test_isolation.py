"""Tests start from the reference data alone: every other table is emptied after each test."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from core.extensions import db
from tests.conftest import REFERENCE_TABLES

pytestmark = pytest.mark.smoke


def test_every_model_table_but_the_reference_ones_is_cleaned(app, mutable_tables):
    assert set(db.metadata.tables) - REFERENCE_TABLES <= set(mutable_tables)
    assert not REFERENCE_TABLES & set(mutable_tables)


def test_only_the_reference_tables_hold_rows_when_a_test_starts(app, mutable_tables):
    with app.app_context():
        rows = {t: db.session.scalar(text(f"SELECT count(*) FROM {t}"))  # noqa: S608 - table names from the schema
                for t in [*mutable_tables, *REFERENCE_TABLES]}
    assert [t for t in mutable_tables if rows[t]] == []
    assert rows["service_points"] >= 159 and rows["procedures"] > 0  # factories.load_reference_data


def test_a_row_written_by_one_test(client, agent_key):
    from tests.factories import create_dossier

    create_dossier(client, agent_key)


def test_is_gone_in_the_next(app, mutable_tables):
    with app.app_context():
        assert db.session.scalar(text("SELECT count(*) FROM dossiers")) == 0
        assert db.session.scalar(text("SELECT count(*) FROM organisations")) == 0
