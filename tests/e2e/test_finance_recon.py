"""Finance staff reconcile the gateway from the page in Chromium: run a period like the demo month's (card
payments, one charged at another amount at the gateway, one charge nobody made here), read the summary
per class, open an item from it in the queue, try to resolve it without a reason (refused in Vietnamese,
nothing changes), then resolve it with one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from core.extensions import db
from core.timeutil import to_local, utcnow
from finance.models import ExceptionKind, ExceptionStatus, FinanceException, FinanceExceptionAction
from finance.recon_models import ReconciliationRun
from tests import factories
from tests.finance.factories_recon import inject, paid_by_card

pytestmark = pytest.mark.smoke
EMAIL = "doisoat.e2e@test.vn"
REASON = "Cổng thanh toán ghi nhầm số tiền, đã có thư xác nhận của ngân hàng ngày 02/12"


def test_finance_reconciles_from_the_page_and_resolves_an_item_with_a_reason(app, client, agent_key, browser,
                                                                             live_server, shoot):
    with app.app_context():
        factories.create_user(role="finance", email=EMAIL)
    paid = [paid_by_card(app, client, agent_key) for _ in range(3)]
    inject(app, "change_amount", paid[1]["intent"], paid[1]["amount"] + 10_000)
    inject(app, "orphan_charge", 185_000)
    today = to_local(utcnow()).date()

    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="vi-VN")
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto(f"{live_server}/finance/reconciliation")
        page.get_by_label("Email").fill(EMAIL)
        page.get_by_label("Mật khẩu").fill("correct horse battery staple")
        page.get_by_role("button", name="Đăng nhập").click()
        expect(page.get_by_role("heading", name="Đối soát cổng thanh toán")).to_be_visible()

        page.get_by_label("Từ ngày").fill((today - timedelta(days=6)).isoformat())
        page.get_by_label("Đến ngày (bao gồm)").fill(today.isoformat())
        page.get_by_role("button", name="Đối soát kỳ này").click()
        expect(page.get_by_text("Đã đối soát lượt")).to_be_visible()

        # The summary per class: the amount that differs and the charge missing in our ledger, one each.
        runs = page.locator("#run-table")
        expect(runs.locator("tbody tr")).to_have_count(1)
        summary = runs.locator("tbody tr").first
        expect(summary).to_contain_text("Số tiền chênh lệch: 1 (1)")
        with app.app_context():
            run = db.session.scalars(select(ReconciliationRun)).one()
            assert run.status == "succeeded" and run.actor == f"user:{EMAIL}"
            assert {k: n for k, n in run.counts["found"].items() if n} == {"amount_mismatch": 1,
                                                                           "missing_in_ledger": 1}
            item = db.session.scalars(select(FinanceException).where(
                FinanceException.kind == ExceptionKind.AMOUNT_MISMATCH)).one()
        shoot(page, "finance-recon-run-summary")

        # From the summary to the queue, filtered to that class, and on to the item.
        summary.get_by_role("link", name="Số tiền chênh lệch").click()
        expect(page.get_by_role("heading", name="Hàng đợi chênh lệch")).to_be_visible()
        queue = page.locator("#queue")
        expect(queue.locator("tbody tr")).to_have_count(1)
        queue.locator(f'a[href="/finance/exceptions/{item.id}"]').first.click()
        expect(page.get_by_role("heading", name=f"Mục chênh lệch số {item.id}: Số tiền chênh lệch")).to_be_visible()
        expect(page.locator("#item-status")).to_have_text("Mở")

        # Without a reason: refused in Vietnamese, nothing changes.
        page.get_by_role("button", name="Ghi nhận giải trình").click()
        expect(page.locator("#action-error")).to_have_text("Hãy ghi lý do của thao tác này.")
        expect(page.locator("#explain-reason-error")).to_have_text("Hãy ghi lý do của thao tác này.")
        expect(page.locator("#item-status")).to_have_text("Mở")
        with app.app_context():
            assert db.session.get(FinanceException, item.id).status is ExceptionStatus.OPEN
            actions = db.session.scalars(select(FinanceExceptionAction.action).where(
                FinanceExceptionAction.exception_id == item.id)).all()
            assert [a.value for a in actions] == ["detected"]

        # With a reason: resolved, in the history with who did it.
        page.locator("#explain-reason").fill(REASON)
        page.get_by_role("button", name="Ghi nhận giải trình").click()
        expect(page.locator("#item-status")).to_have_text("Đã xử lý")
        history = page.locator("#history")
        expect(history).to_contain_text(REASON)
        expect(history).to_contain_text(f"user:{EMAIL}")
        shoot(page, "finance-recon-item-resolved")
        with app.app_context():
            resolved = db.session.get(FinanceException, item.id)
            assert resolved.status is ExceptionStatus.RESOLVED
            assert resolved.amount_vnd == 10_000
    finally:
        context.close()
