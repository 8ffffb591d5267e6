"""Signed Messenger deliveries per second and time to the 200, through the real
webhook endpoint, against a bare Django view in the same process.

`python -m tests.bench webhooks [--rounds 5] [--seconds 3] [--connections 8] [--rate 300] [--load-seconds 10]
[--pool N] [--conn-max-age S] [--keep]`

* server: one real uvicorn process serving `aiplatform.asgi:application` (as
  `bin/dev` does) with a bench-only URLconf: the project's URLs plus
  `/bench/bare/`, a Django view that only reads the body and answers 200
  (through the same middleware: the reference);
* candidate: `POST /webhooks/meta/` with a signed one-message Messenger delivery
  for a connected page (unique `mid` each): size cap, X-Hub-Signature-256 over
  the raw bytes, JSON check, one `WebhookDelivery` row, `delivery_process`
  enqueued on the real Redis broker after commit;
* load generator: this process, one asyncio loop, raw HTTP/1.1 keep-alive
  connections (bodies and signatures built before the clock starts).

Cases: closed loop (`--connections` back-to-back clients for `--seconds`),
reference and candidate interleaved for `--rounds` rounds, order flipped every
round; open loop at `--rate` deliveries/s for `--load-seconds` (latency from the
scheduled send time, so queueing counts); 10 replays of one delivery, then the
queued `delivery_process` tasks run by this process (the worker's code) and the
answers enqueued on the broker counted. The server's PostgreSQL connections are
sampled every 50 ms throughout (`pg_stat_activity`, client backends of the
database) and the peak of each case reported beside its 5xx count. The last line
is one JSON object (see /work/shared/BENCHMARKS.md).

The server runs with the project's database settings: psycopg's pool
(`DATABASE_POOL_MAX_SIZE`, default 20; `--pool N` sets it) or, with `--pool 0`, a
connection per request thread kept `--conn-max-age` seconds (Django's ASGI
handler runs each request's sync code in a thread of its own, so a connection
kept past its request is never used again: `--pool 0 --conn-max-age 60` shows
what the platform did before the pool, PostgreSQL refusing connections at load).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GOAL_RATIO = 0.4
GOAL_P99_MS = 250.0
PAGE_ID = "880000000000001"
BARE_PATH = "/bench/bare/"
HOOK_PATH = "/webhooks/meta/"
SECRETS = {"META_APP_SECRET": "bench-meta-app-secret", "META_VERIFY_TOKEN": "bench-verify", "META_APP_ID": "4242"}
SERVER_ROLE = "WEBHOOKS_BENCH_ROLE"


# --- the server's settings and URLconf (this module, imported by the uvicorn process) -----------

if os.environ.get(SERVER_ROLE) == "server":
    from aiplatform.settings.local import *  # noqa: F403

    ROOT_URLCONF = __name__

    def __getattr__(name: str):
        """The URLconf, built when Django first resolves a URL (apps are ready by then)."""
        if name != "urlpatterns":
            raise AttributeError(name)
        from django.http import HttpResponse
        from django.urls import include, path
        from django.views.decorators.csrf import csrf_exempt

        @csrf_exempt
        def bare(request):
            request.body  # noqa: B018  (read it, as the endpoint does)
            return HttpResponse(b'{"received":true}', content_type="application/json")

        patterns = [path(BARE_PATH.strip("/") + "/", bare), path("", include("aiplatform.urls"))]
        globals()["urlpatterns"] = patterns
        return patterns


# --- lifecycle ----------------------------------------------------------------------------------


def _env(data_dir: Path, pool: int | None, conn_max_age: int) -> dict[str, str]:
    """The server's (and this process's) environment; the pool's size unless the
    settings' default (None), the connection age only without a pool (0)."""
    from tests.bench._chat_stack import base_env

    env = {**base_env(data_dir), **SECRETS}
    if pool is not None:
        env["DATABASE_POOL_MAX_SIZE"] = str(pool)
        if pool == 0:
            env["DATABASE_CONN_MAX_AGE"] = str(conn_max_age)
    return env


class Server:
    def __init__(self, data_dir: Path, keep: bool, pool: int | None = None, conn_max_age: int = 0) -> None:
        self.data_dir, self.keep = data_dir, keep
        self.env = _env(data_dir, pool, conn_max_age)
        self.port = 0
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        from tests.bench._chat_stack import raise_fd_limit

        raise_fd_limit()
        for name in ("DATABASE_POOL_MAX_SIZE", "DATABASE_CONN_MAX_AGE"):
            os.environ.pop(name, None)  # only what this run asks for
        os.environ.update(self.env)
        import django

        django.setup()
        return self

    def build(self) -> str:
        """Empty the database; one account with one connected Facebook Page. Its id."""
        from django.core.cache import cache
        from django.core.management import call_command
        from django.db import connection, transaction

        from accounts.models import User
        from accounts.services.accounts import account_create
        from accounts.tenancy.context import account_context
        from accounts.tenancy.roles import as_owner
        from channels_bot.models import ConnectedChannel

        call_command("migrate", verbosity=0)
        with as_owner(connection):
            call_command("flush", interactive=False, verbosity=0)
        cache.clear()
        with transaction.atomic():
            owner = User.objects.create_user("bench-webhooks@example.com")
            account = account_create(name="webhook bench", owner=owner)
            with account_context(account.id):
                ConnectedChannel.objects.create(
                    account=account, platform_type="FACEBOOK_PAGE", platform_specific_id=PAGE_ID,
                    channel_name="Bench Page", route="facebook_login", access_token="bench-page-token",
                )  # fmt: skip
        return str(account.id)

    def start(self) -> None:
        from tests.bench._chat_stack import free_port, raise_fd_limit

        self.port = free_port()
        env = {**os.environ, **self.env, SERVER_ROLE: "server", "DJANGO_SETTINGS_MODULE": __name__}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "aiplatform.asgi:application", "--host", "127.0.0.1",
             "--port", str(self.port), "--lifespan", "off", "--no-access-log", "--log-level", "warning"],
            cwd=REPO, env=env, preexec_fn=raise_fd_limit,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError("uvicorn exited at start")
                time.sleep(0.1)
        raise RuntimeError("uvicorn did not start within 60 s")

    def cpu_seconds(self) -> float:
        import psutil

        times = psutil.Process(self.process.pid).cpu_times()
        return times.user + times.system

    def __exit__(self, *exc) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connection

        from accounts.tenancy.roles import as_owner

        purge_queue()
        if not self.keep:
            with as_owner(connection):
                call_command("flush", interactive=False, verbosity=0)
        connection.close()
        if not self.keep and getattr(settings, "EMBEDDED_SERVICES", False):
            from aiplatform import embedded

            embedded.stop(settings.DATA_DIR)


# --- the database's connections ---------------------------------------------------------------------


class ConnectionSampler:
    """Counts the database's client connections every `every` s on a connection of its
    own (opened first, so it is there even when PostgreSQL refuses new ones; not counted)."""

    def __init__(self, every: float = 0.05) -> None:
        import psycopg
        from django.db import connection

        params = connection.get_connection_params()
        params.pop("pool", None)
        params.pop("cursor_factory", None)
        params.pop("context", None)
        self.conn = psycopg.connect(**params, autocommit=True)
        self.every = every
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> ConnectionSampler:
        self._thread.start()
        return self

    def _run(self) -> None:
        sql = ("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' "
               "AND datname = current_database() AND pid <> pg_backend_pid()")  # fmt: skip
        while not self._stop.is_set():
            self.samples.append((time.perf_counter(), self.conn.execute(sql).fetchone()[0]))
            self._stop.wait(self.every)

    def peak(self, since: float) -> int:
        return max((n for t, n in self.samples if t >= since), default=0)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(5)
        self.conn.close()


def _errors(statuses: dict[int, int]) -> int:
    return sum(n for status, n in statuses.items() if status >= 500)


# --- the broker -----------------------------------------------------------------------------------


def _queue():
    from aiplatform.celery import app

    connection = app.connection_for_read()
    return connection, connection.SimpleQueue("default", no_ack=False)


def purge_queue() -> int:
    connection, queue = _queue()
    try:
        return queue.clear()
    finally:
        queue.close()
        connection.release()


def drain_tasks() -> list[tuple[str, dict]]:
    """Every task message waiting on the default queue, as (task name, kwargs), acknowledged."""
    from queue import Empty

    connection, queue = _queue()
    found = []
    try:
        while True:
            try:
                message = queue.get(block=True, timeout=0.5)
            except Empty:
                break
            args, kwargs, _embed = message.decode()
            found.append((message.headers.get("task", ""), kwargs))
            message.ack()
    finally:
        queue.close()
        connection.release()
    return found


# --- requests -------------------------------------------------------------------------------------


def hook_requests(n: int, tag: str) -> list[bytes]:
    """`n` signed one-message Messenger deliveries (unique mids), as raw HTTP requests."""
    from tests.support.platform_webhooks import body_bytes, meta_delivery, meta_entry, meta_message, sign_meta

    out = []
    for i in range(n):
        item = meta_message(PAGE_ID, f"PSID-{i % 200}", f"Do you have size {i % 47} in red?", mid=f"m_{tag}_{i}")
        body = body_bytes(meta_delivery([meta_entry(PAGE_ID, [item])]))
        out.append(_raw(HOOK_PATH, body, sign_meta(body, SECRETS["META_APP_SECRET"])))
    return out


def bare_requests(n: int) -> list[bytes]:
    from tests.support.platform_webhooks import body_bytes, meta_delivery, meta_entry, meta_message

    out = []
    for i in range(n):
        item = meta_message(PAGE_ID, f"PSID-{i % 200}", f"Do you have size {i % 47} in red?", mid=f"m_bare_{i}")
        out.append(_raw(BARE_PATH, body_bytes(meta_delivery([meta_entry(PAGE_ID, [item])])), "sha256=" + "0" * 64))
    return out


def _raw(path: str, body: bytes, signature: str) -> bytes:
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nX-Hub-Signature-256: {signature}\r\n\r\n")  # fmt: skip
    return head.encode() + body


class Connection:
    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> Connection:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        return self

    async def send(self, request: bytes) -> int:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        lower = head.lower()
        at = lower.find(b"content-length:")
        if at >= 0:
            length = int(lower[at + 15 : lower.find(b"\r\n", at)])
            if length:
                await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def closed_loop(port: int, requests: list[bytes], connections: int, seconds: float) -> dict:
    """`connections` clients back to back for `seconds`: completed per second, latency percentiles."""
    from tests.bench._chat_stack import percentile

    pool = [await Connection(port).open() for _ in range(connections)]
    feed = iter(requests)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    deadline = time.perf_counter() + seconds

    async def client(conn: Connection) -> None:
        while time.perf_counter() < deadline:
            request = next(feed, None)
            if request is None:
                return
            started = time.perf_counter()
            status = await conn.send(request)
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(client(c) for c in pool))
    elapsed = time.perf_counter() - started
    for c in pool:
        c.close()
    return {"rate": len(latencies) / elapsed, "n": len(latencies), "statuses": statuses,
            "p50_ms": 1000 * percentile(latencies, 0.5), "p99_ms": 1000 * percentile(latencies, 0.99)}  # fmt: skip


async def open_loop(port: int, requests: list[bytes], rate: float) -> dict:
    """One request every 1/rate s whatever the server does; latency from the scheduled time."""
    from tests.bench._chat_stack import percentile

    idle: list[Connection] = [await Connection(port).open() for _ in range(16)]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    tasks = []

    async def one(request: bytes, scheduled: float) -> None:
        conn = idle.pop() if idle else await Connection(port).open()
        status = await conn.send(request)
        latencies.append(time.perf_counter() - scheduled)
        statuses[status] = statuses.get(status, 0) + 1
        idle.append(conn)

    start = time.perf_counter() + 0.05
    for i, request in enumerate(requests):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(request, scheduled)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    for c in idle:
        c.close()
    return {"offered": rate, "achieved": len(latencies) / elapsed, "n": len(latencies), "statuses": statuses,
            "p50_ms": 1000 * percentile(latencies, 0.5), "p99_ms": 1000 * percentile(latencies, 0.99),
            "max_ms": 1000 * max(latencies)}  # fmt: skip


# --- cases ------------------------------------------------------------------------------------------


def _line(case: str, **figures) -> None:
    print(json.dumps({"case": case, **{k: round(v, 2) if isinstance(v, float) else v for k, v in figures.items()}}),
          flush=True)  # fmt: skip


def replay_case(port: int, account_id: str) -> tuple[int, int]:
    """10 POSTs of one delivery; this process runs the queued processing tasks (the
    worker's code); (stored customer messages of that mid, answers enqueued on the broker)."""
    from accounts.tenancy.context import account_context
    from channels_bot.models import ConversationMessage
    from channels_bot.services.inbound import delivery_process

    purge_queue()
    request = hook_requests(1, "replay")[0]

    async def post_ten() -> list[int]:
        conn = await Connection(port).open()
        try:
            return [await conn.send(request) for _ in range(10)]
        finally:
            conn.close()

    statuses = asyncio.run(post_ten())
    queued = drain_tasks()
    processing = [kw for name, kw in queued if name == "channels_bot.tasks.inbound.delivery_process"]
    for kwargs in processing:
        delivery_process(**kwargs)
    answers = [kw for name, kw in drain_tasks() if name == "channels_bot.tasks.bot.answer_message"]
    with account_context(account_id):
        stored = ConversationMessage.objects.filter(platform_message_id="m_replay_0").count()
    _line("replay", posts=len(statuses), statuses=sorted(set(statuses)), deliveries_enqueued=len(processing),
          messages=stored, answers_enqueued=len(answers))  # fmt: skip
    return stored, len(answers)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench webhooks", description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds per side and round (closed loop)")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rate", type=float, default=300.0, help="offered deliveries/s of the open-loop case")
    parser.add_argument("--load-seconds", type=float, default=10.0)
    parser.add_argument("--keep", action="store_true", help="keep the data and the embedded servers afterwards")
    parser.add_argument("--pool", type=int, default=None,
                        help="DATABASE_POOL_MAX_SIZE of the server (default: the setting's default); 0: no pool, "
                             "a connection per request thread kept --conn-max-age seconds")  # fmt: skip
    parser.add_argument(
        "--conn-max-age",
        type=int,
        default=0,
        help="DATABASE_CONN_MAX_AGE with --pool 0 (60: what the platform did before the pool)",
    )
    args = parser.parse_args(argv)
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    data_dir = Path(os.environ.get("AIPLATFORM_DATA_DIR", str(REPO / ".data" / "bench-webhooks")))
    with Server(data_dir, args.keep, args.pool, args.conn_max_age) as server:
        from django.conf import settings

        pool_size, conn_max_age = settings.DATABASE_POOL_MAX_SIZE, settings.DATABASES["default"]["CONN_MAX_AGE"]
        _line("settings", pool_max_size=pool_size, conn_max_age=conn_max_age)
        account_id = server.build()
        server.start()
        per_round = int(args.seconds * 3000) + 100  # more than the server can take in a round
        with ConnectionSampler() as db:
            # warm-up: both paths, every lazy import and connection made
            asyncio.run(closed_loop(server.port, bare_requests(300), args.connections, 1.0))
            asyncio.run(closed_loop(server.port, hook_requests(300, "warm"), args.connections, 1.0))
            purge_queue()
            bare_rates, hook_rates, ratios, hook_p99s, cpu = [], [], [], [], {"bare": [], "hook": []}
            errors, peaks = {"closed": 0, "open": 0}, {"closed": 0, "open": 0}
            for r in range(args.rounds):
                order = ("bare", "hook") if r % 2 == 0 else ("hook", "bare")
                got = {}
                for side in order:
                    requests = bare_requests(per_round) if side == "bare" else hook_requests(per_round, f"r{r}")
                    before, since = server.cpu_seconds(), time.perf_counter()
                    got[side] = asyncio.run(closed_loop(server.port, requests, args.connections, args.seconds))
                    cpu[side].append(1000 * (server.cpu_seconds() - before) / max(got[side]["n"], 1))
                    peak = db.peak(since)
                    _line(f"closed_loop_{side}", round=r, **got[side], db_connections_peak=peak)
                    errors["closed"] += _errors(got[side]["statuses"])
                    peaks["closed"] = max(peaks["closed"], peak)
                    purge_queue()
                bare_rates.append(got["bare"]["rate"])
                hook_rates.append(got["hook"]["rate"])
                hook_p99s.append(got["hook"]["p99_ms"])
                ratios.append(got["hook"]["rate"] / got["bare"]["rate"])
            loads = {}
            for side in ("bare", "hook"):
                n = int(args.rate * args.load_seconds)
                requests = bare_requests(n) if side == "bare" else hook_requests(n, "load")
                since = time.perf_counter()
                loads[side] = asyncio.run(open_loop(server.port, requests, args.rate))
                peak = db.peak(since)
                _line(f"open_loop_{side}", **loads[side], db_connections_peak=peak)
                errors["open"] += _errors(loads[side]["statuses"])
                peaks["open"] = max(peaks["open"], peak)
                purge_queue()
        replay_messages, replay_answers = replay_case(server.port, account_id)
    value, reference = statistics.median(hook_rates), statistics.median(bare_rates)
    result = {
        "bench": "webhooks", "metric": "deliveries_per_s", "value": round(value, 1), "reference": round(reference, 1),
        "ratio": round(statistics.median(ratios), 3), "goal": GOAL_RATIO,
        "worst_round_ratio": round(min(ratios), 3),
        "p99_ms_at_300": round(loads["hook"]["p99_ms"], 1), "p99_goal_ms": GOAL_P99_MS,
        "bare_p99_ms_at_300": round(loads["bare"]["p99_ms"], 1),
        "closed_loop_p99_ms": round(statistics.median(hook_p99s), 1),
        "server_cpu_ms_per_delivery": round(statistics.median(cpu["hook"]), 3),
        "server_cpu_ms_per_bare_request": round(statistics.median(cpu["bare"]), 3),
        "replay_messages": replay_messages, "replay_answers": replay_answers,
        "pool_max_size": pool_size, "conn_max_age": conn_max_age,
        "db_connections_peak_closed_loop": peaks["closed"], "db_connections_peak_open_loop": peaks["open"],
        "errors_5xx_closed_loop": errors["closed"], "errors_5xx_open_loop": errors["open"],
    }  # fmt: skip
    print(json.dumps(result))
    return 0
