"""Helpers of the agent statements' tests: two post offices of one organisation, paid by every method."""

from __future__ import annotations

import io
from itertools import count

import pytest
from sqlalchemy import select

from core.extensions import db
from payments.models import LedgerTransaction, Payment, Refund
from tests import factories
from tests.factories import auth
from tests.finance.factories_cash import create_point, hanoi, point_agent, statement
from tests.payments.conftest import card, pay

API = "/api/v1/finance/statements"
PROCEDURE = "HN-TP-001"  # 200.000 ₫ state fee
_refs = count(1)


@pytest.fixture
def points(app, clock):
    """VNPOST-HN (flat 20.000 ₫ service fee) with the post offices BC-HK and BC-BD, HNTECH; finance staff."""
    with app.app_context():
        org = factories.create_org()
        factories.create_org(code="HNTECH", kind="technology")
        hk = create_point(org, "BC-HK", "Bưu cục Hoàn Kiếm")
        bd = create_point(org, "BC-BD", "Bưu cục Ba Đình")
        _user, hk_key = point_agent(org, hk, "hoankiem@test.vn")
        _user, bd_key = point_agent(org, bd, "badinh@test.vn")
        finance = factories.user_key(factories.create_user(role="finance", email="ketoan.bk@test.vn"))
        org_key = factories.org_key(org)
    client = app.test_client()
    rule = client.post("/api/v1/organisations/VNPOST-HN/fee-rules", json={"effective_from": "2026-01-01",
                                                                           "flat_vnd": 20_000}, headers=auth(finance))
    assert rule.status_code == 201, rule.get_json()
    return {"hk": hk_key, "bd": bd_key, "finance": finance, "org": org_key}


def register(client, key: str) -> str:
    return factories.create_dossier(client, key, procedure_code=PROCEDURE)["number"]


def pay_cash(client, key: str) -> str:
    number = register(client, key)
    paid = client.post(f"/api/v1/dossiers/{number}/payment/cash", headers=auth(key))
    assert paid.status_code == 200, paid.get_json()
    return number


def pay_card(client, key: str) -> str:
    number = register(client, key)
    assert pay(client, key, number).status_code == 200
    paid = card(client, key, number, attempt_key=f"attempt-{number}")
    assert paid.status_code == 200, paid.get_json()
    return number


def pay_vietqr(client, key: str, finance_key: str, at) -> str:
    number = register(client, key)
    shown = pay(client, key, number, "vietqr").get_json()
    ref = f"FT{next(_refs):09d}"
    data = statement((at.strftime("%d/%m/%Y %H:%M:%S"), ref, shown["amount_vnd"],
                      f"MBVCB.{shown['vietqr']['reference']}.CT"))
    upload = client.post("/api/v1/finance/bank-statements", headers=auth(finance_key),
                         data={"file": (io.BytesIO(data), f"saoke-{ref}.csv")}, content_type="multipart/form-data")
    assert upload.status_code == 201 and upload.get_json()["summary"]["matched"] == 1, upload.get_json()
    return number


def refund(client, finance_key: str, number: str, amount: int | None) -> None:
    answer = client.post(f"/api/v1/dossiers/{number}/refunds", json={"reason": "Hồ sơ hủy", "amount_vnd": amount},
                         headers=auth(finance_key, **{"Idempotency-Key": f"refund-{number}-{amount}"}))
    assert answer.status_code == 201, answer.get_json()


def ledger_ids(app) -> set[int]:
    """Every payment and refund transaction in the ledger."""
    with app.app_context():
        return set(db.session.scalars(select(LedgerTransaction.id).where(
            LedgerTransaction.kind.in_(("payment", "refund")))))


def money_in(app) -> int:
    """Every đồng paid, less every đồng refunded, from the payments and refunds themselves."""
    with app.app_context():
        paid = sum(int(p.amount_vnd) for p in db.session.scalars(select(Payment).where(Payment.paid_at.is_not(None))))
        back = sum(int(r.amount_vnd) for r in db.session.scalars(select(Refund).where(Refund.status == "succeeded")))
        return paid - back


__all__ = ["API", "hanoi", "points", "register", "pay_cash", "pay_card", "pay_vietqr", "refund", "ledger_ids",
           "money_in"]
