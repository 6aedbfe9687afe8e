"""rq workers under faults: Redis killed and restarted under a running worker, a worker SIGKILLed.

Real ``rq worker`` processes (``core.jobs`` worker classes) on a private Redis that the tests kill;
the database is the suite's PostgreSQL. Every wait is bounded.
"""

from __future__ import annotations

import os
import signal
import subprocess
import uuid

import pytest
from redis import Redis

from tests.faults.rq_helpers import Workers, add, expire_claims, log_lines, relay, status
from tests.faults.servers import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def rq_app(app, private_redis, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", private_redis.url)
    monkeypatch.setitem(app.config, "JOBS_NAMESPACE", f"f{uuid.uuid4().hex[:6]}-")
    monkeypatch.setitem(app.config, "JOBS_QUEUES", "default")
    return app


@pytest.fixture
def workers(rq_app, database_url, tmp_path):
    pool = Workers(rq_app, database_url, tmp_path)
    yield pool
    pool.close()


def _log(proc) -> str:
    with open(proc.log_path) as log:
        return log.read()


@pytest.mark.parametrize("worker_class", ["tests.faults.workers.GateSimpleWorker", "tests.faults.workers.GateWorker"])
def test_a_worker_outlives_redis_killed_mid_job_and_runs_the_jobs_after_it_returns(
        rq_app, workers, private_redis, tmp_path, worker_class):
    worker = workers.start(worker_class, "--with-scheduler")
    first = add(rq_app, payload={"n": 1})
    assert relay(rq_app) == 1
    wait_until(lambda: "started 1" in log_lines(tmp_path), what="job 1 running", timeout=60)

    private_redis.kill()  # Redis dies while the job runs: the job's end cannot be told to Redis
    (tmp_path / "release-1").touch()
    wait_until(lambda: status(rq_app, first) == "done", what="job 1 done in the database")
    wait_until(lambda: worker.poll() is not None or "could not register" in _log(worker)
               or "left rq's work loop" in _log(worker), what="the worker to meet the outage", timeout=30)
    assert worker.poll() is None, "the worker exited on the Redis outage:\n" + _log(worker)[-3000:]

    private_redis.start()  # back, empty (no persistence): as after a crash
    (tmp_path / "release-2").touch()
    second = add(rq_app, payload={"n": 2})
    wait_until(lambda: relay(rq_app) == 1, what="the relay to reach Redis again")
    wait_until(lambda: status(rq_app, second) == "done", what="job 2 run by the same worker", timeout=60)
    assert worker.poll() is None
    assert log_lines(tmp_path).count("done 1") == 1 and log_lines(tmp_path).count("done 2") == 1

    worker.send_signal(signal.SIGTERM)  # and it still stops cleanly when asked
    try:
        code = worker.wait(60)  # generous: a warm shutdown also stops the scheduler, on a loaded CI machine
    except subprocess.TimeoutExpired:
        pytest.fail("the worker did not stop on SIGTERM:\n" + _log(worker)[-3000:])
    assert code == 0, _log(worker)[-3000:]


def test_a_sigkilled_worker_releases_its_scheduler_lock_to_the_next_worker(rq_app, workers, private_redis):
    connection = Redis.from_url(private_redis.url)
    queue = rq_app.config["JOBS_NAMESPACE"] + "default"
    lock = f"rq:scheduler-lock:{queue}"
    first = workers.start("tests.faults.workers.GateSimpleWorker", "--with-scheduler")
    holder = wait_until(lambda: connection.get(lock), what="the first worker's scheduler to take the lock", timeout=60)
    # The worker takes the lock, then forks its scheduler: kill it only once the scheduler runs (killed
    # before, no scheduler exists and the lock simply expires with its TTL).
    scheduler_pid = wait_until(lambda: int(connection.hget(f"rq:scheduler:{holder.decode()}", "pid") or 0),
                               what="the first worker's scheduler process to start", timeout=60)

    first.send_signal(signal.SIGKILL)  # the worker process alone: its scheduler child is not signalled
    first.wait(10)
    try:
        wait_until(lambda: connection.get(lock) is None, what="the dead worker's scheduler lock to be released",
                   timeout=60)  # generous: a loaded CI machine
        second = workers.start("tests.faults.workers.GateSimpleWorker", "--with-scheduler")
        taken = wait_until(lambda: connection.get(lock), what="the next worker's scheduler to take the lock",
                           timeout=60)
        assert taken != holder and second.poll() is None
    finally:
        if scheduler_pid:
            try:  # an orphaned scheduler (the defect) must not outlive the test
                os.kill(scheduler_pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def test_a_worker_killed_mid_job_loses_nothing_and_the_job_is_done_once(rq_app, workers, tmp_path):
    first = workers.start("tests.faults.workers.GateSimpleWorker")
    message_id = add(rq_app, payload={"n": 7})
    assert relay(rq_app) == 1
    wait_until(lambda: "started 7" in log_lines(tmp_path), what="job 7 running", timeout=60)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    assert status(rq_app, message_id) == "running"  # claimed by the dead worker

    (tmp_path / "release-7").touch()
    workers.start("tests.faults.workers.GateSimpleWorker")
    expire_claims(rq_app)  # the running claim's time (outbox.CLAIM_S) has come
    wait_until(lambda: relay(rq_app) == 1, what="the relay to hand the message over again", timeout=60)
    wait_until(lambda: status(rq_app, message_id) == "done", what="job 7 done by the next worker", timeout=60)
    assert log_lines(tmp_path).count("done 7") == 1
