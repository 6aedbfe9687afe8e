"""A reconciliation period that ends before it starts is refused, in Vietnamese and English, and changes
nothing: the command line says so as a usage error (exit code 2), the API in the one problem format."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.extensions import db
from finance.models import FinanceException, FinanceExceptionAction
from finance.recon_models import GatewayPayout, GatewayTransaction, ReconciliationRun
from tests import factories
from tests.factories import auth
from tests.finance.factories_recon import paid_by_card, period

COUNTED = (ReconciliationRun, FinanceException, FinanceExceptionAction, GatewayTransaction, GatewayPayout)


@pytest.fixture
def finance_key(app):
    with app.app_context():
        return factories.user_key(factories.create_user(role="finance", email="taichinh@test.vn"))


def _counts(app) -> dict[str, int]:
    with app.app_context():
        return {model.__tablename__: db.session.scalar(select(func.count()).select_from(model)) for model in COUNTED}


def test_cli_refuses_a_period_ending_before_it_starts_as_a_usage_error(app, client, agent_key):
    paid_by_card(app, client, agent_key)  # something the gateway has, that a run would fetch and queue
    start, end = period()
    before = _counts(app)
    result = app.test_cli_runner().invoke(args=["finance", "reconcile", "--from", end.isoformat(),
                                                "--to", (start - timedelta(days=1)).isoformat()])
    assert result.exit_code == 2, result.output
    assert "--to" in result.output
    assert "trước khi bắt đầu" in result.output and "before it starts" in result.output
    assert "Run " not in result.output  # no summary: nothing ran
    assert _counts(app) == before
    # The same command with the period the right way round runs.
    ok = app.test_cli_runner().invoke(args=["finance", "reconcile", "--from", start.isoformat(),
                                            "--to", end.isoformat()])
    assert ok.exit_code == 0, ok.output
    assert _counts(app)["finance_reconciliation_runs"] == before["finance_reconciliation_runs"] + 1


def test_cli_refuses_a_malformed_day_as_a_usage_error(app):
    result = app.test_cli_runner().invoke(args=["finance", "reconcile", "--from", "2026-13-01", "--to", "2026-12-01"])
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output
    assert _counts(app)["finance_reconciliation_runs"] == 0


def test_api_refuses_a_period_ending_before_it_starts_in_the_one_problem_format(app, client, agent_key, finance_key):
    paid_by_card(app, client, agent_key)
    start, end = period()
    before = _counts(app)
    bad = client.post("/api/v1/finance/reconciliation/runs",
                      json={"from": end.isoformat(), "to": (start - timedelta(days=1)).isoformat()},
                      headers=auth(finance_key))
    assert bad.status_code == 422
    assert bad.headers["Content-Type"].startswith("application/problem+json")
    problem = bad.get_json()
    assert problem["code"] == "validation_error"
    assert "trước khi bắt đầu" in problem["detail_vi"] and "before it starts" in problem["detail_en"]
    assert _counts(app) == before
    missing = client.post("/api/v1/finance/reconciliation/runs", json={"from": start.isoformat()},
                          headers=auth(finance_key))
    assert missing.status_code == 422 and missing.headers["Content-Type"].startswith("application/problem+json")
    assert _counts(app) == before
