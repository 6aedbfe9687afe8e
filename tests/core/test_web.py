"""The web UI's plumbing and the agents' home page, driven over HTTP as a browser does."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from core.masking import mask_phone
from core.web import mask_id, mask_name
from tests import factories
from tests.factories import create_dossier, sign_in

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "translations" / "vi" / "LC_MESSAGES"


def test_every_ui_string_has_a_vietnamese_translation_and_the_mo_is_compiled():
    # The same sources `make translations` reads (babel.cfg: "[method: pattern]" sections).
    sections = re.findall(r"^\[(\w+):\s*(\S+)\]", (ROOT / "babel.cfg").read_text(), re.M)
    method_map = [(pattern, method) for method, pattern in sections]
    assert len(method_map) >= 8
    keywords = {"_": None, "_l": None, "gettext": None, "ngettext": (1, 2)}
    found = {msg[2] if isinstance(msg[2], str) else msg[2][0]
             for msg in extract_from_dir(str(ROOT), method_map, keywords=keywords)}
    with open(CATALOG / "messages.po", "rb") as fh:
        po = read_po(fh)
    with open(CATALOG / "messages.mo", "rb") as fh:
        mo = read_mo(fh)

    def singular(m):  # a plural entry's id is (singular, plural), its string one text per plural form
        return m.id if isinstance(m.id, str) else m.id[0]

    def texts(m):
        return (m.string,) if isinstance(m.string, str) else tuple(m.string)

    assert found - {singular(m) for m in po if m.id} == set(), "run: make translations"
    assert [m.id for m in po if m.id and (not all(texts(m)) or m.fuzzy)] == []
    assert {singular(m): texts(m) for m in po if m.id} == {singular(m): texts(m) for m in mo if m.id}, \
        "run: make translations"


def test_masks_keep_only_the_ends():
    assert mask_id("001090012345") == "001******345"
    # One phone mask everywhere (core/masking.py): the local form, the network prefix and the last three.
    assert mask_phone("+84912345678") == mask_phone("0912345678") == "091****678"
    assert mask_phone("") == "—"


def test_names_keep_the_family_name_and_initials():
    # Vietnamese order: family name first, in full; then the initials of the middle and given names.
    assert mask_name("Nguyễn Văn An") == "Nguyễn V. A."
    assert mask_name("  Trần   thị   Ánh Hường ") == "Trần T. Á. H."
    assert mask_name("Lê Đức") == "Lê Đ."
    assert mask_name("An") == "A." and mask_name(None) == "—"
    assert mask_name(unicodedata.normalize("NFD", "Trần Ánh")) == "Trần Á."  # a whole letter, not a bare A


def test_vietnamese_by_default_english_one_tap_away(client):
    assert "Đăng nhập" in client.get("/login").get_data(as_text=True)
    english = client.get("/login?lang=en")
    assert "Sign in" in english.get_data(as_text=True) and "lang=en" in english.headers["Set-Cookie"]
    assert "Sign in" in client.get("/login").get_data(as_text=True)  # remembered
    assert "Đăng nhập" in client.get("/login?lang=vi").get_data(as_text=True)


def test_agents_land_on_their_dossiers_and_staff_on_theirs(app, client):
    with app.app_context():
        org = factories.create_org()
        factories.create_user("agent", email="lan@test.vn", org=org)
        factories.create_user("finance", email="huy@test.vn")
    response = sign_in(client, "lan@test.vn")
    assert response.status_code == 302 and response.headers["Location"].endswith("/portal")
    assert client.get("/").headers["Location"].endswith("/portal")
    other = app.test_client()
    assert sign_in(other, "huy@test.vn").headers["Location"].endswith("/staff")
    refused = other.get("/portal", headers={"Accept": "text/html"})
    assert refused.status_code == 403 and "Không có quyền" in refused.get_data(as_text=True)


def test_signed_out_visitors_are_sent_to_sign_in_and_back(app, client):
    with app.app_context():
        factories.create_user("agent", email="lan@test.vn", org=factories.create_org())
    response = client.get("/portal?status=routed")
    assert response.status_code == 302 and "/login?next=/portal?status%3Drouted" in response.headers["Location"]
    back = sign_in(client, "lan@test.vn", next="/portal?status=routed")
    assert back.headers["Location"] == "/portal?status=routed"


def test_next_never_leaves_the_site(app, client):
    with app.app_context():
        factories.create_user("agent", email="lan@test.vn", org=factories.create_org())
    assert sign_in(client, "lan@test.vn", next="https://evil.example/").headers["Location"] == "/portal"
    client.post("/logout", data={"csrf_token": factories.csrf_token(client, "/portal")})
    assert sign_in(client, "lan@test.vn", next="//evil.example/").headers["Location"] == "/portal"


def test_wrong_password_then_lock_out_after_five_failures(app, client):
    with app.app_context():
        factories.create_user("agent", email="lan@test.vn", org=factories.create_org())
    wrong = sign_in(client, "lan@test.vn", password="nope")
    assert wrong.status_code == 422 and "Email hoặc mật khẩu không đúng." in wrong.get_data(as_text=True)
    unknown = sign_in(client, "nobody@test.vn", password="nope")
    assert "Email hoặc mật khẩu không đúng." in unknown.get_data(as_text=True)  # the same words
    for _ in range(4):
        sign_in(client, "lan@test.vn", password="nope")
    locked = sign_in(client, "lan@test.vn")  # even the right password is refused now
    assert locked.status_code == 422 and "tạm khóa 15 phút" in locked.get_data(as_text=True)


def test_sign_out_needs_the_form_token(app, client):
    with app.app_context():
        factories.create_user("agent", email="lan@test.vn", org=factories.create_org())
    sign_in(client, "lan@test.vn")
    assert client.post("/logout").status_code == 400  # no CSRF token: refused
    assert client.get("/portal").status_code == 200
    client.post("/logout", data={"csrf_token": factories.csrf_token(client, "/portal")})
    assert client.get("/portal").status_code == 302


def test_home_lists_todays_dossiers_masked_and_searchable(app, client, agent_key, other_agent_key):
    with app.app_context():
        factories.create_user("agent", email="lan@test.vn", org=factories.create_org())
    mine = create_dossier(client, agent_key)
    create_dossier(client, agent_key, citizen={"cccd": "001190054321", "phone": "0987654321"})
    theirs = create_dossier(client, other_agent_key)
    sign_in(client, "lan@test.vn")
    page = client.get("/portal").get_data(as_text=True)
    assert mine["number"] in page and theirs["number"] not in page
    assert "001******345" in page and "001090012345" not in page
    assert "091****678" in page and "+84912345678" not in page
    assert "Đã điều phối" in page  # status in Vietnamese
    by_phone = client.get("/portal?q=0987 654 321").get_data(as_text=True)
    assert "001******321" in by_phone and "001******345" not in by_phone
    by_cccd = client.get("/portal?q=001090012345").get_data(as_text=True)
    assert mine["number"] in by_cccd and "001******321" not in by_cccd
    by_number = client.get(f"/portal?q={mine['number'][:-5].lower()}").get_data(as_text=True)
    assert mine["number"] in by_number
    none = client.get("/portal?status=closed").get_data(as_text=True)
    assert mine["number"] not in none and "Không có hồ sơ" in none
    yesterday = client.get("/portal?day=2020-01-01").get_data(as_text=True)
    assert mine["number"] not in yesterday


@pytest.mark.parametrize(("role", "shown", "hidden"), [
    ("branch_officer", "/branch", "/monitoring"), ("leadership", "/monitoring", "/branch"),
    ("finance", None, "/branch"),
])
def test_the_main_menu_leads_each_role_to_its_workspace(app, role, shown, hidden):
    with app.app_context():
        factories.create_user(role, email=f"menu.{role}@test.vn", service_point_code=None)
    client = app.test_client()
    factories.sign_in(client, f"menu.{role}@test.vn")
    page = client.get("/staff", follow_redirects=True).get_data(as_text=True)
    menu = re.search(r'<nav aria-label="[^"]+">(.*?)</nav>', page, re.S).group(1)
    if shown:
        assert f'href="{shown}"' in menu
    assert f'href="{hidden}"' not in menu
