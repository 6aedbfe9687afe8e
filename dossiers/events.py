"""What this package tells the others, whoever listens: ``dossiers.status_changed`` and
``dossiers.apologised`` (a late dossier's apology and new date, ``dossiers.apologies``).

The subscribers (the citizen's SMS in ``notify``, the courier's shipment in ``courier``) live in
their own packages and decide there what a move means to them; this package names none of them.
"""

from __future__ import annotations

from datetime import datetime

from core import outbox

STATUS_CHANGED = outbox.declare_event("dossiers.status_changed")
APOLOGISED = outbox.declare_event("dossiers.apologised")


def status_changed(dossier_id: int | None, from_status, to_status, delivery_method, at: datetime,
                   actor_role: str) -> dict:
    """The event's payload, plain values only: ``from_status`` is None when the dossier is registered."""
    return {"dossier_id": dossier_id, "from_status": _value(from_status), "to_status": _value(to_status),
            "delivery_method": _value(delivery_method), "at": at.isoformat(), "actor_role": actor_role}


def _value(value):
    return getattr(value, "value", value)


def apologised(dossier_id: int, apology_id: int, new_deadline: datetime, at: datetime) -> dict:
    """The apology event's payload: which dossier, which apology (one SMS each), the new deadline (UTC)."""
    return {"dossier_id": dossier_id, "apology_id": apology_id, "new_deadline": new_deadline.isoformat(),
            "at": at.isoformat()}
