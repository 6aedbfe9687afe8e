"""The branch workspace (/branch): queues scoped by point, counts, search, the dossier page, reveal audited."""

from __future__ import annotations

import re

from sqlalchemy import select

from backoffice.models import AdminAuditEvent
from core.extensions import db
from tests import factories
from tests.backoffice.conftest import OFFICER, move
from tests.factories import auth, sign_in


def _html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _count(html: str, tab: str) -> int:
    return int(re.search(rf'class="count" data-tab="{tab}">(\d+)<', html).group(1))


def _numbers(html: str) -> list[str]:
    return re.findall(r'<tr data-number="([^"]+)">', html)


def test_an_officer_lands_on_the_queue_of_their_point(client, branch):
    assert sign_in(client, OFFICER).headers["Location"].endswith("/branch")
    html = _html(client.get("/branch"))
    assert branch.number in _numbers(html)
    assert _count(html, "new") == 1 and _count(html, "accepted") == 0


def test_queues_are_scoped_by_point_and_counted_per_tab(app, client, branch):
    other = factories.create_dossier(client, branch.agent_key, procedure_code="HN-TP-001")
    move(client, branch.officer_key, other["number"], "accepted")
    html = _html(client.get("/branch?tab=accepted"))
    assert _numbers(html) == [other["number"]] and _count(html, "new") == 1 and _count(html, "accepted") == 1
    # The officer of another point sees neither.
    from tests.backoffice.conftest import OTHER_OFFICER

    client.post("/logout", data={"csrf_token": factories.csrf_token(client, "/branch")})
    assert sign_in(client, OTHER_OFFICER).status_code == 302
    html = _html(client.get("/branch?tab=accepted"))
    assert _numbers(html) == [] and _count(html, "new") == 0 and _count(html, "accepted") == 0
    assert client.get(f"/branch/dossiers/{branch.number}").status_code == 404


def test_search_by_phone_cccd_and_number_inside_the_queue(client, branch):
    second = factories.create_dossier(client, branch.agent_key, procedure_code="HN-TP-001",
                                      citizen={"phone": "0987654321", "cccd": "001090099999"})
    everyone = _numbers(_html(client.get("/branch")))
    assert set(everyone) == {branch.number, second["number"]}
    assert _numbers(_html(client.get("/branch", query_string={"q": "0987 654 321"}))) == [second["number"]]
    assert _numbers(_html(client.get("/branch", query_string={"q": "+84987654321"}))) == [second["number"]]
    assert _numbers(_html(client.get("/branch", query_string={"q": "001090012345"}))) == [branch.number]
    assert _numbers(_html(client.get("/branch", query_string={"q": branch.number}))) == [branch.number]
    html = _html(client.get("/branch", query_string={"q": "001090099999"}))
    assert _count(html, "new") == 1


def test_the_dossier_page_masks_the_citizen_until_the_reveal_which_is_audited(app, client, branch):
    html = _html(client.get(f"/branch/dossiers/{branch.number}"))
    assert "001090012345" not in html and "0912345678" not in html and "+84912345678" not in html
    assert "091****678" in html and 'data-revealed="false"' in html
    assert "Official" in html or "Biểu mẫu" in html or "official-forms" in html
    assert f"/branch/dossiers/{branch.number}/forms/receipt" in html
    with app.app_context():
        assert db.session.scalars(select(AdminAuditEvent)).all() == []
    # GET cannot reveal; the POST needs the CSRF token.
    assert client.post(f"/branch/dossiers/{branch.number}/reveal").status_code == 400
    token = factories.csrf_token(client, f"/branch/dossiers/{branch.number}")
    shown = _html(client.post(f"/branch/dossiers/{branch.number}/reveal", data={"csrf_token": token}))
    assert "001090012345" in shown and 'data-revealed="true"' in shown
    with app.app_context():
        rows = [(e.actor, e.action, e.target) for e in db.session.scalars(select(AdminAuditEvent))]
    assert rows == [(f"user:{OFFICER}", "dossier.reveal_citizen", branch.number)]


def test_documents_are_served_inline_to_the_officer_only(client, branch):
    png = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15"
           b"\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND"
           b"\xaeB`\x82")
    import io

    response = client.post(f"/api/v1/dossiers/{branch.number}/documents", headers=auth(branch.agent_key),
                           data={"kind": "cccd", "file": (io.BytesIO(png), "scan.png")},
                           content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    html = _html(client.get(f"/branch/dossiers/{branch.number}"))
    src = re.search(r'<img src="([^"]+)"', html).group(1)
    served = client.get(src)
    assert served.status_code == 200 and served.data == png and served.mimetype == "image/png"
    assert "no-store" in served.headers["Cache-Control"] and served.headers["X-Frame-Options"] == "SAMEORIGIN"
    client.post("/logout", data={"csrf_token": factories.csrf_token(client, "/branch")})
    assert client.get(src).status_code in (302, 401, 403)
