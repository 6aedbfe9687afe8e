"""The settings: one typed declaration, every key read is declared, every setting documented."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from core.extensions import db
from core.settings import FRAMEWORK_KEYS, Settings, SettingsError, load_config, public_url, settings
from dossiers.models import Dossier
from tests import factories

pytestmark = pytest.mark.smoke

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("app", "core", "dossiers", "geo", "agent_portal", "payments", "courier", "notify", "tracking",
            "backoffice", "finance", "sandboxes")
DECLARED = {s.key for s in Settings.declared()}
ATTRIBUTES = {s.name for s in Settings.declared()}


def _sources():
    for package in PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py")) if (ROOT / package).is_dir() else ()
    yield ROOT / "wsgi.py"


def _keys_read(tree: ast.AST):
    """("config", KEY) for config["KEY"] / config.get("KEY"), ("attr", name) for settings().name."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) \
                and isinstance(node.slice.value, str) and _is_config(node.value):
            if _is_key(node.slice.value):
                yield "config", node.slice.value, node.lineno
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in ("get", "setdefault") and _is_config(node.func.value) \
                and node.args and isinstance(node.args[0], ast.Constant) and _is_key(node.args[0].value):
            yield "config", node.args[0].value, node.lineno
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Call) \
                and isinstance(node.value.func, ast.Name) and node.value.func.id == "settings":
            yield "attr", node.attr, node.lineno


def _is_key(value) -> bool:
    return isinstance(value, str) and re.fullmatch(r"[A-Z][A-Z0-9_]+", value) is not None


def _is_config(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "config") or \
        (isinstance(node, ast.Name) and node.id == "config")


def test_every_key_the_code_reads_is_declared():
    undeclared = []
    for path in _sources():
        for kind, key, line in _keys_read(ast.parse(path.read_text(encoding="utf-8"))):
            known = ATTRIBUTES if kind == "attr" else DECLARED | FRAMEWORK_KEYS
            if key not in known:
                undeclared.append(f"{path.relative_to(ROOT)}:{line}: {key}")
    assert undeclared == []


def test_only_the_settings_module_reads_the_environment():
    readers = []
    for path in _sources():
        if path == ROOT / "core" / "settings.py":
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"os\.environ|os\.getenv|getenv\(", text):
            readers.append(str(path.relative_to(ROOT)))
    assert readers == []


def test_every_setting_is_in_the_readme_configuration_table():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", table))
    missing = sorted(s.key for s in Settings.declared() if s.env and s.key not in documented)
    assert missing == []


def test_values_parse_to_their_declared_types():
    config = load_config({"OUTBOX_MAX_ATTEMPTS": "3", "OUTBOX_THREAD": "no", "SERVICE_RADIUS_KM": "5.5",
                          "DATABASE_URL": "postgres://u@h/db", "PORT": "8123", "MAX_DOCUMENT_BYTES": "1000"})
    typed = Settings(config)
    assert typed.outbox_max_attempts == 3 and typed.outbox_thread is False and typed.service_radius_km == 5.5
    assert typed.database_url == "postgresql+psycopg://u@h/db" == config["SQLALCHEMY_DATABASE_URI"]
    assert config["MAX_CONTENT_LENGTH"] == 1000 + 64 * 1024
    assert typed.public_base_url == "http://127.0.0.1:8123"  # follows where make run listens
    assert Settings(load_config({"PUBLIC_BASE_URL": "https://hcc.hanoi.gov.vn"})).public_base_url \
        == "https://hcc.hanoi.gov.vn"


@pytest.mark.parametrize("name, raw", [("OUTBOX_MAX_ATTEMPTS", "ten"), ("OUTBOX_THREAD", "maybe"),
                                       ("SERVICE_RADIUS_KM", "5 km")])
def test_a_value_that_does_not_parse_names_its_setting(name, raw):
    with pytest.raises(SettingsError, match=name):
        load_config({name: raw})


def test_settings_read_the_running_config(app):
    with app.app_context():
        assert settings().sms_rate_limit_per_hour == app.config["SMS_RATE_LIMIT_PER_HOUR"]
        saved = app.config["SMS_RATE_LIMIT_PER_HOUR"]
        app.config["SMS_RATE_LIMIT_PER_HOUR"] = 99  # tests and extensions may still override at run time
        try:
            assert settings().sms_rate_limit_per_hour == 99
        finally:
            app.config["SMS_RATE_LIMIT_PER_HOUR"] = saved


def test_links_for_people_never_come_from_the_host_header(app, agent_key):
    base = app.config["PUBLIC_BASE_URL"].rstrip("/")
    with app.test_request_context("/", base_url="http://attacker.example"):
        assert public_url("/t/abc") == f"{base}/t/abc"
        from tracking import service as tracking

        number = factories.create_dossier(app.test_client(), agent_key)["number"]
        dossier_id = db.session.scalar(select(Dossier.id).where(Dossier.number == number))
        assert tracking.issue_link(dossier_id, "sms").startswith(f"{base}/t/")
