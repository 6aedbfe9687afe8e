"""The rq worker classes: the app created once per process, a work loop that outlives Redis, no orphans.

``core.jobs.AppSimpleWorker`` (the default, ``make worker``: ``rq worker-pool --worker-class
core.jobs.AppSimpleWorker``) runs each job in the worker process; ``core.jobs.AppWorker`` is rq's forking
worker (a work horse per job) for long or memory-hungry work. Both names are re-exported by core.jobs.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import time

from redis.exceptions import RedisError
from rq import SimpleWorker, Worker

log = logging.getLogger("core.jobs")

_PR_SET_PDEATHSIG = 1
_forks_watched = False


def _die_with_parent() -> None:
    """In a child just forked (rq's scheduler, a work horse): SIGTERM when the worker dies, even by SIGKILL,
    and SIGTERM's default action until the child installs its own handler.

    The scheduler's SIGTERM handler stops it and releases its locks, so the scheduler of the
    next worker takes them; without this the orphan keeps renewing them for ever. Linux only.
    The child inherits the worker's handler, which only flags the worker's copy for a warm stop: a
    SIGTERM that reaches the scheduler before it installs its own (the worker told to stop just as
    it starts its scheduler) was swallowed, the scheduler ran on and the worker waited for it for ever.
    """
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _release_sigterm()  # one that came during the fork lands now
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the lock expires 60 s after the orphan is stopped
        pass


def _hold_sigterm() -> None:
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})


def _release_sigterm() -> None:
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})


def _watch_forks() -> None:
    global _forks_watched
    if not _forks_watched:
        # SIGTERM is held from just before the fork until the child has its default action back (or, in the
        # worker, at once): one sent in between is delivered then, never run by an inherited handler.
        os.register_at_fork(before=_hold_sigterm, after_in_parent=_release_sigterm, after_in_child=_die_with_parent)
        _forks_watched = True


class _Resilient:
    """What our workers add to rq's: the app created once, and a work loop that outlives Redis.

    rq's loop quits on a Redis error met outside its blocking wait for jobs (a job finishing,
    the suspension check, a heartbeat): the process then exits and the node runs no jobs until
    someone restarts it. Here a long-running worker (not ``--burst``, ``--max-jobs`` or
    ``--max-idle-time``, which keep rq's behaviour) waits for Redis to answer again, with
    backoff, and starts over: it registers again and starts its scheduler again.
    """

    def __init__(self, *args, **kwargs):
        from core.jobs import worker_app  # core.jobs re-exports these classes: imported when needed

        app = worker_app()
        _watch_forks()
        super().__init__(*args, **kwargs)
        # How often the worker cleans rq's registries and, with --with-scheduler, tries to take over
        # the scheduler lock a dead worker left (rq's default: every 10 minutes).
        self.maintenance_interval = int(app.config.get("JOBS_MAINTENANCE_S", 60))
        self.stop_asked = False

    def request_stop(self, signum, frame):
        self.stop_asked = True
        super().request_stop(signum, frame)

    def teardown(self):
        try:
            super().teardown()  # stops the scheduler process first, then tells Redis
        except RedisError as exc:
            log.warning("worker %s: could not register its death (%s: %s)", self.name, type(exc).__name__, exc)
            if self.pubsub_thread is not None:
                self.pubsub_thread.stop()

    def work(self, burst: bool = False, logging_level: str | None = None, *args, **kwargs) -> bool:
        once = burst or kwargs.get("max_jobs") is not None or kwargs.get("max_idle_time") is not None
        worked = False
        while True:
            try:
                worked = super().work(burst, logging_level, *args, **kwargs) or worked
            except RedisError as exc:
                log.error("worker %s: %s: %s", self.name, type(exc).__name__, exc)
            if self.stop_asked or once:
                return worked
            log.error("worker %s: left rq's work loop; waiting for Redis, then starting over", self.name)
            if not self._wait_for_redis():
                return worked
            try:  # a stale registration (Redis kept its data) would refuse the new birth
                self.register_death()
            except RedisError:
                continue

    def _wait_for_redis(self) -> bool:
        wait = 0.5
        while not self.stop_asked:
            try:
                self.connection.ping()
                log.warning("worker %s: Redis answers again", self.name)
                return True
            except RedisError:
                time.sleep(wait)
                wait = min(wait * 2, 10.0)
        return False


class AppWorker(_Resilient, Worker):
    """rq's forking worker (a work horse per job) with the app created once, before any fork.

    For long or memory-hungry jobs: ``rq worker --with-scheduler --worker-class core.jobs.AppWorker QUEUES…``.
    """


class AppSimpleWorker(_Resilient, SimpleWorker):
    """Jobs run in the worker process itself: no fork per job (~14 jobs/s forked, hundreds without).

    The outbox's jobs are short database updates and HTTP calls, each with its own timeout, so
    this is the default (``make worker``: ``rq worker-pool -n N --worker-class core.jobs.AppSimpleWorker``).
    rq still stops a job past ``JOBS_TIMEOUT_S`` (SIGALRM, in process).
    """
