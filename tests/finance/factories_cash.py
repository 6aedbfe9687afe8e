"""Factories of the cash handover tests: agent points, their agents, cash collected, statements, handovers."""

from __future__ import annotations

import io
from datetime import date, datetime

from core.extensions import db
from core.models import AgentPoint, AgentPointKind
from core.timeutil import LOCAL_TZ
from tests import factories
from tests.factories import auth

CASH_PROCEDURE = "HN-TP-001"  # 200.000 ₫ state fee, collected at the point


def create_point(org, code: str, name: str | None = None, kind: str = "post_office") -> AgentPoint:
    point = db.session.query(AgentPoint).filter_by(code=code).one_or_none()
    if point is None:
        point = AgentPoint(organisation_id=org.id, code=code, name=name or f"Bưu cục {code}",
                           kind=AgentPointKind(kind), address="Hà Nội", is_active=True)
        db.session.add(point)
        db.session.commit()
    return point


def point_agent(org, point: AgentPoint, email: str):
    """An agent user of ``point`` (its dossiers carry the point) and a bearer key of that user."""
    user = factories.create_user(role="agent", email=email, org=org)
    user.agent_point_id = point.id
    db.session.commit()
    return user, factories.user_key(user)


def collect_cash(client, key: str, clock=None, at: datetime | None = None) -> dict:
    """A dossier registered and paid in cash (at ``at``, Hanoi time, when given): its payment JSON."""
    if at is not None:
        clock.set(at)
    number = factories.create_dossier(client, key, procedure_code=CASH_PROCEDURE)["number"]
    paid = client.post(f"/api/v1/dossiers/{number}/payment/cash", headers=auth(key))
    assert paid.status_code == 200, paid.get_json()
    return {"number": number, **paid.get_json()}


def hanoi(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LOCAL_TZ)


def handover_body(organisation: str = "VNPOST-HN", agent_point: str | None = "BC-HK", amount: int = 200_000,
                  on: date = date(2026, 3, 10), method: str = "bank_deposit", reference: str = "FT26069000001",
                  received_by: str = "Kế toán Trần Thị Bình", **extra) -> dict:
    body = {"organisation": organisation, "agent_point": agent_point, "amount_vnd": amount,
            "handed_over_on": on.isoformat(), "method": method, "reference": reference,
            "received_by": received_by, **extra}
    return body


def statement(*lines: tuple[str, str, int, str]) -> bytes:
    """A bank statement CSV of credit lines (booked, bank reference, amount, description)."""
    rows = ["Ngày giao dịch;Số tham chiếu;Ghi nợ;Ghi có;Nội dung"]
    rows += [f"{day};{ref};0;{amount:,};{text}".replace(",", ".") for day, ref, amount, text in lines]
    return ("\ufeff" + "\n".join(rows) + "\n").encode()


def import_statement(client, key: str, data: bytes, name: str = "saoke.csv"):
    return client.post("/api/v1/finance/bank-statements", headers=auth(key),
                       data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")
