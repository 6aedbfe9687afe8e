"""The new-dossier page stays small and self-hosted: JavaScript and CSS under 150 KB gzip, no CDN."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest
import xstatic.pkg.leaflet as xstatic_leaflet

from tests import factories
from tests.factories import sign_in

ROOT = Path(__file__).resolve().parents[2]
LEAFLET = Path(xstatic_leaflet.BASE_DIR)
BUDGET_BYTES = 150 * 1024


@pytest.fixture
def agent_client(app, client):
    with app.app_context():
        factories.create_user("agent", email="lan@test.vn", org=factories.create_org())
    sign_in(client, "lan@test.vn")
    return client


def _json_block(html: str, element_id: str) -> dict:
    found = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', html, re.S)
    return json.loads(found.group(1))


def gzipped(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=9))


def test_javascript_and_css_of_the_new_dossier_page_fit_the_budget():
    from agent_portal import assets

    modules = [ROOT / "agent_portal/static" / name for name in assets.module_graph("js/new_dossier/main.js")]
    files = modules + [ROOT / "agent_portal/static/new_dossier.css", ROOT / "core/static/app.css",
                       LEAFLET / "leaflet.js", LEAFLET / "leaflet.css"]
    sizes = {str(path): gzipped(path) for path in files}
    assert sum(sizes.values()) < BUDGET_BYTES, sizes


def test_the_page_loads_its_own_assets_and_references_nothing_outside(agent_client):
    response = agent_client.get("/portal/new")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert not re.findall(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html)
    assert '<script type="module" src="/portal/static/v/' in html  # cached files (agent_portal.assets)
    config = _json_block(html, "nd-config")
    assert config["tileUrl"] == ""  # no tile server configured: the map draws without tiles
    assert config["urls"]["leafletJs"] == "/assets/leaflet/leaflet.js"
    assert all(not url.startswith(("http:", "https:", "//")) for url in config["urls"].values())
    # The page alone is small: its modules and styles come from the cache.
    assert len(gzip.compress(response.data, 9)) < 15 * 1024


def test_the_portal_serves_its_static_files_and_links_the_new_dossier_page(agent_client):
    script = agent_client.get("/portal/static/js/new_dossier/main.js")
    assert script.status_code == 200 and script.mimetype in ("text/javascript", "application/javascript")
    assert agent_client.get("/portal/static/new_dossier.css").mimetype == "text/css"
    home = agent_client.get("/portal").get_data(as_text=True)
    assert home.count('href="/portal/new"') == 2  # the big button and the menu
    assert agent_client.get("/portal/hanoi-outline.geojson").mimetype == "application/geo+json"




def test_the_page_speaks_vietnamese_first_and_english_on_request(agent_client):
    vietnamese = agent_client.get("/portal/new").get_data(as_text=True)
    assert "Vị trí" in vietnamese and 'inputmode="numeric"' in vietnamese
    assert _json_block(vietnamese, "nd-i18n")["confirm"] == "Xác nhận và gửi"
    english = agent_client.get("/portal/new?lang=en").get_data(as_text=True)
    assert "Location" in english and "Vị trí" not in english
    assert _json_block(english, "nd-i18n")["confirm"] == "Confirm and send"


def test_only_agents_open_the_new_dossier_page(app, client):
    with app.app_context():
        factories.create_user("finance", email="huy@test.vn")
    assert client.get("/portal/new").status_code == 302  # signed out: to the sign-in page
    sign_in(client, "huy@test.vn")
    assert client.get("/portal/new", headers={"Accept": "text/html"}).status_code == 403


def test_the_page_is_compressed_unless_the_request_could_echo_chosen_text(agent_client):
    plain = agent_client.get("/portal/new?lang=vi", headers={"Accept-Encoding": "gzip, br"})
    assert plain.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in plain.headers["Vary"]
    assert len(plain.data) < 30 * 1024
    assert b"nd-config" in gzip.decompress(plain.data)
    # Anything else in the query string is echoed by the language link next to the CSRF token (BREACH).
    for query in ("?q=secret", "?lang=xx", "?lang=vi&lang=guess"):
        echoed = agent_client.get("/portal/new" + query, headers={"Accept-Encoding": "gzip"})
        assert "Content-Encoding" not in echoed.headers, query
    assert "Content-Encoding" not in agent_client.get("/portal/new").headers  # no Accept-Encoding
