"""The administrators' pages: service points, users and organisations, API keys, each change audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from backoffice.models import AdminAuditEvent
from core.extensions import db
from tests import factories
from tests.factories import auth, csrf_token, sign_in

pytestmark = pytest.mark.smoke
ADMIN = "quantri@test.vn"


@pytest.fixture
def admin(app, client):
    with app.app_context():
        factories.create_org()
        factories.create_user("admin", email=ADMIN)
        factories.create_user("agent", email="lan@test.vn", org=factories.create_org())
    sign_in(client, ADMIN)
    return client


@pytest.fixture
def drop_point(app):
    """The service point a test creates is deleted afterwards (the network's version bumped)."""
    yield
    from sqlalchemy import delete

    from core import versions
    from geo.models import ServicePoint
    with app.app_context():
        db.session.rollback()
        if db.session.execute(delete(ServicePoint).where(ServicePoint.code == "HN-NEW-1")).rowcount:
            versions.bump(versions.SERVICE_POINTS)
        db.session.commit()


def _post(client, path: str, data: dict | None = None, page: str = "/admin/points"):
    return client.post(path, data={"csrf_token": csrf_token(client, page), **(data or {})})


def _audit(app) -> list[tuple[str, str, str, dict]]:
    with app.app_context():
        return [(e.actor, e.action, e.target, e.details)
                for e in db.session.scalars(select(AdminAuditEvent).order_by(AdminAuditEvent.id))]


def test_only_administrators_get_the_pages(app, client):
    assert client.get("/admin/points").status_code == 302  # to the sign-in page
    with app.app_context():
        factories.create_user("agent", email="lan@test.vn", org=factories.create_org())
    sign_in(client, "lan@test.vn")
    for path in ("/admin", "/admin/points", "/admin/users", "/admin/keys", "/admin/audit"):
        assert client.get(path).status_code == 403, path


def test_a_form_without_its_csrf_token_is_refused(app, admin, drop_point):
    response = admin.post("/admin/points", data={"code": "HN-NEW-1", "tier": "branch", "name": "Điểm mới",
                                                 "address": "1 Tràng Tiền", "lat": "21.02", "lon": "105.85"})
    assert response.status_code == 400
    assert _audit(app) == []


def test_create_close_and_reopen_a_service_point_audited(app, admin, client, drop_point):
    page = admin.get("/admin/points")
    assert page.status_code == 200 and "Điểm phục vụ" in page.get_data(as_text=True)
    created = _post(admin, "/admin/points", {"code": "HN-NEW-1", "tier": "branch", "name": "Điểm mới",
                                             "address": "1 Tràng Tiền, Hoàn Kiếm", "lat": "21.0245",
                                             "lon": "105.8570"})
    assert created.status_code == 303
    listed = admin.get("/admin/points").get_data(as_text=True)
    assert "HN-NEW-1" in listed and "Điểm mới" in listed
    api = admin.get("/api/v1/service-points").get_json()
    assert "HN-NEW-1" in {p["code"] for p in api}
    assert _post(admin, "/admin/points/HN-NEW-1/close", {"on": "2030-01-01", "reason": "Sửa chữa"}).status_code == 303
    assert "31/12/2029" in admin.get("/admin/points").get_data(as_text=True)
    assert _post(admin, "/admin/points/HN-NEW-1/reopen").status_code == 303
    trail = _audit(app)
    assert [(a, t) for _, a, t, _ in trail] == [("point.create", "HN-NEW-1"), ("point.close", "HN-NEW-1"),
                                                ("point.reopen", "HN-NEW-1")]
    assert all(actor == f"user:{ADMIN}" for actor, *_ in trail)
    assert trail[1][3]["reason"] == "Sửa chữa"
    bad = _post(admin, "/admin/points", {"code": "x", "tier": "branch", "name": "", "address": "",
                                         "lat": "", "lon": ""})
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.get_data(as_text=True)
    assert "HN-NEW-1" in admin.get("/admin/audit").get_data(as_text=True)


def test_create_and_deactivate_a_user_audited(app, admin, client):
    created = _post(admin, "/admin/users", {"email": "Mai@Buudien.vn", "full_name": "Trần Thị Mai", "role": "agent",
                                            "password": "a long enough password", "organisation": "VNPOST-HN"},
                    page="/admin/users")
    assert created.status_code == 303
    assert "mai@buudien.vn" in admin.get("/admin/users").get_data(as_text=True)
    fresh = app.test_client()
    assert sign_in(fresh, "mai@buudien.vn", "a long enough password").status_code == 302
    assert _post(admin, "/admin/users/mai@buudien.vn/deactivate", page="/admin/users").status_code == 303
    assert fresh.get("/portal").status_code == 302  # signed out: the account no longer works
    assert [(a, t) for _, a, t, _ in _audit(app)] == [("user.create", "mai@buudien.vn"),
                                                       ("user.deactivate", "mai@buudien.vn")]
    duplicate = _post(admin, "/admin/users", {"email": "mai@buudien.vn", "full_name": "X", "role": "finance",
                                              "password": "a long enough password"}, page="/admin/users")
    assert duplicate.status_code == 422 and "Email này đã được dùng" in duplicate.get_data(as_text=True)


def test_a_key_is_shown_once_works_and_is_revoked_audited(app, admin):
    issued = _post(admin, "/admin/keys", {"owner": "VNPOST-HN", "name": "quầy 2"}, page="/admin/keys")
    assert issued.status_code == 201 and issued.headers["Cache-Control"] == "no-store"
    import re
    key = re.search(r'id="the-key">([^<]+)<', issued.get_data(as_text=True)).group(1)
    assert key.startswith("hpa_")
    assert key not in admin.get("/admin/keys").get_data(as_text=True)  # once
    fresh = app.test_client()
    assert fresh.get("/api/v1/dossiers", headers=auth(key)).status_code == 200
    assert _post(admin, f"/admin/keys/{key[:12]}/revoke", page="/admin/keys").status_code == 303
    assert fresh.get("/api/v1/dossiers", headers=auth(key)).status_code == 401
    trail = _audit(app)
    assert [(a, t) for _, a, t, _ in trail] == [("key.issue", key[:12]), ("key.revoke", key[:12])]
    assert key not in str(trail)
