"""Demo data for the embedded default: safe to load any number of times."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from app import demo_agents
from core import accounts
from core.roles import OrganisationKind, Role
from core.uow import unit_of_work
from dossiers import catalogue
from geo import service as geo
from geo.points_import import import_points_csv
from payments import service as payments

ROOT = Path(__file__).resolve().parent.parent
POINTS_CSV = ROOT / "geo" / "data" / "hanoi_service_points.csv"
PROCEDURES_CSV = ROOT / "dossiers" / "data" / "procedures.csv"
DEMO_PASSWORD = "HanoiDemo!2026"  # noqa: S105 - demo data, printed by make run

ORGANISATIONS = [
    ("VNPOST-HN", "Bưu điện Thành phố Hà Nội (demo)", OrganisationKind.POSTAL),
    ("HNTECH", "Công ty Cổ phần Công nghệ Dịch vụ công Hà Nội (demo)", OrganisationKind.TECHNOLOGY),
    ("VIETTELPOST-HN", "Viettel Post Hà Nội (demo)", OrganisationKind.POSTAL),
    ("DIGIGOV", "Công ty Cổ phần Giải pháp Chính quyền số DigiGov (demo)", OrganisationKind.TECHNOLOGY),
]
# email, full name, role, organisation code, service point code
USERS = [
    ("daily.buudien@demo.hanoi.vn", "Nguyễn Thị Lan", Role.AGENT, "VNPOST-HN", None),
    ("daily.congnghe@demo.hanoi.vn", "Trần Văn Minh", Role.AGENT, "HNTECH", None),
    ("canbo.cn02@demo.hanoi.vn", "Lê Thu Hà", Role.BRANCH_OFFICER, None, "HN-CN02"),
    ("canbo.cn01@demo.hanoi.vn", "Nguyễn Đức Thắng", Role.BRANCH_OFFICER, None, "HN-CN01"),
    ("canbo.cn07@demo.hanoi.vn", "Trương Thị Hạnh", Role.BRANCH_OFFICER, None, "HN-CN07"),
    # Unbound: works on the dossiers of every point (the demo month's reception and commune points).
    ("canbo.giamsat@demo.hanoi.vn", "Đinh Công Sơn", Role.BRANCH_OFFICER, None, None),
    ("taichinh@demo.hanoi.vn", "Phạm Quốc Huy", Role.FINANCE, None, None),
    ("quantri@demo.hanoi.vn", "Hoàng Minh Anh", Role.ADMIN, None, None),
    ("lanhdao@demo.hanoi.vn", "Vũ Thị Thanh Mai", Role.LEADERSHIP, None, None),  # /monitoring
]
# Illustrative service fees (not a published tariff): organisation code, rule.
FEE_RULES = [
    ("VNPOST-HN", {"effective_from": date(2026, 1, 1), "percent": Decimal("10"), "minimum_vnd": 15_000,
                   "maximum_vnd": 50_000}),
    ("HNTECH", {"effective_from": date(2026, 1, 1), "flat_vnd": 20_000}),
    ("VIETTELPOST-HN", {"effective_from": date(2026, 1, 1), "percent": Decimal("8"), "minimum_vnd": 12_000,
                        "maximum_vnd": 45_000}),
    ("DIGIGOV", {"effective_from": date(2026, 1, 1), "flat_vnd": 18_000}),
]


def load_demo(month: bool = True) -> dict:
    """The reference data, organisations, points and users; then, unless ``month`` is False, the demo month
    (app/demo_month.py: its own transactions, one per use case, as the platform runs them)."""
    result = _load_reference()
    if month:
        from app import demo_month  # uses the data above

        result["month"] = demo_month.generate()
        result["finance"] = _seed_finance(result["month"]["month_start"])
    return result


# Each finance section adds its part of the month on top of it (idempotent), in this order: cash handed
# over, the gateway and bank reconciled, statements issued, the queue worked on.
FINANCE_SEEDS = ("finance.demo_cash", "finance.demo_recon", "finance.demo_statements", "finance.demo_queue")


def _seed_finance(month_start) -> dict:
    import importlib

    from app.demo_month import quiet_side_effects

    # Like the month: the in-process gateway's requests start no runner thread that would write to the
    # (SQLite) database while a seed does; what the seeds enqueue runs once the app serves.
    with quiet_side_effects():
        return {name.rsplit(".", 1)[1]: importlib.import_module(name).seed_demo(month_start)
                for name in FINANCE_SEEDS}


@unit_of_work()  # one transaction: the importers and the fee rules inside it are nested units
def _load_reference() -> dict:
    points = import_points_csv(POINTS_CSV.read_text(encoding="utf-8"))
    procedures = catalogue.import_csv(PROCEDURES_CSV.read_text(encoding="utf-8"))
    orgs = {code: accounts.ensure_organisation(code, name, kind) for code, name, kind in ORGANISATIONS}
    for email, name, role, org_code, point_code in USERS:
        point_id = geo.get_point(point_code).id if point_code else None
        accounts.ensure_user(email, name, role, DEMO_PASSWORD, orgs.get(org_code), point_id)
    agent_points = demo_agents.ensure_agent_points(orgs, DEMO_PASSWORD)
    for org_code, rule in FEE_RULES:
        payments.ensure_fee_rule(org_code, rule, created_by="demo")
    return {"points": points, "procedures": procedures, "agent_points": len(agent_points)}
