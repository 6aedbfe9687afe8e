"""The dossier state machine: which status may follow which, and who may move it.

Pure data and functions, no database. Statuses follow the centre's process:
received by an agent → routed to a service point → accepted by the branch →
processing (with supplement requests) → result ready → returned by courier
(out for delivery → delivered) or collected at the point → closed. A dossier can
be rejected (refusal form) by the branch, or cancelled before acceptance.
"""

from __future__ import annotations

from core.roles import Role
from dossiers.enums import DeliveryMethod, Status

S = Status

TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.RECEIVED: frozenset({S.ROUTED, S.REJECTED, S.CANCELLED}),
    S.ROUTED: frozenset({S.ACCEPTED, S.REJECTED, S.CANCELLED}),
    S.ACCEPTED: frozenset({S.PROCESSING, S.SUPPLEMENT_REQUESTED, S.REJECTED}),
    S.PROCESSING: frozenset({S.SUPPLEMENT_REQUESTED, S.RESULT_READY, S.REJECTED}),
    S.SUPPLEMENT_REQUESTED: frozenset({S.PROCESSING, S.REJECTED, S.CANCELLED}),
    S.RESULT_READY: frozenset({S.OUT_FOR_DELIVERY, S.COLLECTED}),
    S.OUT_FOR_DELIVERY: frozenset({S.DELIVERED, S.RESULT_READY}),  # back after a failed attempt
    S.DELIVERED: frozenset({S.CLOSED}),
    S.COLLECTED: frozenset({S.CLOSED}),
    S.REJECTED: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
    S.CANCELLED: frozenset(),
}

TERMINAL = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)

# Statuses in which an agent may still attach documents.
DOCUMENTS_OPEN = frozenset({S.RECEIVED, S.ROUTED, S.ACCEPTED, S.PROCESSING, S.SUPPLEMENT_REQUESTED})

# Moves an agent (or its organisation's system) may make on its own dossiers.
AGENT_MOVES = frozenset({S.CANCELLED})
# Moves that need a reason written down.
REASON_REQUIRED = frozenset({S.REJECTED, S.CANCELLED, S.SUPPLEMENT_REQUESTED})


def allowed_next(current: Status, delivery: DeliveryMethod | None = None) -> list[Status]:
    """Statuses reachable from ``current``, in a stable order; delivery narrows the return."""
    nxt = set(TRANSITIONS[current])
    if delivery is DeliveryMethod.COLLECT:
        nxt.discard(S.OUT_FOR_DELIVERY)
    elif delivery is DeliveryMethod.COURIER:
        nxt.discard(S.COLLECTED)
    return [s for s in Status if s in nxt]


def may_move(role: Role, target: Status) -> bool:
    if role in (Role.BRANCH_OFFICER, Role.ADMIN):
        return True
    if role is Role.AGENT:
        return target in AGENT_MOVES
    return False
