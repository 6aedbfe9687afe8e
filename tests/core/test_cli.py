"""The command line: agents, users, keys, catalogue import, demo data."""

from __future__ import annotations

import pytest

from app.demo import USERS
from app.demo_agents import AGENT_POINTS
from tests import factories
from tests.factories import auth

pytestmark = pytest.mark.smoke


@pytest.fixture
def cli(app):
    return app.test_cli_runner()


def test_demo_load_is_safe_to_run_twice(app, cli):
    # The demo month is tested in tests/test_demo_month.py (with the second `flask demo load`).
    first = cli.invoke(args=["demo", "load", "--no-month"])
    second = cli.invoke(args=["demo", "load", "--no-month"])
    assert first.exit_code == 0 and second.exit_code == 0, first.output
    assert "159 checked" in second.output or "0 created" in second.output
    assert "agent points:   14" in second.output and "demo month" not in second.output
    users = cli.invoke(args=["users", "list"]).output.splitlines()
    assert len(users) == len({email for email, *_ in USERS} | {point.email for point in AGENT_POINTS})
    assert {line.split("\t")[1] for line in users} == {"agent", "branch_officer", "finance", "admin", "leadership"}
    logins = cli.invoke(args=["demo", "logins"]).output
    assert "quantri@demo.hanoi.vn" in logins and "HanoiDemo!2026" in logins


def test_users_list_names_an_officers_service_point_by_its_code(app, cli):
    with app.app_context():
        factories.create_user("branch_officer", "officer.cn01@test.vn", service_point_code="HN-CN01")
        factories.create_user("agent", "agent@test.vn", org=factories.create_org("VNPOST-HN"))
        factories.create_user("admin", "admin@test.vn")
    lines = cli.invoke(args=["users", "list"]).output.splitlines()
    scopes = {line.split("\t")[0]: line.split("\t")[2] for line in lines}
    assert scopes == {"officer.cn01@test.vn": "HN-CN01", "agent@test.vn": "VNPOST-HN", "admin@test.vn": "-"}


def test_agents_list_puts_the_code_first(app, cli):
    with app.app_context():
        factories.create_org("VNPOST-HN", "postal")
        factories.create_org("HNTECH", "technology")
    lines = cli.invoke(args=["agents", "list"]).output.splitlines()
    assert [line.split("\t")[0] for line in lines] == ["HNTECH", "VNPOST-HN"]
    assert lines[1].split("\t")[1] == "postal"


def test_create_key_prints_a_working_key_once(app, cli, client):
    with app.app_context():
        factories.create_org()
    result = cli.invoke(args=["agents", "create-key", "VNPOST-HN"])
    assert result.exit_code == 0
    key = result.stdout.strip().splitlines()[0]
    assert key.startswith("hpa_")
    assert client.get("/api/v1/procedures", headers=auth(key)).status_code == 200
    assert key not in cli.invoke(args=["agents", "list"]).output
    assert "1 key(s)" in cli.invoke(args=["agents", "list"]).output
    unknown = cli.invoke(args=["agents", "create-key", "NOPE"])
    assert unknown.exit_code != 0 and "NOPE" in unknown.output


def test_user_keys_carry_the_role(app, cli, client):
    with app.app_context():
        factories.create_user("branch_officer", email="officer@test.vn")
    key = cli.invoke(args=["users", "create-key", "officer@test.vn"]).stdout.strip().splitlines()[0]
    assert client.get("/api/v1/dossiers", headers=auth(key)).status_code == 200
    post = client.post("/api/v1/dossiers", json={}, headers=auth(key, **{"Idempotency-Key": "x"}))
    assert post.status_code == 403


def test_catalog_import_reports_rejected_rows_and_keeps_good_ones(app, cli, client, agent_key, tmp_path):
    path = tmp_path / "catalog.csv"
    path.write_text(
        "code,name,name_en,level,sector,fee_vnd,fee_note,processing_days,required_documents\n"
        "HN-NEW-001,Cấp giấy phép thử nghiệm,Trial permit,province,Thử nghiệm,50000,,5,Đơn đề nghị | Bản sao CCCD\n"
        "HN-NEW-002,Thủ tục cấp lạ,Odd,village,Thử nghiệm,0,,1,\n"
        "HN-NEW-003,Phí âm,Negative fee,commune,Thử nghiệm,-5,,1,\n"
        ",Không mã,No code,commune,Thử nghiệm,0,,1,\n"
        "HN-NEW-001,Trùng mã,Duplicate,commune,Thử nghiệm,0,,1,\n",
        encoding="utf-8",
    )
    result = cli.invoke(args=["catalog", "import", str(path)])
    assert result.exit_code == 2
    out = result.output
    assert "1 created, 0 updated, 4 rejected" in out
    assert "line 3 (HN-NEW-002): level" in out and "Phải là một trong" in out
    assert "line 4 (HN-NEW-003): fee_vnd" in out
    assert "line 5 (?): code" in out
    assert "line 6 (HN-NEW-001): code" in out and "Trùng mã với dòng 2" in out
    found = client.get("/api/v1/procedures?q=giay phep thu nghiem", headers=auth(agent_key)).get_json()
    assert found[0]["code"] == "HN-NEW-001"
    assert found[0]["required_documents"] == ["Đơn đề nghị", "Bản sao CCCD"]
    assert found[0]["fee_vnd"] == 50000
