"""Dev plugins: the sandbox payment gateway and the sandbox courier (the embedded default's peers).

Each sandbox is a package of its own (``sandboxes.gateway``, ``sandboxes.courier``) with the same
interface as the real thing it stands in for, its own tables (``sandboxes.db.SandboxModel``, not the
platform's metadata) and its own Alembic branch (``<package>/migrations/versions``, branch label
``sandbox_gateway`` / ``sandbox_courier``). A sandbox module provides:

- ``NAME``, ``BRANCH`` (its branch label, also the prefix of its revision ids), ``MIGRATIONS``;
- ``wanted(config)``: whether the configuration asks for it (no real peer configured);
- ``conflicts(config)``: what in the configuration would make it touch production secrets;
- ``mount(app)``: register its routes and hand the platform its adapter.

``init_app`` mounts the wanted sandboxes, and refuses to start (``SandboxRefused``) when one would be
mounted with a production configuration: ``APP_ENV=production``, or a conflict a sandbox reports
(e.g. the sandbox gateway configured to sign with the platform's own ``PAYMENT_WEBHOOK_SECRET``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from types import ModuleType

from flask import Flask
from sqlalchemy import MetaData

from core.settings import is_production

log = logging.getLogger(__name__)



class SandboxRefused(RuntimeError):
    """A sandbox would be mounted with a production configuration: the app does not start."""


def plugins() -> tuple[ModuleType, ...]:
    from sandboxes import courier, gateway

    return gateway, courier


def wanted(config: Mapping) -> list[ModuleType]:
    return [plugin for plugin in plugins() if plugin.wanted(config)]


def problems(config: Mapping) -> list[str]:
    """Why the configuration may not mount the sandboxes it asks for (empty: it may)."""
    found: list[str] = []
    production = is_production(config)
    for plugin in wanted(config):
        if production:
            found.append(f"{plugin.TITLE} would be mounted ({plugin.WHY}) but APP_ENV={config.get('APP_ENV')}")
        found.extend(f"{plugin.TITLE}: {problem}" for problem in plugin.conflicts(config))
    return found


def check(config: Mapping) -> None:
    found = problems(config)
    if found:
        raise SandboxRefused("Refusing to start: a sandbox would run with a production configuration.\n  - "
                             + "\n  - ".join(found)
                             + "\nConfigure the real peers (PAYMENT_GATEWAY_URL, COURIER_ADAPTER=http) in production, "
                               "or give the sandboxes their own secrets (SANDBOX_*_WEBHOOK_SECRET).")


def init_app(app: Flask) -> list[str]:
    """Mount the sandboxes the configuration asks for; returns their names."""
    check(app.config)
    mounted = {}
    for plugin in wanted(app.config):
        plugin.mount(app)
        mounted[plugin.NAME] = plugin
    app.extensions["sandboxes"] = mounted
    if mounted:
        log.info("sandboxes mounted: %s", ", ".join(mounted))
    return list(mounted)


def mounted(app: Flask) -> dict[str, ModuleType]:
    return app.extensions.get("sandboxes", {})


def metadata() -> MetaData:
    """The sandboxes' own metadata, with every sandbox table (for env.py and the schema tests)."""
    import sandboxes.courier.models  # noqa: F401
    import sandboxes.gateway.models  # noqa: F401
    from sandboxes.db import SandboxModel

    return SandboxModel.metadata


def migration_locations(app: Flask) -> list[str]:
    """The version locations of the mounted sandboxes' branches, and of any branch the database
    already records (a dev database switched to a real peer still upgrades: its revisions exist)."""
    recorded = _recorded_revisions(app)
    return [str(plugin.MIGRATIONS) for plugin in plugins()
            if plugin.NAME in mounted(app) or any(rev.startswith(plugin.BRANCH + "_") for rev in recorded)]


def migration_metadata(app: Flask) -> list[MetaData]:
    """What autogenerate compares: the sandboxes' tables only while a sandbox is mounted."""
    return [metadata()] if mounted(app) else []


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's filter for autogenerate: a sandbox table in the database but in no metadata compared
    (no sandbox mounted) is left alone: a database that once ran the old 0003/0007 or the sandbox
    branches keeps it, and dropping it is not the platform's migrations' job."""
    if type_ == "table" and reflected and compare_to is None:
        return name not in metadata().tables
    return True


def _recorded_revisions(app: Flask) -> list[str]:
    from sqlalchemy import inspect, text

    from core.extensions import db

    try:
        with app.app_context(), db.engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return []
            return [row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))]
    except Exception:  # noqa: BLE001 - no database yet: the upgrade itself will say what is wrong
        return []
