"""gunicorn settings for the web app: ``gunicorn -c gunicorn.conf.py wsgi:app`` (gunicorn also reads this
file by itself from the working directory).

Every value can be overridden from the environment (the variables below) or on the command line.
Prometheus: each worker writes its counts under ``PROMETHEUS_MULTIPROC_DIR`` (a fresh directory per
start, made here unless set), ``/metrics`` adds them up, and a worker that exits is marked dead.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile

# Where to listen: behind a reverse proxy on the same host (it terminates TLS), or 0.0.0.0:8000 in a container.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers (one request each at a time) sized to the CPUs; the app is CPU and database bound.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))  # > 1 switches to gthread workers
worker_class = "gthread" if threads > 1 else "sync"
# A request taking longer than this is killed (its transaction rolls back); uploads are capped at
# MAX_DOCUMENT_BYTES, slow clients are the proxy's to buffer.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Workers are replaced now and then (bounded memory growth), at staggered times.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "500"))
# The app is imported in each worker after the fork (the outbox relay thread and pools start there).
preload_app = False
# Only this proxy's X-Forwarded-* headers are believed.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# Access and error logs without tracking/receipt tokens, sensitive query strings, CCCD or phone numbers.
logger_class = "core.security.RedactingGunicornLogger"
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# The path without its query string (%(U)s): no search terms or tokens from query strings in the log.
if os.environ.get("LOG_FORMAT", "text").lower() == "json":
    access_log_format = ('{"time": "%(t)s", "remote": "%(h)s", "method": "%(m)s", "path": "%(U)s", '
                         '"status": %(s)s, "bytes": "%(B)s", "duration_ms": %(M)s, "referer": "%(f)s", '
                         '"user_agent": "%(a)s", "request_id": "%({x-request-id}i)s"}')
else:
    access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms "%(a)s"'

if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="hanoi-agents-metrics-")


def on_starting(server):
    # Counts of an earlier run are not this run's: start from an empty directory.
    path = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path, exist_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
