"""Lockout that cannot be turned into a denial of service: per-IP throttling against spraying, and the
real user's known device (signed device cookie) let through while an attacker has the account locked."""

from __future__ import annotations

import re

import pytest

from core import sign_in_guard
from tests import factories

pytestmark = pytest.mark.smoke
PASSWORD = "correct horse battery staple"
ATTACKER, OFFICE = "198.51.100.7", "203.0.113.5"


def _sign_in(client, email: str, password: str = PASSWORD, ip: str = OFFICE):
    env = {"REMOTE_ADDR": ip}
    html = client.get("/login", environ_base=env).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token},
                       environ_base=env)


def _signed_in(response) -> bool:
    return response.status_code == 302 and response.headers["Location"] == "/portal"


def _sign_out(client) -> None:
    client.post("/logout", data={"csrf_token": factories.csrf_token(client, "/portal")})


@pytest.fixture
def lan(app):
    with app.app_context():
        factories.create_user("agent", email="lan@test.vn", org=factories.create_org())
    return "lan@test.vn"


def test_an_attackers_failures_do_not_lock_the_user_out_of_their_known_device(app, lan):
    tablet = app.test_client()
    first = _sign_in(tablet, lan)
    assert _signed_in(first)
    cookie = next(c for c in first.headers.getlist("Set-Cookie") if c.startswith(f"{sign_in_guard.DEVICE_COOKIE}="))
    assert "HttpOnly" in cookie and "Path=/login" in cookie and "SameSite=Lax" in cookie
    _sign_out(tablet)

    attacker = app.test_client()
    answers = [_sign_in(attacker, lan, f"guess-{n}", ip=ATTACKER).get_data(as_text=True) for n in range(6)]
    assert "tạm khóa 15 phút" in answers[-1]
    # The account is locked for every client that is not a known device, even with the right password...
    assert "tạm khóa 15 phút" in _sign_in(attacker, lan, ip=ATTACKER).get_data(as_text=True)
    assert not _signed_in(_sign_in(app.test_client(), lan))
    # ...but the real user's tablet, which signed in before, gets in.
    assert _signed_in(_sign_in(tablet, lan))


def test_a_device_cookie_vouches_only_for_its_own_account_and_only_when_signed(app, lan):
    with app.app_context():
        factories.create_user("agent", email="minh@test.vn", org=factories.create_org())
    tablet = app.test_client()
    assert _signed_in(_sign_in(tablet, "minh@test.vn"))  # minh's device, not lan's
    _sign_out(tablet)
    attacker = app.test_client()
    for n in range(5):
        _sign_in(attacker, lan, f"guess-{n}", ip=ATTACKER)
    assert not _signed_in(_sign_in(tablet, lan))  # minh's cookie does not open lan's locked account
    forged = app.test_client()
    forged.set_cookie(sign_in_guard.DEVICE_COOKIE, "eyJ1IjoxfQ.forged.signature", path="/login")
    assert not _signed_in(_sign_in(forged, lan))


def test_a_known_device_has_a_budget_of_its_own(app, lan):
    tablet = app.test_client()
    assert _signed_in(_sign_in(tablet, lan))
    _sign_out(tablet)
    # A stolen tablet's cookie does not give unlimited guesses: after five, it is a stranger again,
    # and the account's own lock applies.
    for n in range(sign_in_guard.DEVICE_MAX_FAILURES + 5):
        page = _sign_in(tablet, lan, f"guess-{n}").get_data(as_text=True)
    assert "tạm khóa 15 phút" in page
    assert not _signed_in(_sign_in(tablet, lan))


def test_per_ip_throttling_stops_password_spraying_across_accounts(app, lan, monkeypatch):
    monkeypatch.setitem(app.config, "SIGN_IN_IP_LIMIT", "5 per 15 minutes")
    with app.app_context():
        for n in range(6):
            factories.create_user("agent", email=f"agent{n}@test.vn", org=factories.create_org())
    sprayer = app.test_client()
    for n in range(5):  # one guess per account: no account lock is ever reached
        assert "không đúng" in _sign_in(sprayer, f"agent{n}@test.vn", "Password1!", ip=ATTACKER).get_data(
            as_text=True)
    # The address is throttled now, whatever account or password it tries (so it learns nothing).
    throttled = _sign_in(sprayer, "agent5@test.vn", PASSWORD, ip=ATTACKER)
    assert not _signed_in(throttled) and "Quá nhiều lần đăng nhập sai" in throttled.get_data(as_text=True)
    # The accounts themselves are not locked: from another address the right password works.
    assert _signed_in(_sign_in(app.test_client(), "agent5@test.vn"))
    # A known device behind the throttled address (the same office NAT) still gets in.
    tablet = app.test_client()
    monkeypatch.setitem(app.config, "SIGN_IN_IP_LIMIT", "off")
    assert _signed_in(_sign_in(tablet, lan, ip=ATTACKER))
    _sign_out(tablet)
    monkeypatch.setitem(app.config, "SIGN_IN_IP_LIMIT", "5 per 15 minutes")
    assert "Quá nhiều" in _sign_in(app.test_client(), lan, ip=ATTACKER).get_data(as_text=True)
    assert _signed_in(_sign_in(tablet, lan, ip=ATTACKER))
