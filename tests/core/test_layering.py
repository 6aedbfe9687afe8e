"""Layering: the pure modules load no web framework, and the kernel never imports the composition root."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Plain Python over plain data: benchmarked, reused in batch work and coverage, imported by tools.
PURE = ["core.calendar", "core.masking", "core.plural", "core.roles", "core.text", "core.timeutil",
        "dossiers.deadlines", "dossiers.enums", "dossiers.files", "dossiers.lifecycle", "dossiers.search",
        "geo.address", "geo.coverage", "geo.hours", "geo.router", "geo.rules", "geo.territory", "geo.travel",
        "payments.fees", "payments.ledger"]
FRAMEWORKS = ("flask", "flask_sqlalchemy", "flask_smorest", "sqlalchemy", "werkzeug")


def test_pure_modules_import_no_web_framework_or_orm():
    probe = ("import importlib, json, sys\n"
             f"for name in {PURE!r}: importlib.import_module(name)\n"
             f"print(json.dumps(sorted(m for m in {FRAMEWORKS!r} if m in sys.modules)))")
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]", result.stdout


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_no_package_imports_the_composition_root():
    offenders = []
    for package in ("core", "dossiers", "geo", "agent_portal", "payments", "courier", "notify", "tracking"):
        for path in (ROOT / package).rglob("*.py"):
            if any(name == "app" or name.startswith("app.") for name in _imports(path)):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


FEATURES = ("dossiers", "geo", "agent_portal", "payments", "courier", "notify", "tracking", "backoffice", "finance")
# A package uses another only through that package's service.py (ARCHITECTURE.md). The exceptions, each
# (importing module, imported module): the dossier model and its status enums are the platform's shared
# vocabulary; tracking's page query reads a payment's existence in its single round trip (courier's
# shipment comes through courier.service.shipment_id_column instead).
CROSS_PACKAGE_ALLOWED = {
    # finance's reconciliation links payouts to the bank statement's lines (set-based SQL reads the rest).
    ("finance/recon_bank.py", "payments.models"),
    # the demo month's reconciliation picks card payments to break and adds a stray statement line.
    ("finance/demo_recon.py", "payments.models"),
    ("agent_portal/views.py", "dossiers.models"), ("payments/bank.py", "dossiers.models"),
    ("payments/service.py", "dossiers.models"), ("payments/provisional.py", "dossiers.models"),
    ("courier/service.py", "dossiers.models"), ("courier/booking.py", "dossiers.models"),
    ("notify/service.py", "dossiers.models"), ("tracking/service.py", "dossiers.models"),
    ("tracking/repository.py", "dossiers.models"), ("tracking/repository.py", "payments.models"),
    # Finance's cash holdings are one set-based query over payments, refunds and dossiers (FIFO by window
    # function); its deposit matching reads and marks the bank statement's lines.
    ("finance/cash_holdings.py", "dossiers.models"), ("finance/cash_holdings.py", "payments.models"),
    ("finance/cash_deposits.py", "payments.models"),
    # finance's queue and reports read dossiers, payments and the ledger set-based (one query per figure).
    ("finance/queue.py", "dossiers.models"), ("finance/treasury.py", "dossiers.models"),
    ("finance/treasury.py", "payments.models"), ("finance/dashboard.py", "payments.models"),
    # the monitoring's figures and alerts are one grouped query per table over dossiers, their resolutions,
    # service points, payments and feedback (4M dossiers a year: no per-row service calls).
    ("backoffice/monitoring.py", "dossiers.models"), ("backoffice/monitoring.py", "geo.models"),
    ("backoffice/monitoring.py", "payments.models"), ("backoffice/monitoring.py", "tracking.models"),
    ("backoffice/alerts.py", "dossiers.models"), ("backoffice/alerts.py", "geo.models"),
    ("backoffice/alerts.py", "tracking.models"),
    # the agent statements' figures are set-based SQL over the ledger and the dossiers (INSERT … SELECT on issue).
    ("finance/statement_queries.py", "dossiers.models"), ("finance/statement_queries.py", "payments.models"),
}


def test_packages_use_each_other_only_through_service_modules():
    found = set()
    for package in FEATURES:
        for path in (ROOT / package).rglob("*.py"):
            for name in _imports(path):
                head, _, rest = name.partition(".")
                if head in FEATURES and head != package and rest.split(".")[0] in ("models", "repository"):
                    found.add((str(path.relative_to(ROOT)), name))
    assert found - CROSS_PACKAGE_ALLOWED == set(), "import the other package's service.py instead"
