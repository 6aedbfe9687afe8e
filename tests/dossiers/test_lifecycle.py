"""The dossier state machine, pure and through the API."""

from __future__ import annotations

import pytest

from core.roles import Role
from dossiers.lifecycle import TERMINAL, TRANSITIONS, allowed_next, may_move
from dossiers.models import DeliveryMethod, Status
from tests import factories
from tests.factories import auth, create_dossier

pytestmark = pytest.mark.smoke


def test_every_status_is_in_the_table_and_terminal_ones_are_closed_and_cancelled():
    assert set(TRANSITIONS) == set(Status)
    assert TERMINAL == {Status.CLOSED, Status.CANCELLED}
    assert all(target in Status for targets in TRANSITIONS.values() for target in targets)


def test_every_status_is_reachable_from_received():
    seen, frontier = {Status.RECEIVED}, [Status.RECEIVED]
    while frontier:
        for nxt in TRANSITIONS[frontier.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    assert seen == set(Status)


def test_delivery_choice_narrows_the_return():
    assert allowed_next(Status.RESULT_READY, DeliveryMethod.COLLECT) == [Status.COLLECTED]
    assert allowed_next(Status.RESULT_READY, DeliveryMethod.COURIER) == [Status.OUT_FOR_DELIVERY]


def test_agents_may_only_cancel_and_finance_may_not_move():
    assert may_move(Role.AGENT, Status.CANCELLED)
    assert not may_move(Role.AGENT, Status.ACCEPTED)
    assert not may_move(Role.FINANCE, Status.ACCEPTED)
    assert may_move(Role.BRANCH_OFFICER, Status.RESULT_READY)


def _move(client, key, number, to, reason=None):
    return client.post(f"/api/v1/dossiers/{number}/transitions", json={"to": to, "reason": reason},
                       headers=auth(key))


def test_officer_walks_a_courier_dossier_to_closed_and_every_step_is_recorded(client, agent_key, officer_key):
    number = create_dossier(client, agent_key, delivery={"method": "courier", "address": "5 Lý Thái Tổ"})["number"]
    steps = ["accepted", "processing", "supplement_requested", "processing", "result_ready",
             "out_for_delivery", "delivered", "closed"]
    for step in steps:
        reason = "Thiếu bản sao giấy khai sinh" if step == "supplement_requested" else None
        response = _move(client, officer_key, number, step, reason)
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["status"] == step
    events = client.get(f"/api/v1/dossiers/{number}", headers=auth(agent_key)).get_json()["events"]
    assert [e["to_status"] for e in events] == ["received", "routed", *steps]
    assert all(e["actor"].startswith("user:") for e in events[2:])
    assert events[4]["reason"] == "Thiếu bản sao giấy khai sinh"
    assert [e["from_status"] for e in events[2:]] == ["routed", *steps[:-1]]


def test_illegal_transition_is_a_409_listing_the_allowed_ones(client, agent_key, officer_key):
    number = create_dossier(client, agent_key)["number"]
    response = _move(client, officer_key, number, "delivered")
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["code"] == "illegal_transition"
    assert problem["current_status"] == "routed"
    assert problem["allowed_transitions"] == ["accepted", "rejected", "cancelled"]
    assert client.get(f"/api/v1/dossiers/{number}", headers=auth(agent_key)).get_json()["status"] == "routed"


def test_collect_dossier_cannot_go_out_for_delivery(client, agent_key, officer_key):
    number = create_dossier(client, agent_key)["number"]
    for step in ["accepted", "processing", "result_ready"]:
        assert _move(client, officer_key, number, step).status_code == 200
    response = _move(client, officer_key, number, "out_for_delivery")
    assert response.status_code == 409
    assert response.get_json()["allowed_transitions"] == ["collected"]


def test_rejection_needs_a_reason(client, agent_key, officer_key):
    number = create_dossier(client, agent_key)["number"]
    response = _move(client, officer_key, number, "rejected", "  ")
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "reason"
    assert _move(client, officer_key, number, "rejected", "Không thuộc thẩm quyền").status_code == 200


def test_agent_can_cancel_its_own_dossier_but_not_accept_it(client, agent_key, other_agent_key):
    number = create_dossier(client, agent_key)["number"]
    assert _move(client, agent_key, number, "accepted").status_code == 403
    assert _move(client, other_agent_key, number, "cancelled", "x").status_code == 404
    cancelled = _move(client, agent_key, number, "cancelled", "Công dân rút hồ sơ")
    assert cancelled.status_code == 200 and cancelled.get_json()["allowed_transitions"] == []


def test_officer_of_a_point_sees_only_its_dossiers(app, client, agent_key):
    with app.app_context():
        officer = factories.user_key(factories.create_user("branch_officer", service_point_code="HN-CN01"))
    here = create_dossier(client, agent_key, service_point_code="HN-CN01", choice_reason="Gần nơi làm việc")
    there = create_dossier(client, agent_key)
    assert client.get(f"/api/v1/dossiers/{here['number']}", headers=auth(officer)).status_code == 200
    assert client.get(f"/api/v1/dossiers/{there['number']}", headers=auth(officer)).status_code == 404
    assert _move(client, officer, there["number"], "accepted").status_code == 404


def test_finance_reads_but_cannot_move(app, client, agent_key):
    with app.app_context():
        finance = factories.user_key(factories.create_user("finance"))
    number = create_dossier(client, agent_key)["number"]
    assert client.get(f"/api/v1/dossiers/{number}", headers=auth(finance)).status_code == 200
    assert _move(client, finance, number, "accepted").status_code == 403
