"""gunicorn.conf.py as production runs it: several workers, one metrics view of all, JSON access log lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.faults.servers import free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.postgres


def test_gunicorn_with_its_config_serves_adds_up_metrics_and_logs_json(app, database_url, tmp_path):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2",
           "LOG_FORMAT": "json", "METRICS_TOKEN": "scrape", "OUTBOX_THREAD": "0", "LOG_LEVEL": "WARNING"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log = open(tmp_path / "gunicorn.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        def up():
            try:
                return requests.get(f"{base}/healthz", timeout=10).status_code == 200
            except requests.RequestException:  # not listening yet, or a worker still booting
                return False

        wait_until(up, timeout=60, what="gunicorn to answer")
        assert requests.get(f"{base}/readyz", timeout=5).json()["migrations"] == "ok"
        for _ in range(40):  # new connections: both workers take some
            assert requests.get(f"{base}/healthz", timeout=5).status_code == 200
        assert requests.get(f"{base}/metrics", timeout=5).status_code == 401
        scraped = requests.get(f"{base}/metrics", headers={"Authorization": "Bearer scrape"}, timeout=5).text
        line = next(li for li in scraped.splitlines()
                    if li.startswith('http_requests_total{endpoint="health.healthz",method="GET",status="200"}'))
        assert float(line.rsplit(" ", 1)[1]) >= 41  # every worker's count, added up
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()
    access = [json.loads(li) for li in (tmp_path / "gunicorn.log").read_text().splitlines()
              if li.startswith('{"time"') and '"path": "/healthz"' in li]
    assert len(access) >= 41 and access[0]["status"] == 200 and access[0]["method"] == "GET"
