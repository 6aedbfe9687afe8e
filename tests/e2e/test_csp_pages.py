"""Pages under the Content-Security-Policy, in a real browser: they work and the browser reports no
violation (Swagger UI, the coverage map, receipts, the tracking page, the login page)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.factories import create_dossier
from tests.tracking.conftest import token_for

pytestmark = pytest.mark.smoke


def _watch(page) -> list[str]:
    """Console errors and CSP violations the page reports."""
    problems: list[str] = []
    # A failed load is reported below with its URL (the browser's own /favicon.ico probe aside).
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error"
            and not msg.text.startswith("Failed to load resource") else None)
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400
            and not r.url.endswith("/favicon.ico") else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.add_init_script("""document.addEventListener('securitypolicyviolation', e =>
        console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));""")
    return problems


def test_swagger_ui_renders_its_operations_under_the_csp(browser, live_server, shoot):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems = _watch(page)
    response = page.goto(f"{live_server}/api/v1/docs")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    expect(page.locator(".opblock").first).to_be_visible(timeout=15000)
    assert page.locator(".opblock").count() > 10
    expect(page.get_by_text("/api/v1/dossiers").first).to_be_visible()
    shoot(page, "csp-api-docs")
    assert [p for p in problems if "CSP" in p or "Content Security Policy" in p] == []
    assert problems == []


def test_coverage_map_login_and_tracking_pages_have_no_csp_violation(app, client, agent_key, browser, live_server):
    token = token_for(app, create_dossier(client, agent_key)["number"])
    for path, ready in (("/coverage", "#map"), ("/login", "form"), (f"/t/{token}", "main")):
        page = browser.new_page(viewport={"width": 800, "height": 1280})
        problems = _watch(page)
        page.goto(f"{live_server}{path}")
        expect(page.locator(ready).first).to_be_visible()
        page.wait_for_load_state("networkidle")
        if path == "/coverage":
            expect(page.locator(".leaflet-container")).to_be_visible()
        assert [p for p in problems if "CSP" in p or "Content Security Policy" in p] == [], path
        page.close()


def test_the_login_page_cannot_be_framed(browser, live_server):
    page = browser.new_page()
    page.set_content('<iframe id="f" width="600" height="400"></iframe>')
    # Wait for the frame's load event (a blocked frame loads the browser's error page), then look inside.
    page.evaluate("""url => new Promise(done => {
        const frame = document.getElementById('f'); frame.onload = () => done(); frame.src = url; })""",
                  f"{live_server}/login")
    assert page.frame_locator("#f").locator("form").count() == 0
