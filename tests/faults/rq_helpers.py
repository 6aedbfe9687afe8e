"""Running real ``rq worker`` processes against a private Redis, as production runs them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

from core import jobs, outbox
from core.extensions import db
from core.outbox import OutboxMessage
from core.timeutil import utcnow

ROOT = Path(__file__).resolve().parents[2]
RQ = str(Path(sys.executable).parent / "rq")


class Workers:
    """rq worker subprocesses; every one still running is stopped (SIGKILL) by ``close``."""

    def __init__(self, app, database_url: str, fault_dir: Path):
        self.app, self.database_url, self.fault_dir = app, database_url, fault_dir
        self.procs: list[subprocess.Popen] = []

    def start(self, worker_class: str = "tests.faults.workers.GateSimpleWorker", *extra: str,
              pool: int | None = None, env: dict | None = None) -> subprocess.Popen:
        config = self.app.config
        env = {**os.environ, "DATABASE_URL": self.database_url, "REDIS_URL": config["REDIS_URL"],
               "JOBS_NAMESPACE": config["JOBS_NAMESPACE"], "JOBS_QUEUES": config["JOBS_QUEUES"],
               "JOBS_MAINTENANCE_S": "2", "OUTBOX_THREAD": "0", "LOG_LEVEL": "WARNING",
               "FAULT_DIR": str(self.fault_dir), "PYTHONPATH": str(ROOT), **(env or {})}
        with self.app.app_context():
            queues = jobs.queue_names()
        name = f"{config['JOBS_NAMESPACE']}w{len(self.procs)}-{uuid.uuid4().hex[:4]}"
        if pool:
            args = [RQ, "worker-pool", "-n", str(pool), "--worker-class", worker_class, "--url", config["REDIS_URL"]]
        else:
            args = [RQ, "worker", "--worker-class", worker_class, "--url", config["REDIS_URL"], "--name", name]
        log = open(self.fault_dir / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen([*args, *extra, *queues], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        proc.log_path = log.name
        proc.worker_name = name
        self.procs.append(proc)
        return proc

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)


def add(app, topic: str = "fault.gate", payload: dict | None = None) -> int:
    with app.app_context():
        message = outbox.enqueue(topic, payload or {}, due_at=utcnow())
        db.session.commit()
        return message.id


def status(app, message_id: int) -> str:
    with app.app_context():
        try:
            return db.session.get(OutboxMessage, message_id).status
        finally:
            db.session.remove()


def relay(app) -> int | None:
    """Relay what is due; None while Redis refuses (the rows stay pending)."""
    with app.app_context():
        try:
            return jobs.relay_due()
        except jobs.RelayUnavailable:
            return None
        finally:
            db.session.remove()


def expire_claims(app) -> None:
    """As if the claims' time had passed (a killed worker's running claim lasts outbox.CLAIM_S, 5 minutes)."""
    with app.app_context():
        db.session.execute(OutboxMessage.__table__.update()
                           .where(OutboxMessage.status.in_(("queued", "running")))
                           .values(claimed_until=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        db.session.remove()


def log_lines(fault_dir: Path) -> list[str]:
    path = fault_dir / "log"
    return path.read_text().splitlines() if path.exists() else []
