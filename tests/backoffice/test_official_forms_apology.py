"""The apology for lateness (form 04): a new date, the deadline moved, a timeline event, the citizen's SMS."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.timeutil import as_utc, to_local
from dossiers.models import Dossier, DossierApology, DossierEvent
from tests.backoffice.conftest import move
from tests.factories import auth, csrf_token
from tests.notify.conftest import run_outbox, sms_rows

NEW_DATE = "2026-03-31"  # a Tuesday after the deadline (Tuesday 24/03/2026 17:00)
BAD_DATES = {
    "2026-03-20": ("phải sau hạn hiện tại (24/03/2026)", "must be after the current deadline (24/03/2026)"),
    "2026-03-29": ("là ngày nghỉ cuối tuần", "is a weekend day"),  # a Sunday
    "2026-04-30": ("là ngày lễ", "is a public holiday"),  # Reunification Day, a Thursday
    "2026-03-10": ("phải sau hôm nay", "must be after today"),
}


def _state(app, number: str) -> tuple:
    with app.app_context():
        dossier = db.session.scalar(select(Dossier).where(Dossier.number == number))
        return (as_utc(dossier.deadline_at), len(dossier.events),
                db.session.scalar(select(func.count()).select_from(DossierApology)))


def _post(client, number: str, **data):
    token = csrf_token(client, f"/branch/dossiers/{number}/apology")
    return client.post(f"/branch/dossiers/{number}/apology", data={"csrf_token": token, **data})


def test_the_apology_moves_the_deadline_records_it_and_texts_the_citizen(app, client, branch):
    move(client, branch.officer_key, branch.number, "accepted")
    run_outbox(app)
    page = client.get(f"/branch/dossiers/{branch.number}/apology")
    assert page.status_code == 200 and 'name="csrf_token"' in page.get_data(as_text=True)
    assert "Ghi phiếu xin lỗi" in page.get_data(as_text=True)  # Vietnamese first
    response = _post(client, branch.number, reason="Chờ kết quả xác minh của Công an tỉnh", new_date=NEW_DATE)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/branch/dossiers/{branch.number}/forms/apology")
    deadline, _, count = _state(app, branch.number)
    assert count == 1 and to_local(deadline).strftime("%d/%m/%Y %H:%M") == "31/03/2026 17:00"
    with app.app_context():
        apology = db.session.scalar(select(DossierApology))
        assert to_local(apology.old_deadline).strftime("%d/%m/%Y %H:%M") == "24/03/2026 17:00"
        assert (apology.officer, apology.officer_name) == ("user:canbo.diem@test.vn", "Test branch_officer")
        event = db.session.scalars(select(DossierEvent).order_by(DossierEvent.id.desc())).first()
        assert (event.from_status, event.to_status) == ("accepted", "accepted")
        assert "31/03/2026" in event.reason and "Chờ kết quả xác minh" in event.reason
    run_outbox(app)
    sms = [s for s in sms_rows(app) if s.event == "apology"]
    assert len(sms) == 1
    assert sms[0].body.startswith(f"Xin loi, ho so {branch.number} tra cham, hen lai 31/03/2026. http")
    assert sms[0].dedupe_key.endswith(f":apology:{apology.id}")
    html = client.get(f"/branch/dossiers/{branch.number}/forms/apology").get_data(as_text=True)
    assert "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ" in html and "Chờ kết quả xác minh của Công an tỉnh" in html
    assert "ngày 31 tháng 03 năm 2026" in html and "ngày 24 tháng 03 năm 2026" in html
    assert f"Số: {apology.id:03d}/PXL-{branch.point_code}" in html


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_bad_input_is_refused_in_the_readers_language_and_changes_nothing(app, client, branch, lang):
    client.get(f"/branch/dossiers/{branch.number}/apology?lang={lang}")
    before = _state(app, branch.number)
    missing = _post(client, branch.number, reason="  ", new_date=NEW_DATE)
    assert missing.status_code == 422
    text = missing.get_data(as_text=True)
    assert ("Cần ghi rõ lý do chậm trả kết quả." if lang == "vi" else "The reason for the delay is required.") in text
    for day, (vi, en) in BAD_DATES.items():
        response = _post(client, branch.number, reason="Chờ xác minh", new_date=day)
        assert response.status_code == 422, day
        assert (vi if lang == "vi" else en) in response.get_data(as_text=True), day
    assert _post(client, branch.number, reason="Chờ xác minh").status_code == 422  # no date
    assert _state(app, branch.number) == before
    run_outbox(app)
    assert not [s for s in sms_rows(app) if s.event == "apology"]


def test_a_dossier_with_its_result_is_refused(app, client, branch):
    for target in ("accepted", "processing", "result_ready"):
        move(client, branch.officer_key, branch.number, target)
    before = _state(app, branch.number)
    response = _post(client, branch.number, reason="Chờ xác minh", new_date=NEW_DATE)
    assert response.status_code == 409 and "result_ready" in response.get_data(as_text=True)
    assert _state(app, branch.number) == before


def test_the_api_route(app, client, branch):
    path = f"/api/v1/dossiers/{branch.number}/apologies"
    body = {"reason": "Hệ thống liên thông gián đoạn", "new_date": NEW_DATE}
    assert client.post(path, json=body, headers=auth(branch.agent_key)).status_code == 403
    assert client.post(path, json=body, headers=auth(branch.other_key)).status_code == 404
    refused = client.post(path, json={"reason": "", "new_date": "2026-03-29"}, headers=auth(branch.officer_key))
    assert refused.status_code == 422 and refused.mimetype == "application/problem+json"
    problem = refused.get_json()
    assert {e["field"] for e in problem["errors"]} == {"reason", "new_date"}
    assert all(e["message_vi"] and e["message_en"] for e in problem["errors"])
    assert client.post(path, json={"reason": "x"}, headers=auth(branch.officer_key)).status_code == 422
    created = client.post(path, json=body, headers=auth(branch.officer_key))
    assert created.status_code == 201, created.get_json()
    data = created.get_json()
    assert data["number"] == branch.number and data["reason"] == body["reason"]
    assert data["new_deadline"].startswith("2026-03-31T10:00:00")  # 17:00 in Hanoi
    assert data["old_deadline"].startswith("2026-03-24T10:00:00")
    assert created.headers["Location"].endswith(path)
    listed = client.get(path, headers=auth(branch.agent_key))  # the registering agent sees it too
    assert listed.status_code == 200 and [a["id"] for a in listed.get_json()] == [data["id"]]
    assert client.get(path, headers=auth(branch.other_key)).status_code == 404
    dossier = client.get(f"/api/v1/dossiers/{branch.number}", headers=auth(branch.officer_key)).get_json()
    assert dossier["deadline_at"] == data["new_deadline"]
    again = client.post(path, json={**body, "new_date": "2026-03-31"}, headers=auth(branch.officer_key))
    assert again.status_code == 422  # no longer after the deadline, which is now that day
    later = client.post(path, json={**body, "new_date": "2026-04-02"}, headers=auth(branch.officer_key))
    assert later.status_code == 201
    run_outbox(app)  # the first date was replaced before its SMS went: only the latest is sent
    assert [s.body.split("hen lai ")[1][:10] for s in sms_rows(app) if s.event == "apology"] == ["02/04/2026"]
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/dossiers/{number}/apologies"]["post"]
    assert {"201", "403", "404", "409", "422"} <= set(operation["responses"])
