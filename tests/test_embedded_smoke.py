"""The embedded default as `make run` starts it: SQLite under instance/, demo data, a real server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.smoke, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _flask(env, *args, check=True):
    return subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=check, timeout=120)


def _healthy(base: str) -> bool:
    try:
        return requests.get(f"{base}/healthz", timeout=1).status_code == 200
    except requests.ConnectionError:
        return False


def test_make_run_sequence_serves_the_api(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(FLASK_APP="wsgi", INSTANCE_DIR=str(tmp_path / "instance"))
    _flask(env, "db", "upgrade")
    # The demo month (a minute of work) is tested in tests/test_demo_month.py; the boot is what counts here.
    assert "159 created" in _flask(env, "demo", "load", "--no-month").stdout
    again = _flask(env, "demo", "load", "--no-month").stdout
    assert "0 created" in again and "demo month" not in again  # safe to run twice
    assert (tmp_path / "instance" / "hanoi_agents.db").exists()
    key = _flask(env, "agents", "create-key", "VNPOST-HN").stdout.strip()
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "flask", "run", "--port", str(port)], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _healthy(base), f"the server on port {port} to answer /healthz")
        headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": "smoke-1"}
        body = {"procedure_code": "HN-TP-001",
                "citizen": {"full_name": "Trần Thị Bình", "cccd": "001190054321", "phone": "+84 98 765 4321"},
                "location": {"lat": 21.0340, "lon": 105.7850}}
        created = requests.post(f"{base}/api/v1/dossiers", json=body, headers=headers, timeout=10)
        assert created.status_code == 201, created.text
        assert created.json()["service_point"]["service_point_code"] == "HN-CN02"
        again = requests.post(f"{base}/api/v1/dossiers", json=body, headers=headers, timeout=10)
        assert again.status_code == 200 and again.json()["number"] == created.json()["number"]
        docs = requests.get(f"{base}/api/v1/docs", timeout=5)
        assert docs.status_code == 200 and "swagger-ui-bundle.js" in docs.text
    finally:
        server.terminate()
        server.wait(timeout=10)
