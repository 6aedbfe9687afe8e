"""Migrations: one head per branch, built from empty by the fixtures, and in step with the models."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

import sandboxes
from core.extensions import db

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

pytestmark = pytest.mark.smoke


def _heads(*extra: Path) -> list[str]:
    config = Config(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(str(p) for p in (MIGRATIONS / "versions", *extra)))
    return sorted(ScriptDirectory.from_config(config).get_heads())


def test_one_head_for_the_platform_and_one_per_sandbox_branch():
    from sandboxes import courier, gateway

    assert len(_heads()) == 1
    platform = _heads()[0]
    assert _heads(gateway.MIGRATIONS, courier.MIGRATIONS) == sorted([platform, "sandbox_gateway_0001",
                                                                      "sandbox_courier_0001"])


def test_models_match_the_migrated_schema(app):
    """The database the migrations built (from empty, in the app fixture, both sandboxes mounted) has
    what the platform's models and the sandboxes' models say."""
    assert set(sandboxes.mounted(app)) == {"gateway", "courier"}
    with app.app_context(), db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), [db.metadata, sandboxes.metadata()])
    assert diff == []
