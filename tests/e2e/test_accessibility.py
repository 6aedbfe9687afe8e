"""axe-core (bundled by axe-playwright-python, no CDN) on every page type, in Chromium: 0 violations.
Also: no page asks for anything that is not there (the favicon included)."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from sqlalchemy import select

from core.extensions import db
from tests import factories
from tests.e2e.conftest import SIZES
from tests.factories import auth, create_dossier

pytestmark = pytest.mark.smoke
PASSWORD = "correct horse battery staple"
AXE = Axe()


@pytest.fixture
def site(app, client, agent_key):
    """A paid dossier (its receipt and tracking link), and one user per role (the branch officer at the
    dossier's point)."""
    from dossiers.models import Dossier
    from tracking import service as tracking

    with app.app_context():
        org = factories.create_org()
        factories.create_user("agent", email="lan@test.vn", org=org)
        factories.create_user("finance", email="taichinh@test.vn")
        factories.create_user("admin", email="quantri@test.vn")
    number = create_dossier(client, agent_key, procedure_code="HN-TP-001")["number"]
    client.post(f"/api/v1/dossiers/{number}/payment", json={"method": "card"}, headers=auth(agent_key))
    paid = client.post(f"/api/v1/dossiers/{number}/payment/card",
                       json={"payment_method": "pm_card_visa", "attempt_key": "attempt-0001"},
                       headers=auth(agent_key)).get_json()
    assert paid["status"] == "paid", paid
    with app.app_context():
        from geo import service as geo

        dossier = db.session.scalar(select(Dossier).where(Dossier.number == number))
        dossier_id = dossier.id
        tracking_path = "/t/" + tracking.share_link(dossier_id, "sms").rsplit("/", 1)[1]
        factories.create_user("branch_officer", email="canbo@test.vn",
                              service_point_code=geo.point_by_id(dossier.service_point_id).code)
        factories.create_user("leadership", email="lanhdao@test.vn")
    receipt_path = "/" + paid["receipts"][0]["url"].split("://", 1)[1].split("/", 1)[1]
    return {"number": number, "tracking": tracking_path, "receipt": receipt_path}


def _page(browser, live_server, size: str, email: str | None):
    width, height = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height})
    context.set_default_timeout(15000)
    page = context.new_page()
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 and "/nope" not in r.url else None)
    if email:
        page.goto(f"{live_server}/login")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Mật khẩu").fill(PASSWORD)
        page.get_by_role("button", name="Đăng nhập").click()
        page.wait_for_load_state("networkidle")
    return context, page, missing


def _check(page, url: str) -> list[str]:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    results = AXE.run(page)
    return [f"{url}: {v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"]]


PAGES = {
    None: ["/login", "{receipt}", "{receipt}/print", "{tracking}", "/nope-404"],
    "lan@test.vn": ["/portal", "/portal/dossiers/{number}/receipt", "/portal/new", "/portal/dossiers/{number}/pay"],
    "taichinh@test.vn": ["/finance", "/finance/dossiers/{number}", "/coverage"],
    "quantri@test.vn": ["/staff", "/admin", "/admin/points", "/admin/users", "/admin/keys", "/admin/audit"],
    "canbo@test.vn": ["/branch", "/branch/dossiers/{number}", "/branch/dossiers/{number}/forms/receipt",
                      "/branch/dossiers/{number}/apology"],
    "lanhdao@test.vn": ["/monitoring", "/monitoring?from=2026-03-01&to=2026-03-31&by=level", "/monitoring/map"],
}


@pytest.mark.parametrize("size", ["tablet-portrait", "phone"])
def test_no_axe_violations_and_nothing_missing_on_any_page(app, site, live_server, browser, size):
    problems: list[str] = []
    for email, paths in PAGES.items():
        context, page, missing = _page(browser, live_server, size, email)
        for path in paths:
            problems += _check(page, live_server + path.format(**site))
        problems += [f"404: {url}" for url in missing]
        context.close()
    assert problems == [], "\n".join(problems)
