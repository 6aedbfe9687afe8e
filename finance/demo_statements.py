"""Demo data: one issued statement in the demo month (``flask demo load``).

The agent point that registered the most dossiers gets its statement for the month's first half
(up to yesterday, if the month is younger), issued by finance: numbered, signed, frozen, with its
PDF and XLSX. Safe to run twice: a period already issued for the point is left as it is.
"""

from __future__ import annotations

from datetime import date, timedelta

from core.accounts import Principal
from core.roles import Role
from finance import statement_queries as q
from finance import statements
from finance.queue import local_today
from finance.treasury import Period

DEMO_FINANCE = Principal(role=Role.FINANCE, api_key_id=0, label="demo:taichinh@demo.hanoi.vn")


def seed_demo(month_start: date) -> dict:
    end = min(month_start + timedelta(days=14), local_today() - timedelta(days=1))
    if end < month_start:
        return {"issued": None}
    when = Period(month_start, end)
    scope = q.busiest_point(when)
    if scope is None:
        return {"issued": None}
    if q.overlapping(scope, when):
        return {"issued": None, "already": [statements.number_text(s) for s in q.overlapping(scope, when)]}
    done = statements.issue(DEMO_FINANCE, scope, when)
    return {"issued": done["number"], "agent_point": scope.code}
