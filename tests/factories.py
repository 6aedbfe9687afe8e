"""Plain factory functions for tests: create_x(**overrides)."""

from __future__ import annotations

from copy import deepcopy

from app.demo import POINTS_CSV, PROCEDURES_CSV
from core import accounts
from core.extensions import db
from core.roles import OrganisationKind, Role
from dossiers import catalogue
from geo import service as geo
from geo.points_import import import_points_csv

# Hoàn Kiếm post office, 75 Đinh Tiên Hoàng: the first agent point (5/2/2025).
HOAN_KIEM = {"lat": 21.0259, "lon": 105.8537}


def load_reference_data() -> None:
    import_points_csv(POINTS_CSV.read_text(encoding="utf-8"))
    catalogue.import_csv(PROCEDURES_CSV.read_text(encoding="utf-8"))


def create_org(code: str = "VNPOST-HN", kind: str = "postal", name: str | None = None):
    org = accounts.ensure_organisation(code, name or f"Org {code}", OrganisationKind(kind))
    db.session.commit()
    return org


def create_user(role: str = "agent", email: str | None = None, org=None, service_point_code: str | None = None):
    point_id = geo.get_point(service_point_code).id if service_point_code else None
    user = accounts.ensure_user(
        email or f"{role}.{service_point_code or 'all'}@test.vn", f"Test {role}", Role(role),
        "correct horse battery staple", org, point_id,
    )
    db.session.commit()
    return user


def org_key(org) -> str:
    return accounts.issue_organisation_key(org.code).key


def user_key(user) -> str:
    return accounts.issue_user_key(user.email).key


def dossier_body(**overrides) -> dict:
    body = {
        "procedure_code": "HN-HT-201",  # Đăng ký khai sinh (commune level)
        "citizen": {"full_name": "Nguyễn Văn An", "cccd": "001090012345", "phone": "0912345678",
                    "address": "12 Hàng Bài, Hoàn Kiếm, Hà Nội"},
        "location": {**HOAN_KIEM, "source": "gps"},
        "delivery": {"method": "collect"},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(body.get(key), dict):
            body[key] = {**body[key], **value}
        else:
            body[key] = value
    return deepcopy(body)


def auth(key: str, **headers) -> dict:
    return {"Authorization": f"Bearer {key}", **headers}


_counter = iter(range(1, 10**9))


def create_dossier(client, key: str, idempotency_key: str | None = None, **overrides) -> dict:
    """POST a dossier through the API and return its JSON; fails loudly if not 201."""
    response = client.post(
        "/api/v1/dossiers", json=dossier_body(**overrides),
        headers=auth(key, **{"Idempotency-Key": idempotency_key or f"test-{next(_counter)}"}),
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def csrf_token(client, path: str = "/login") -> str:
    import re

    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def sign_in(client, email: str, password: str = "correct horse battery staple", **params):
    """Sign in through the form, as a browser does (CSRF token included)."""
    return client.post("/login", query_string=params,
                       data={"email": email, "password": password, "csrf_token": csrf_token(client)})
