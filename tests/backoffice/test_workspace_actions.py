"""The branch workspace's actions: each through the transition service, audited, only legal moves offered;
the supplement pauses and resumes the deadline in working days; a stale version is a 409 and changes nothing."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta

from sqlalchemy import select

from backoffice.models import AdminAuditEvent
from core import outbox
from core.extensions import db
from core.timeutil import LOCAL_TZ, to_local
from dossiers.models import Dossier
from notify.models import SmsMessage
from tests import factories
from tests.backoffice.conftest import OFFICER, OTHER_OFFICER, move
from tests.factories import auth, sign_in

STATUS_SMS_TOPIC = "notify@dossiers.status_changed"
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n" \
      b"trailer<</Root 1 0 R>>\n%%EOF\n"


def page(client, number: str) -> tuple[str, str, int]:
    """The dossier page's HTML, its CSRF token and the version it shows."""
    response = client.get(f"/branch/dossiers/{number}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    version = int(re.search(r'name="version" value="(\d+)"', html).group(1))
    return html, token, version


def post(client, number: str, action: str, version: int | None = None, **data):
    html, token, shown = page(client, number)
    return client.post(f"/branch/dossiers/{number}/{action}",
                       data={"csrf_token": token, "version": shown if version is None else version, **data})


def dossier(app, number: str) -> Dossier:
    with app.app_context():
        found = db.session.scalar(select(Dossier).where(Dossier.number == number))
        db.session.expunge(found)
        return found


def audit(app) -> list[tuple[str, str]]:
    with app.app_context():
        return [(e.action, e.target) for e in db.session.scalars(select(AdminAuditEvent).order_by(AdminAuditEvent.id))]


def test_accept_goes_through_the_transition_service_and_is_audited(app, client, branch):
    html, _, version = page(client, branch.number)
    assert 'id="move-accepted"' in html and 'id="move-rejected"' in html
    assert 'id="result-form"' not in html and 'id="move-collected"' not in html  # illegal moves are not offered
    response = post(client, branch.number, "move", to="accepted")
    assert response.status_code == 303
    found = dossier(app, branch.number)
    assert found.status.value == "accepted" and found.version == version + 1
    with app.app_context():
        last = db.session.get(Dossier, found.id).events[-1]
        assert (last.actor, last.from_status, last.to_status) == (f"user:{OFFICER}", "routed", "accepted")
    assert audit(app) == [("dossier.accepted", branch.number)]


def test_an_illegal_move_is_refused_and_changes_nothing(app, client, branch):
    response = post(client, branch.number, "move", to="collected")
    assert response.status_code == 409
    assert "illegal" in response.get_data(as_text=True).lower() or "Không thể" in response.get_data(as_text=True)
    assert dossier(app, branch.number).status.value == "routed" and audit(app) == []


def test_reject_needs_a_reason(app, client, branch):
    assert post(client, branch.number, "move", to="rejected").status_code == 422
    assert dossier(app, branch.number).status.value == "routed"
    assert post(client, branch.number, "move", to="rejected", reason="Hồ sơ không thuộc thẩm quyền").status_code == 303
    found = dossier(app, branch.number)
    assert found.status.value == "rejected"
    assert audit(app) == [("dossier.rejected", branch.number)]


def test_supplement_pauses_the_deadline_and_resumes_it_shifted_by_the_working_days_waited(app, client, clock, branch):
    move(client, branch.officer_key, branch.number, "accepted")
    move(client, branch.officer_key, branch.number, "processing")
    before = dossier(app, branch.number).deadline_at
    with app.app_context():
        outbox.run_due(topic=STATUS_SMS_TOPIC)
        sent_before = db.session.scalar(select(db.func.count()).select_from(SmsMessage))
    html, _, _ = page(client, branch.number)
    assert 'id="supplement-form"' in html
    response = post(client, branch.number, "supplement", documents=["Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp"],
                    note="Thiếu chữ ký")
    assert response.status_code == 303
    found = dossier(app, branch.number)
    assert found.status.value == "supplement_requested" and found.paused_at is not None
    with app.app_context():
        outbox.run_due(topic=STATUS_SMS_TOPIC)
        sms = db.session.scalars(select(SmsMessage).order_by(SmsMessage.id)).all()
        assert len(sms) == sent_before + 1 and sms[-1].event == "supplement_requested"
        assert db.session.get(Dossier, found.id).events[-1].reason.endswith("Thiếu chữ ký")
    # Paused on Tuesday 10/03/2026; the supplement arrives on Monday 16/03: Wed, Thu, Fri, Mon = 4 working days.
    clock.set(datetime(2026, 3, 16, 10, 0, tzinfo=LOCAL_TZ))
    html, _, _ = page(client, branch.number)
    assert "4" in re.search(r'id="deadline">(.*?)</dd>', html, re.S).group(1)
    assert post(client, branch.number, "move", to="processing").status_code == 303
    after = dossier(app, branch.number)
    assert after.status.value == "processing" and after.paused_at is None
    old, new = to_local(before), to_local(after.deadline_at)
    assert new.time() == old.time()
    working = [old.date() + timedelta(days=i) for i in range(1, (new.date() - old.date()).days + 1)]
    from core.calendar import is_working_day

    assert sum(is_working_day(day) for day in working) == 4 and is_working_day(new.date())
    assert [a for a, _ in audit(app)] == ["dossier.supplement_requested", "dossier.processing"]


def test_the_same_day_supplement_shifts_nothing(app, client, clock, branch):
    move(client, branch.officer_key, branch.number, "accepted")
    before = dossier(app, branch.number).deadline_at
    assert post(client, branch.number, "supplement", note="Ảnh CCCD bị mờ").status_code == 303
    clock.advance(hours=3)
    assert post(client, branch.number, "move", to="processing").status_code == 303
    assert dossier(app, branch.number).deadline_at == before


def test_a_supplement_request_names_something(app, client, branch):
    move(client, branch.officer_key, branch.number, "accepted")
    assert post(client, branch.number, "supplement").status_code == 422
    assert dossier(app, branch.number).status.value == "accepted"


def _processing(client, branch):
    move(client, branch.officer_key, branch.number, "accepted")
    move(client, branch.officer_key, branch.number, "processing")


def test_result_ready_with_the_result_uploaded(app, client, branch):
    _processing(client, branch)
    html, token, version = page(client, branch.number)
    response = client.post(f"/branch/dossiers/{branch.number}/result", content_type="multipart/form-data",
                           data={"csrf_token": token, "version": version,
                                 "result_file": (io.BytesIO(PDF), "ket-qua.pdf")})
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    found = dossier(app, branch.number)
    assert found.status.value == "result_ready"
    with app.app_context():
        loaded = db.session.get(Dossier, found.id)
        assert [d.kind for d in loaded.documents] == ["result"]
        assert "ket-qua" in loaded.events[-1].reason
    html, _, _ = page(client, branch.number)
    assert "<iframe" in html and 'id="move-collected"' in html  # collected at the counter: the delivery chosen


def test_result_ready_on_paper_then_collected_at_the_counter(app, client, branch):
    _processing(client, branch)
    assert post(client, branch.number, "result").status_code == 422  # neither a file nor a note
    assert post(client, branch.number, "result", on_paper="Bản giấy có dấu đỏ, lưu tại quầy 3").status_code == 303
    assert dossier(app, branch.number).status.value == "result_ready"
    html, _, _ = page(client, branch.number)
    assert 'id="move-out_for_delivery"' not in html
    assert post(client, branch.number, "move", to="collected").status_code == 303
    assert dossier(app, branch.number).status.value == "collected"
    assert [a for a, _ in audit(app)] == ["dossier.result_ready", "dossier.collected"]


def test_handover_to_the_courier(app, client, branch):
    courier = factories.create_dossier(client, branch.agent_key, procedure_code="HN-TP-001",
                                       delivery={"method": "courier", "address": "12 Hàng Bài, Hoàn Kiếm, Hà Nội"})
    number = courier["number"]
    with app.app_context():
        from geo import service as geo

        point = db.session.scalar(select(Dossier).where(Dossier.number == number)).service_point_id
        assert geo.point_by_id(point).code == branch.point_code
    for target in ("accepted", "processing", "result_ready"):
        move(client, branch.officer_key, number, target)
    html, _, _ = page(client, number)
    assert 'id="move-out_for_delivery"' in html and 'id="move-collected"' not in html
    assert post(client, number, "move", to="out_for_delivery").status_code == 303
    assert dossier(app, number).status.value == "out_for_delivery"


def test_transfer_to_another_point_with_a_reason(app, client, branch):
    with app.app_context():
        from geo import service as geo

        target = next(p.code for p in geo.list_points() if p.code != branch.point_code)
    assert post(client, branch.number, "transfer", point=target, reason="").status_code == 422
    response = post(client, branch.number, "transfer", point=target, reason="Đúng địa bàn của điểm kia")
    assert response.status_code == 303 and response.headers["Location"].endswith("/branch")
    found = dossier(app, branch.number)
    assert found.status.value == "routed" and found.routing["transfers"][-1]["to"] == target
    assert client.get(f"/branch/dossiers/{branch.number}").status_code == 404  # out of this officer's point
    assert audit(app) == [("dossier.transfer", branch.number)]


def test_assign_to_an_officer(app, client, branch):
    assert post(client, branch.number, "assign", user=OFFICER).status_code == 303
    with app.app_context():
        from core import accounts

        assert dossier(app, branch.number).assigned_user_id == accounts.get_user(OFFICER).id
    html, _, _ = page(client, branch.number)
    assert "Test branch_officer" in re.search(r'id="assignee">(.*?)</dd>', html).group(1)


def test_two_officers_on_one_dossier_one_wins_the_other_gets_a_409_and_nothing_changes(app, client, branch):
    second = app.test_client()
    with app.app_context():
        factories.create_user("branch_officer", email="canbo.hai@test.vn", service_point_code=branch.point_code)
    assert sign_in(second, "canbo.hai@test.vn").status_code == 302
    _, token_one, version = page(client, branch.number)
    _, token_two, version_two = page(second, branch.number)
    assert version == version_two
    first = client.post(f"/branch/dossiers/{branch.number}/move",
                        data={"csrf_token": token_one, "version": version, "to": "accepted"})
    assert first.status_code == 303
    late = second.post(f"/branch/dossiers/{branch.number}/move",
                       data={"csrf_token": token_two, "version": version, "to": "rejected",
                             "reason": "Thiếu giấy tờ gốc"})
    assert late.status_code == 409
    text = late.get_data(as_text=True)
    assert 'id="conflict"' in text and "Thiếu giấy tờ gốc" in text  # what the officer wrote is kept
    found = dossier(app, branch.number)
    assert found.status.value == "accepted" and found.version == version + 1
    assert audit(app) == [("dossier.accepted", branch.number)]


def test_the_api_transition_takes_an_optional_version(app, client, branch):
    current = client.get(f"/api/v1/dossiers/{branch.number}", headers=auth(branch.officer_key)).get_json()
    stale = client.post(f"/api/v1/dossiers/{branch.number}/transitions", headers=auth(branch.officer_key),
                        json={"to": "accepted", "version": current["version"] + 5})
    assert stale.status_code == 409 and stale.get_json()["code"] == "stale_dossier"
    assert dossier(app, branch.number).status.value == "routed"
    ok = client.post(f"/api/v1/dossiers/{branch.number}/transitions", headers=auth(branch.officer_key),
                     json={"to": "accepted", "version": current["version"]})
    assert ok.status_code == 200 and ok.get_json()["version"] == current["version"] + 1


def test_another_points_officer_cannot_act(app, client, branch):
    client.post("/logout", data={"csrf_token": factories.csrf_token(client, "/branch")})
    assert sign_in(client, OTHER_OFFICER).status_code == 302
    token = factories.csrf_token(client, "/branch")
    response = client.post(f"/branch/dossiers/{branch.number}/move",
                           data={"csrf_token": token, "version": 1, "to": "accepted"})
    assert response.status_code == 404 and dossier(app, branch.number).status.value == "routed"
