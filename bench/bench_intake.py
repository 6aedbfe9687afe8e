"""Intake throughput benchmark: POST /api/v1/dossiers against a bare Flask JSON endpoint.

Requirement: on PostgreSQL under gunicorn with 2 workers, ``POST /api/v1/dossiers`` reaches
at least 25% of the requests per second of a bare Flask JSON endpoint served the same way,
measured in the same run (wrk, 32 connections), with no errors.

    .venv/bin/python bench/bench_intake.py [--duration 10] [--connections 32]

Creates a throw-away database, loads the demo data, issues an agent key, then serves and
loads each app in turn. Prints a table, writes bench/results/intake.json, drops the
database. Exit code: 0 when the target holds with no errors, 1 when not, 2 when wrk or
PostgreSQL is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
TARGET_RATIO = 0.25
WORKERS = 2
THREADS = 2
WARMUP_SECONDS = 2


@dataclass
class WrkResult:
    requests: int = 0
    requests_per_sec: float = 0.0
    latency_avg_ms: float | None = None
    latency_max_ms: float | None = None
    latency_p50_ms: float | None = None
    latency_p90_ms: float | None = None
    latency_p99_ms: float | None = None
    non_2xx_3xx: int = 0  # wrk's own count (status >= 400)
    socket_errors: dict[str, int] = field(default_factory=dict)
    script_responses: int | None = None  # counted by the Lua response() hook
    script_non_2xx: int | None = None
    statuses: dict[str, int] = field(default_factory=dict)
    first_error: str | None = None

    @property
    def errors(self) -> int:
        """Every failed request: HTTP errors (either count, whichever is larger) and socket errors."""
        http = max(self.non_2xx_3xx, self.script_non_2xx or 0)
        return http + sum(self.socket_errors.values())

    @property
    def ok_2xx(self) -> int:
        if self.statuses:
            return sum(n for s, n in self.statuses.items() if s.startswith("2"))
        return self.requests - self.non_2xx_3xx


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if not match:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNIT_MS[match.group(2)]


def parse_wrk(output: str) -> WrkResult:
    result = WrkResult()
    if m := re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M):
        result.requests_per_sec = float(m.group(1))
    if m := re.search(r"^\s*(\d+) requests in ", output, re.M):
        result.requests = int(m.group(1))
    if m := re.search(r"^\s*Latency\s+(\S+)\s+\S+\s+(\S+)", output, re.M):
        result.latency_avg_ms, result.latency_max_ms = _ms(m.group(1)), _ms(m.group(2))
    for pct, attr in (("50", "latency_p50_ms"), ("90", "latency_p90_ms"), ("99", "latency_p99_ms")):
        if m := re.search(rf"^\s*{pct}%\s+(\S+)", output, re.M):
            setattr(result, attr, _ms(m.group(1)))
    if m := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output):
        result.non_2xx_3xx = int(m.group(1))
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output):
        result.socket_errors = dict(zip(("connect", "read", "write", "timeout"), map(int, m.groups()), strict=True))
    if m := re.search(r"^bench: responses=(\d+) non2xx=(\d+) statuses=(\S*)", output, re.M):
        result.script_responses, result.script_non_2xx = int(m.group(1)), int(m.group(2))
        result.statuses = dict(pair.split(":", 1) for pair in m.group(3).split(",") if pair)
        result.statuses = {k: int(v) for k, v in result.statuses.items()}
    if m := re.search(r"^bench: first_error=(.*)$", output, re.M):
        result.first_error = m.group(1)
    return result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(cmd: list[str], env: dict[str, str]) -> str:
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
    return proc.stdout


def wait_ready(proc: subprocess.Popen, url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 - our own localhost URL
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer 200 within {timeout:.0f} s")


def stop(proc: subprocess.Popen) -> None:
    """Stop gunicorn and its workers: the whole process group, gracefully, then by force."""
    if proc.poll() is not None:
        return
    for sig, grace in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


@contextmanager
def gunicorn(app: str, env: dict[str, str], log: Path) -> Iterator[str]:
    port = free_port()
    cmd = [sys.executable, "-m", "gunicorn", "--workers", str(WORKERS), "--worker-class", "sync",
           "--bind", f"127.0.0.1:{port}", app]
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)  # its own process group, for stop()
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(proc, base + "/healthz")
        yield base
    finally:
        stop(proc)


def wrk(url: str, script: str | None, seconds: int, connections: int,
        env: dict[str, str]) -> tuple[WrkResult, str]:
    cmd = ["wrk", "--threads", str(THREADS), "--connections", str(connections),
           "--duration", f"{seconds}s", "--timeout", "10s", "--latency",
           *(["--script", str(BENCH / script)] if script else []), url]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    output = proc.stdout + proc.stderr
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed ({proc.returncode}):\n{output}")
    return parse_wrk(output), output


def measure(name: str, app: str, script: str, args: argparse.Namespace, env: dict[str, str],
            run_id: str, reference_path: str | None = None) -> tuple[WrkResult, WrkResult, WrkResult | None]:
    """Serve ``app``, warm it up, measure; returns (warm-up, measured, reference) results.

    ``reference_path``, when given, is then measured on the same server with plain GETs:
    the cost of the framework and one database query, for reading the main figure.
    """
    reference = None
    with gunicorn(app, env, RESULTS / f"intake-{name}-gunicorn.log") as base:
        warm, _ = wrk(base, script, WARMUP_SECONDS, args.connections,
                      {**env, "BENCH_RUN_ID": f"{run_id}-{name}-warmup"})
        result, output = wrk(base, script, args.duration, args.connections,
                             {**env, "BENCH_RUN_ID": f"{run_id}-{name}"})
        if reference_path:
            reference, _ = wrk(base + reference_path, None, args.duration, args.connections, env)
    (RESULTS / f"intake-{name}-wrk.txt").write_text(output)
    return warm, result, reference


def dossier_counts(url: str) -> tuple[int, int]:
    with psycopg.connect(url) as conn:
        total, distinct = conn.execute("SELECT count(*), count(DISTINCT number) FROM dossiers").fetchone()
    return total, distinct


def git_commit() -> str | None:
    proc = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                          text=True, check=False)
    return proc.stdout.strip() or None


def fmt_ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def report(baseline: WrkResult, intake: WrkResult, db: dict, ratio: float, passed: bool,
           checks: dict[str, bool]) -> str:
    rows = [
        ("", "baseline (bare /echo)", "intake (/api/v1/dossiers)"),
        ("requests/sec", f"{baseline.requests_per_sec:,.1f}", f"{intake.requests_per_sec:,.1f}"),
        ("requests", f"{baseline.requests:,}", f"{intake.requests:,}"),
        ("latency avg ms", fmt_ms(baseline.latency_avg_ms), fmt_ms(intake.latency_avg_ms)),
        ("latency p50 ms", fmt_ms(baseline.latency_p50_ms), fmt_ms(intake.latency_p50_ms)),
        ("latency p90 ms", fmt_ms(baseline.latency_p90_ms), fmt_ms(intake.latency_p90_ms)),
        ("latency p99 ms", fmt_ms(baseline.latency_p99_ms), fmt_ms(intake.latency_p99_ms)),
        ("latency max ms", fmt_ms(baseline.latency_max_ms), fmt_ms(intake.latency_max_ms)),
        ("non-2xx (wrk/script)", f"{baseline.non_2xx_3xx}/{baseline.script_non_2xx}",
         f"{intake.non_2xx_3xx}/{intake.script_non_2xx}"),
        ("socket errors", str(sum(baseline.socket_errors.values())),
         str(sum(intake.socket_errors.values()))),
        ("statuses", _statuses(baseline), _statuses(intake)),
    ]
    width = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = ["  ".join(cell.ljust(width[i]) if i == 0 else cell.rjust(width[i])
                       for i, cell in enumerate(row)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in width))
    lines += [
        "",
        f"ratio intake/baseline   {ratio:.1%}   (target >= {TARGET_RATIO:.0%})",
        f"dossiers in database    {db['dossiers']:,} (wrk 2xx: {db['wrk_2xx']:,}, "
        f"difference {db['dossiers'] - db['wrk_2xx']:+d}, allowed 0..+{db['tolerance']})",
        f"distinct numbers        {db['distinct_numbers']:,}",
        "checks                  " + ", ".join(f"{k}={'ok' if v else 'FAIL'}" for k, v in checks.items()),
        f"result                  {'PASS' if passed else 'FAIL'}",
    ]
    for name, result in (("baseline", baseline), ("intake", intake)):
        if result.first_error:
            lines.append(f"first {name} error     {result.first_error[:200]}")
    return "\n".join(lines)


def _statuses(result: WrkResult) -> str:
    return " ".join(f"{k}:{v}" for k, v in sorted(result.statuses.items())) or "-"


def preflight(admin_url: str) -> psycopg.Connection | None:
    """wrk installed and PostgreSQL reachable: the admin connection, or None after saying what is missing."""
    if shutil.which("wrk") is None:
        print("wrk is not installed. Install it with:  apt-get install -y wrk", file=sys.stderr)
        return None
    try:
        return psycopg.connect(admin_url, autocommit=True)
    except psycopg.OperationalError as exc:
        print(f"Cannot reach PostgreSQL at {admin_url}: {exc}", file=sys.stderr)
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured run (10)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (32)")
    parser.add_argument("--admin-url", default=ADMIN_URL, help=f"PostgreSQL to create the database in ({ADMIN_URL})")
    args = parser.parse_args(argv)

    admin = preflight(args.admin_url)
    if admin is None:
        return 2

    RESULTS.mkdir(parents=True, exist_ok=True)
    db_name = f"bench_intake_{os.getpid()}"
    db_url = args.admin_url.rsplit("/", 1)[0] + f"/{db_name}"
    run_id = uuid.uuid4().hex[:12]
    # OUTBOX_THREAD=0: the side effects of registration (the citizen's SMS) run in workers, as in
    # production with Redis, not in the web processes being measured.
    env = {**os.environ, "DATABASE_URL": db_url, "FLASK_APP": "wsgi", "LOG_LEVEL": "WARNING",
           "PYTHONDONTWRITEBYTECODE": "1", "OUTBOX_THREAD": "0"}
    try:
        with admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db_name)))
            print(f"database {db_name}: migrating, loading demo data, issuing a key…", flush=True)
            flask = [sys.executable, "-m", "flask"]
            run([*flask, "db", "upgrade", "heads"], env)
            run([*flask, "demo", "load"], env)
            env["BENCH_API_KEY"] = run([*flask, "agents", "create-key", "VNPOST-HN"], env).splitlines()[0].strip()

            print(f"intake:   gunicorn -w {WORKERS} wsgi:app, wrk -t{THREADS} -c{args.connections} "
                  f"-d{args.duration}s (after a {WARMUP_SECONDS} s warm-up)…", flush=True)
            before_warmup = dossier_counts(db_url)[0]
            intake_warm, intake, healthz = measure("intake", "wsgi:app", "post_dossier.lua", args, env, run_id,
                                                   reference_path="/healthz")
            total, distinct = dossier_counts(db_url)

            print(f"baseline: gunicorn -w {WORKERS} bench.bare_app:app, same load…", flush=True)
            _, baseline, _ = measure("baseline", "bench.bare_app:app", "post_echo.lua", args, env, run_id)
    except RuntimeError as exc:  # a setup step, gunicorn or wrk failed: say which, then clean up
        print(f"benchmark aborted: {exc}", file=sys.stderr)
        return 1
    finally:
        with psycopg.connect(args.admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db_name)))

    # Dossiers written during the warm-up and the measured run, against the 2xx wrk saw.
    # When wrk stops, requests still in flight may be stored without wrk counting them:
    # at most one per connection per run.
    db = {
        "dossiers": total - before_warmup,
        "wrk_2xx": intake_warm.ok_2xx + intake.ok_2xx,
        "tolerance": 2 * args.connections,
        "distinct_numbers": distinct,
        "total_rows": total,
    }
    ratio = intake.requests_per_sec / baseline.requests_per_sec if baseline.requests_per_sec else 0.0
    checks = {
        "ratio": ratio >= TARGET_RATIO,
        "intake_errors": intake.errors == 0 and intake_warm.errors == 0,
        "baseline_errors": baseline.errors == 0,
        "dossier_count": 0 <= db["dossiers"] - db["wrk_2xx"] <= db["tolerance"],
        "unique_numbers": total == distinct,
    }
    passed = all(checks.values())
    print()
    print(report(baseline, intake, db, ratio, passed, checks))
    healthz_ratio = healthz.requests_per_sec / baseline.requests_per_sec if baseline.requests_per_sec else 0.0
    print(f"reference               GET /healthz on the same app (framework + one query): "
          f"{healthz.requests_per_sec:,.1f} requests/s = {healthz_ratio:.1%} of baseline")

    out = RESULTS / "intake.json"
    out.write_text(json.dumps({
        "requirement": "POST /api/v1/dossiers reaches >= 25% of a bare Flask JSON endpoint's "
                       "requests/sec (PostgreSQL, gunicorn 2 sync workers, wrk 32 connections), no errors",
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "host": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "settings": {"duration_s": args.duration, "connections": args.connections, "threads": THREADS,
                     "workers": WORKERS, "worker_class": "sync", "warmup_s": WARMUP_SECONDS},
        "baseline": {**asdict(baseline), "errors": baseline.errors},
        "intake": {**asdict(intake), "errors": intake.errors},
        "intake_warmup": {**asdict(intake_warm), "errors": intake_warm.errors},
        "reference_healthz": {**asdict(healthz), "ratio_to_baseline": round(healthz_ratio, 4)},
        "database": db,
        "ratio": round(ratio, 4),
        "target_ratio": TARGET_RATIO,
        "checks": checks,
        "result": "PASS" if passed else "FAIL",
    }, indent=2, ensure_ascii=False) + "\n")
    print(f"\nwritten: {out.relative_to(ROOT)}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
