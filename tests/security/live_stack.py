"""Real processes for the concurrency and crash-safety tests: gunicorn, redis-server and a Celery worker.

Each runs as a subprocess in its own session (so ``kill -9`` reaches a whole
gunicorn master-and-workers group) on a free loopback port, against the test
database of the running pytest session (pytest-django's ``test_<name>``), which
a ``transaction=True`` test commits to so the subprocesses see its rows.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.db import connections

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tests_database_url(alias: str = "default") -> str:
    """A DATABASE_URL for the database this test process is connected to (the test database)."""
    s = connections[alias].settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def base_env(media_root: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "CELERY_"))}
    if "replica" in connections:  # a streaming replica (KAGAMI_TEST_REPLICA=1): of the test database too
        env["KAGAMI_REPLICA_DATABASE_URL"] = tests_database_url("replica")
    env.update({
        "DJANGO_SETTINGS_MODULE": "backend.settings_test",
        "DATABASE_URL": tests_database_url(),
        "MEDIA_ROOT": str(media_root),
        "DB_CONN_MAX_AGE": "60",  # like production: one connection per worker thread
        # The burst is legitimate traffic from one loopback address: lift the flood guard for it.
        "KAGAMI_PUBLIC_FLOOD_LIMIT": "1000000",
        "KAGAMI_PUBLIC_FAILURE_LIMIT": "1000000",
        "KAGAMI_STAFF_LINK_PER_ADDRESS_DAILY": "1000000",  # and the staff link's per-address daily cap
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    })
    env.update(extra)
    return env


class Service:
    """A subprocess started in its own session, stopped (or killed) with its whole process group."""

    def __init__(self, name: str, cmd: list[str], env: Mapping[str, str], log: Path) -> None:
        self.name, self.cmd, self.env, self.log = name, cmd, dict(env), log
        self.proc: subprocess.Popen | None = None

    def start(self) -> Service:
        handle = open(self.log, "ab")  # noqa: SIM115 (kept open for the child's lifetime)
        self.proc = subprocess.Popen(self.cmd, cwd=ROOT, env=self.env, stdout=handle, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        handle.close()
        return self

    def kill9(self) -> None:
        """SIGKILL to the whole group: no shutdown handler, no flush, like a power cut of the process."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=15)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            self.kill9()

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def wait_for_port(port: int, service: Service, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if service.proc is not None and service.proc.poll() is not None:
            raise RuntimeError(f"{service.name} exited:\n{service.tail()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{service.name} did not listen on {port}:\n{service.tail()}")


def gunicorn(port: int, env: Mapping[str, str], log: Path, workers: int = 4, threads: int = 4) -> Service:
    service = Service("gunicorn", [
        str(BIN / "gunicorn"), "backend.wsgi:application", "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers), "--threads", str(threads), "--worker-class", "gthread",
        "--backlog", "2048", "--timeout", "60", "--graceful-timeout", "5", "--access-logfile", "-",
        "--log-level", "warning",
    ], env, log).start()
    wait_for_port(port, service)
    # Listening is the master; wait until a worker answers a real request.
    deadline = time.monotonic() + 60
    while True:
        try:
            status, _ = request(port, "GET", "/accounts/login/", timeout=5)
            if status == 200:
                return service
        except OSError:
            pass
        if time.monotonic() > deadline or (service.proc and service.proc.poll() is not None):
            raise RuntimeError(f"gunicorn never served a page:\n{service.tail()}")
        time.sleep(0.1)


def redis_server(port: int, log: Path, workdir: Path) -> Service:
    service = Service("redis-server", [
        "redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
        "--dir", str(workdir),
    ], {"PATH": os.environ.get("PATH", "")}, log).start()
    wait_for_port(port, service)
    return service


def celery_worker(env: Mapping[str, str], log: Path) -> Service:
    return Service("celery", [
        str(BIN / "celery"), "-A", "backend", "worker", "--pool", "solo", "--concurrency", "1",
        "--loglevel", "WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat",
    ], env, log).start()


def ticket(port: int, path: str, conn: http.client.HTTPConnection | None = None) -> str | None:
    """The single-use ticket the GET of an anonymous link's JSON form hands out (the staff link's POST needs it)."""
    status, body = request(port, "GET", path, conn=conn)
    return json.loads(body).get("ticket") if status == 200 else None


def request(port: int, method: str, path: str, body: Any = None, headers: Mapping[str, str] | None = None,
            timeout: float = 30, conn: http.client.HTTPConnection | None = None) -> tuple[int, bytes]:
    """One HTTP request; no cookie jar, so every submission looks like a new respondent."""
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    data = json.dumps(body).encode() if body is not None else None
    all_headers = {"Host": "127.0.0.1", **({"Content-Type": "application/json"} if data else {}), **(headers or {})}
    try:
        conn.request(method, path, body=data, headers=all_headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        if own:
            conn.close()
