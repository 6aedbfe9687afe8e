"""The tablet pages' scripts and styles: versioned static files cached for a year, every module
preloaded, no inline script (a CSP with script-src 'self' is coming), and the service worker."""

from __future__ import annotations

import gzip
import re

import pytest

from agent_portal import assets
from tests import factories
from tests.factories import create_dossier, sign_in

pytestmark = pytest.mark.smoke


@pytest.fixture
def signed_in(app, client):
    with app.app_context():
        factories.create_user("agent", email="lan@test.vn", org=factories.create_org())
    sign_in(client, "lan@test.vn")
    return client


def html(response) -> str:
    data = response.get_data()
    return (gzip.decompress(data) if response.headers.get("Content-Encoding") == "gzip" else data).decode()


def scripts(page: str) -> list[tuple[str, str]]:
    return re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)


def check_no_inline_script(page: str) -> None:
    for attrs, body in scripts(page):
        if 'type="application/json"' in attrs:
            continue  # a data block: never executed, allowed by script-src 'self'
        assert "src=" in attrs and not body.strip(), f"inline script: <script{attrs}>{body[:80]}"
    assert not re.search(r"\son[a-z]+=", page), "an inline event handler"


def test_the_new_dossier_page_loads_versioned_modules_and_no_inline_script(app, signed_in):
    page = html(signed_in.get("/portal/new"))
    check_no_inline_script(page)
    version = assets.tree().version
    entry = re.search(r'<script type="module" src="([^"]+)"></script>', page).group(1)
    assert entry == f"/portal/static/v/{version}/js/new_dossier/main.js"
    preloaded = re.findall(r'<link rel="modulepreload" href="([^"]+)">', page)
    graph = assets.module_graph("js/new_dossier/main.js")
    assert "js/lib/filetype.js" in graph and "js/new_dossier/location.js" in graph
    assert preloaded == [f"/portal/static/v/{version}/{name}" for name in graph]
    assert len(graph) > 10  # small modules, not one 1,200-line file
    styles = re.findall(r'<link rel="stylesheet" href="([^"]+)">', page)
    assert styles[0].startswith("/static/core/app.css?v=") and styles[1].endswith("/new_dossier.css")
    assert "<style" not in page


def test_every_module_is_served_and_cached_for_a_year(app, signed_in):
    page = html(signed_in.get("/portal/new"))
    for url in re.findall(r'<link rel="modulepreload" href="([^"]+)">', page):
        response = signed_in.get(url)
        assert response.status_code == 200, url
        assert response.mimetype == "text/javascript", url
        cache = response.headers["Cache-Control"]
        assert "immutable" in cache and "max-age=31536000" in cache, cache
        response.close()


def test_an_old_version_gets_todays_file_uncached(app, client):
    response = client.get("/portal/static/v/0123456789abcdef/js/lib/dom.js")
    assert response.status_code == 200
    assert "no-cache" in response.headers["Cache-Control"] and "immutable" not in response.headers["Cache-Control"]
    response.close()


def test_the_payment_page_has_no_inline_script(app, signed_in, agent_key):
    number = create_dossier(signed_in, agent_key, procedure_code="HN-TP-001")["number"]
    page = html(signed_in.get(f"/portal/dossiers/{number}/pay"))
    check_no_inline_script(page)
    assert f"/portal/static/v/{assets.tree().version}/js/pay/main.js" in page
    assert f"/portal/static/v/{assets.tree().version}/js/lib/http.js" in page  # the shared helpers, once


def test_the_service_worker_lists_the_pages_files_and_is_never_cached(app, client):
    response = client.get("/portal/sw.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    body = response.get_data(as_text=True)
    version = assets.tree().version
    assert f'const VERSION = "{version}";' in body
    assert f"/portal/static/v/{version}/js/new_dossier/main.js" in body
    assert '/static/core/app.css?v=' in body
    assert 'const SHELL = ["/portal/new"];' in body
