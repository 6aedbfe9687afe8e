"""rq worker classes for the fault tests: ours, plus a handler the test can hold mid-job.

``rq worker --worker-class tests.faults.workers.GateSimpleWorker`` imports this module, which
registers ``fault.gate``: the handler writes ``started <n>`` to ``$FAULT_DIR/log``, waits (at
most a minute) for the file ``$FAULT_DIR/release-<n>``, then writes ``done <n>``. So a test can
kill Redis or the worker while a job is running, and count how often each job completed.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from core import jobs
from core.outbox import handler


def _note(line: str) -> None:
    with open(Path(os.environ["FAULT_DIR"]) / "log", "a") as log:
        log.write(line + "\n")


@handler("fault.gate")
def gate(payload: dict) -> None:
    n = payload["n"]
    _note(f"started {n}")
    release = Path(os.environ["FAULT_DIR"]) / f"release-{n}"
    deadline = time.monotonic() + 60
    while not release.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    _note(f"done {n}")


class GateSimpleWorker(jobs.AppSimpleWorker):
    pass


class GateWorker(jobs.AppWorker):
    pass
