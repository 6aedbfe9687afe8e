"""The sandbox courier: the embedded default's carrier, with the real adapters' interface
(``courier.adapters.base.CourierAdapter``; adapter.py), its own tables and migration branch.

Mounted only while ``COURIER_ADAPTER`` is ``sandbox``: it hands the platform a factory for its
adapter under that name (``courier.adapters.build`` looks it up in ``courier_adapter_factories``).
It verifies pushed webhooks with its own ``SANDBOX_COURIER_WEBHOOK_SECRET``, never the carrier's.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from flask import Flask

NAME = "courier"
TITLE = "the sandbox courier"
WHY = "COURIER_ADAPTER=sandbox"
BRANCH = "sandbox_courier"
MIGRATIONS = Path(__file__).resolve().parent / "migrations" / "versions"
DEFAULT_WEBHOOK_SECRET = "cwhsec_sandbox"  # noqa: S105 - the sandbox's published test secret


def wanted(config: Mapping) -> bool:
    return config.get("COURIER_ADAPTER", "sandbox") == "sandbox"


def conflicts(config: Mapping) -> list[str]:
    own, carrier = config.get("SANDBOX_COURIER_WEBHOOK_SECRET") or "", config.get("COURIER_WEBHOOK_SECRET") or ""
    if own and own == carrier and own != DEFAULT_WEBHOOK_SECRET:
        return ["SANDBOX_COURIER_WEBHOOK_SECRET equals COURIER_WEBHOOK_SECRET: the sandbox would accept pushes "
                "signed with the carrier's production secret"]
    return []


def build(config: Mapping):
    """The sandbox courier adapter for ``config``, on the platform's database engine and courier clock."""
    from core.extensions import db
    from courier.clock import now
    from sandboxes.courier.adapter import SandboxCourier

    return SandboxCourier(lambda: db.engine, clock=now,
                          failure_rate=float(config.get("SANDBOX_COURIER_FAILURE_RATE", 0.15)),
                          webhook_secret=config.get("SANDBOX_COURIER_WEBHOOK_SECRET") or DEFAULT_WEBHOOK_SECRET,
                          tolerance_s=int(config.get("COURIER_WEBHOOK_TOLERANCE_S", 300)))


def mount(app: Flask) -> None:
    import sandboxes.courier.models  # noqa: F401 - the sandbox's tables

    app.extensions.setdefault("courier_adapter_factories", {})["sandbox"] = build
