"""Private PostgreSQL and Redis servers for fault tests: started here, on ports of their own, stopped here.

The shared services (5432, 6379) are never touched: these tests kill and restart their own.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout: float = 60.0, interval: float = 0.05, what: str = "condition"):
    """Poll ``predicate`` until it returns something truthy (returned), or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def postgres_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise FileNotFoundError(f"{name} not found under /usr/lib/postgresql/*/bin")
    return found[-1]


class PrivatePostgres:
    """``initdb`` into a temporary directory as the postgres user; trust auth on 127.0.0.1:<port>."""

    def __init__(self):
        # Not under pytest's tmp_path: its parents are root's alone (0700), which the postgres user cannot enter.
        base = Path(tempfile.mkdtemp(prefix="hanoi-faults-pg-"))
        self.base = base
        self.port = free_port()
        self.data = base / "pgdata"
        self.log = base / "postgres.log"
        self.user = pwd.getpwnam("postgres")
        os.chown(base, self.user.pw_uid, self.user.pw_gid)
        self._as_postgres([postgres_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                           "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"])
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{base}'\n"
                       "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 60\n")

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _as_postgres(self, args: list[str], check: bool = True) -> subprocess.CompletedProcess:
        def demote():
            os.setgid(self.user.pw_gid)
            os.setuid(self.user.pw_uid)

        return subprocess.run(args, preexec_fn=demote, capture_output=True, text=True, check=check, timeout=120,
                              cwd="/tmp")

    def start(self) -> None:
        self._as_postgres([postgres_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                           "start"])

    def stop(self, mode: str = "fast") -> None:
        self._as_postgres([postgres_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop"],
                          check=False)

    def restart(self) -> None:
        self.stop()
        self.start()

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.base, ignore_errors=True)


class PrivateRedis:
    """``redis-server`` on a port of its own, no persistence: a restart loses every key, as a crash would."""

    def __init__(self, base: Path):
        self.port = free_port()
        self.base = base
        base.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.proc = subprocess.Popen([binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", str(self.base)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: _port_open(self.port), what=f"redis-server on {self.port}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None
        wait_until(lambda: not _port_open(self.port), what=f"port {self.port} closed")

    def restart(self) -> None:
        self.kill()
        self.start()
