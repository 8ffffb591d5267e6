"""Tracker events accepted per second and time to the 202 through the real
collector of a real uvicorn process, against a bare view in the same run; and
events per second written to campaign_events by the batch writer, against a raw
COPY of the same rows.

`python -m tests.bench events [--rounds 5] [--seconds 3] [--connections 8] [--rate 1000] [--load-seconds 5]
[--rows 10000] [--keep]`

* server: one uvicorn process serving `aiplatform.asgi:application` (as
  `bin/dev` does) with a bench-only URLconf: the project's URLs plus
  `/bench/bare/`, a Django view that reads the body and answers 202 (through the
  same middleware: the reference);
* candidate: `POST /t/e/` with the tracker's text/plain JSON (views with the
  page's components, clicks, form submits, conversions; 20 browser user agents;
  2,000 client addresses in X-Forwarded-For behind one trusted proxy): per-address
  rate limit (Redis), size cap, JSON and shape checks, bot filter, campaign
  lookup (in-process cache), daily-salt visitor hash, one XADD on the stream;
* load generator: this process, one asyncio loop, raw HTTP/1.1 keep-alive
  connections, requests built before the clock starts.

Cases: closed loop (`--connections` clients back to back for `--seconds`),
reference and candidate interleaved for `--rounds` rounds, order flipped every
round; open loop at `--rate` events/s for `--load-seconds` (latency from the
scheduled send time, so queueing counts); then the writer: `--rows` queued rows
(built by the collector's own code) written by `writer.events_flush` (stream
read, COPY into the staging table, insert of events and conversions, counters,
acknowledgement) against one raw `COPY` of the same rows straight into
campaign_events under the same account context, interleaved for `--rounds`
rounds. The collector's accepted count is checked against the stream. The last
line is one JSON object (see /work/shared/BENCHMARKS.md), reporting the worse
of the two ratios as the headline.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GOAL_RATIO = 0.5
GOAL_P99_MS = 50.0
BARE_PATH = "/bench/bare/"
COLLECT_PATH = "/t/e/"
SERVER_ROLE = "EVENTS_BENCH_ROLE"
STREAM_KEY = "aip:track:bench-events"
SETTINGS = {
    "TRACKING_EVENTS_PER_MINUTE_PER_IP": "1000000000",  # measure the limiter's cost, never trip it
    "TRACKING_TRUSTED_PROXIES": "1",
    "TRACKING_STREAM_KEY": STREAM_KEY,
    "TRACKING_FLUSH_DELAY_SECONDS": "3600",  # no worker runs; the writer is measured on its own
}
USER_AGENTS = [
    f"Mozilla/5.0 ({os_}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36"
    for os_ in ("Windows NT 10.0; Win64; x64", "Macintosh; Intel Mac OS X 10_15_7", "X11; Linux x86_64",
                "Linux; Android 14; Pixel 8")
    for v in (128, 129, 130, 131, 132)
]  # fmt: skip

# --- the server's settings and URLconf (this module, imported by the uvicorn process) -----------

if os.environ.get(SERVER_ROLE) == "server":
    from aiplatform.settings.local import *  # noqa: F403

    ROOT_URLCONF = __name__

    def __getattr__(name: str):
        if name != "urlpatterns":
            raise AttributeError(name)
        from django.http import HttpResponse
        from django.urls import include, path
        from django.views.decorators.csrf import csrf_exempt

        @csrf_exempt
        def bare(request):
            request.body  # noqa: B018  (read it, as the collector does)
            return HttpResponse(b"ok", status=202, content_type="text/plain")

        patterns = [path(BARE_PATH.strip("/") + "/", bare), path("", include("aiplatform.urls"))]
        globals()["urlpatterns"] = patterns
        return patterns


# --- data ------------------------------------------------------------------------------------------


def build() -> list[dict]:
    """Empty database; one large account and two small ones, a launched campaign
    each with three components. [{campaign, components}] weighted 70/20/10."""
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import User
    from accounts.services.accounts import account_create
    from accounts.tenancy.context import account_context
    from accounts.tenancy.roles import as_owner
    from canvas.models.campaigns import Campaign, CampaignComponent, CampaignStatus, ComponentType

    call_command("migrate", verbosity=0)
    with as_owner(connection):
        call_command("flush", interactive=False, verbosity=0)
    cache.clear()
    out = []
    with transaction.atomic():
        for i, weight in enumerate((70, 20, 10)):
            owner = User.objects.create_user(f"bench-events-{i}@example.com")
            account = account_create(name=f"events bench {i}", owner=owner)
            with account_context(account.id):
                campaign = Campaign.objects.create(
                    account=account, name=f"Bench campaign {i}", slug=f"bench-events-{i}",
                    status=CampaignStatus.LAUNCHED, launched_at=timezone.now(),
                )  # fmt: skip
                comps = [
                    CampaignComponent.objects.create(account=account, campaign=campaign, name=name, component_type=t)
                    for name, t in (("Hero", ComponentType.HERO_SECTION), ("Pricing", ComponentType.PRICING),
                                    ("Signup", ComponentType.FORM))
                ]  # fmt: skip
            out.append({"campaign": str(campaign.pk), "components": [str(c.pk) for c in comps], "weight": weight})
    return out


def event_bodies(campaigns: list[dict], n: int, seed: int) -> list[tuple[bytes, str, str]]:
    """(body, user agent, client address) for `n` tracker events: 70 % views, 20 % clicks,
    5 % form submits, 5 % conversions."""
    rng = random.Random(seed)
    weights = [c["weight"] for c in campaigns]
    out = []
    for i in range(n):
        c = rng.choices(campaigns, weights)[0]
        hero, pricing, form = c["components"]
        kind = rng.random()
        page = f"https://pages.example/p/{c['campaign'][:8]}/?utm_source=news&utm_medium=email"
        base = {"c": c["campaign"], "u": page, "r": "https://news.example/today", "w": 1280,
                "utm": {"source": "news", "medium": "email", "campaign": "winter"}}  # fmt: skip
        if kind < 0.70:
            event = {**base, "t": "view", "cs": [hero, pricing, form]}
        elif kind < 0.90:
            event = {**base, "t": "click", "n": "cta", "cp": rng.choice([hero, pricing]), "p": {"plan": "pro"}}
        elif kind < 0.95:
            event = {**base, "t": "form_submit", "n": "signup", "cp": form}
        else:
            event = {**base, "t": "conversion", "n": "purchase", "cp": form, "v": 49.0, "cur": "EUR"}
        ip = f"198.51.{(i * 7) % 8}.{(i * 13) % 250 + 1}"
        out.append((json.dumps(event).encode(), USER_AGENTS[i % len(USER_AGENTS)], ip))
    return out


def raw(path: str, body: bytes, user_agent: str, ip: str) -> bytes:
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nUser-Agent: {user_agent}\r\n"
            f"X-Forwarded-For: {ip}\r\nContent-Length: {len(body)}\r\n\r\n")  # fmt: skip
    return head.encode() + body


def requests_for(path: str, campaigns: list[dict], n: int, seed: int) -> list[bytes]:
    return [raw(path, body, ua, ip) for body, ua, ip in event_bodies(campaigns, n, seed)]


# --- the writer case -----------------------------------------------------------------------------------


def writer_rows(campaigns: list[dict], n: int, seed: int) -> list[dict]:
    """Queued rows exactly as the collector makes them (fresh ids)."""
    from datetime import UTC, datetime

    from canvas.tracking import targets
    from canvas.tracking.collect import Visit, page_row
    from canvas.tracking.payload import parse

    rows = []
    for body, ua, ip in event_bodies(campaigns, n, seed):
        event = parse(body)
        rows.append(page_row(event, target=targets.target_for(event.campaign_id), visit=Visit(ip, ua),
                             now=datetime.now(UTC)))  # fmt: skip
    return rows


def raw_copy(rows: list[dict]) -> float:
    """Seconds for one COPY of the rows' event columns straight into campaign_events.

    PostgreSQL refuses COPY FROM into a table under row-level security ("COPY FROM
    not supported with row-level security") for a role that RLS binds, which is why
    the writer COPYs into a staging table first. The reference therefore runs as the
    owner role (BYPASSRLS): the fastest load PostgreSQL offers, with no checks at all.
    """
    from django.db import connection

    from accounts.tenancy.roles import as_owner
    from canvas.models.tracking import CampaignEvent
    from canvas.tracking.copyline import EVENT_COLUMNS, staging_row

    table = CampaignEvent._meta.db_table
    values = [staging_row(row)[: len(EVENT_COLUMNS)] for row in rows]
    with as_owner(connection):
        connection.ensure_connection()
        started = time.perf_counter()
        with connection.cursor() as cur:
            with cur.copy(f"COPY {table} ({', '.join(EVENT_COLUMNS)}) FROM STDIN") as copy:
                for v in values:
                    copy.write_row(v)
        elapsed = time.perf_counter() - started
    return elapsed


def batch_write(rows: list[dict]) -> float:
    """Seconds for the batch writer to drain the rows from the stream (queued before the clock)."""
    from canvas.tracking import stream, writer

    pipe = stream.redis_client().pipeline(transaction=False)
    for row in rows:
        pipe.xadd(stream._key(), stream.entry(row))
    pipe.execute()
    started = time.perf_counter()
    result = writer.events_flush(max_seconds=600)
    elapsed = time.perf_counter() - started
    assert result.written.events == len(rows), result
    return elapsed


# --- cases ---------------------------------------------------------------------------------------------


def _line(case: str, **figures) -> None:
    print(json.dumps({"case": case, **{k: round(v, 2) if isinstance(v, float) else v for k, v in figures.items()}}),
          flush=True)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench events", description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds per side and round (closed loop)")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rate", type=float, default=1000.0, help="offered events/s of the open-loop case")
    parser.add_argument("--load-seconds", type=float, default=5.0)
    parser.add_argument("--rows", type=int, default=10000, help="rows per writer round")
    parser.add_argument("--keep", action="store_true", help="keep the data and the embedded servers afterwards")
    parser.add_argument("--only", choices=("http", "writer"), help="run one half (the headline then covers it only)")
    args = parser.parse_args(argv)
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    os.environ.update(SETTINGS)
    data_dir = Path(os.environ.get("AIPLATFORM_DATA_DIR", str(REPO / ".data" / "bench-events")))

    server = _server_class()(data_dir, args.keep)
    server.env.update(SETTINGS)
    with server:
        from canvas.tracking import stream

        stream.purge()
        campaigns = build()
        http = writer = None
        accepted_total = queued = None
        if args.only != "writer":
            server.start()
            http = _http_cases(server, args, campaigns)
            accepted_total = http.pop("accepted_total")
            server.stop()  # nothing arrives late into the writer's stream
            queued = stream.backlog()
            _line("accepted_vs_queued", accepted_202=accepted_total, queued=queued,
                  note="requests the load generator gave up on may still be queued")  # fmt: skip
            stream.purge()
        if args.only != "http":
            writer = _writer_cases(args, campaigns)
            stream.purge()
    ratios = [x["ratio"] for x in (http, writer) if x]
    worst = min(ratios)
    result = {"bench": "events", "metric": "worst_ratio_of_goal_pair", "value": round(worst, 3),
              "reference": GOAL_RATIO, "ratio": round(worst, 3), "goal": GOAL_RATIO}  # fmt: skip
    if http:
        result.update({
            "collector_events_per_s": round(http["value"], 1), "bare_202_per_s": round(http["reference"], 1),
            "collector_ratio": round(http["ratio"], 3), "worst_round_collector_ratio": round(http["worst"], 3),
            "p99_ms_at_rate": round(http["p99_at_rate"], 1), "rate": args.rate, "p99_goal_ms": GOAL_P99_MS,
            "bare_p99_ms_at_rate": round(http["bare_p99_at_rate"], 1),
            "achieved_at_rate": round(http["achieved_at_rate"], 1),
            "bare_achieved_at_rate": round(http["bare_achieved_at_rate"], 1),
            "server_cpu_ms_per_event": round(http["cpu_event"], 3),
            "server_cpu_ms_per_bare": round(http["cpu_bare"], 3),
            "accepted_202": accepted_total, "queued": queued, "errors_5xx_or_unanswered": http["errors"],
        })  # fmt: skip
    if writer:
        result.update({
            "writer_events_per_s": round(writer["value"], 1), "raw_copy_rows_per_s": round(writer["reference"], 1),
            "writer_ratio": round(writer["ratio"], 3), "worst_round_writer_ratio": round(writer["worst"], 3),
        })  # fmt: skip
    result["machine"] = "shared, 2 cores, other sessions' tests running"
    print(json.dumps(result))
    return 0


def _server_class():
    """The webhooks bench's server (lifecycle, embedded services, clean-up), started
    with this module as its settings and URLconf."""
    import signal
    import socket
    import subprocess

    from tests.bench.webhooks import Server

    class EventsServer(Server):
        def stop(self) -> None:
            if self.process is not None and self.process.poll() is None:
                self.process.send_signal(signal.SIGINT)
                try:
                    self.process.wait(15)
                except subprocess.TimeoutExpired:
                    self.process.kill()

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
                        raise RuntimeError("uvicorn exited at start") from None
                    time.sleep(0.1)
            raise RuntimeError("uvicorn did not start within 60 s")

    return EventsServer


async def open_loop(port: int, requests: list[bytes], rate: float, max_in_flight: int = 256, grace: float = 10) -> dict:
    """One request every 1/rate s whatever the server does; latency from the scheduled
    time (queueing counts). A refused or cut connection is status 0, not a crash."""
    from tests.bench._chat_stack import percentile
    from tests.bench.webhooks import Connection

    idle: list[Connection] = [await Connection(port).open() for _ in range(16)]
    gate = asyncio.Semaphore(max_in_flight)
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    async def one(request: bytes, scheduled: float) -> None:
        async with gate:
            conn = idle.pop() if idle else None
            try:
                conn = conn or await Connection(port).open()
                status = await asyncio.wait_for(conn.send(request), timeout=30)
                idle.append(conn)
            except (TimeoutError, OSError, asyncio.IncompleteReadError):
                status = 0
                if conn is not None:
                    conn.close()
        latencies.append(time.perf_counter() - scheduled)
        statuses[status] = statuses.get(status, 0) + 1

    tasks: list[asyncio.Task] = []
    schedule: dict[asyncio.Task, float] = {}
    start = time.perf_counter() + 0.05
    for i, request in enumerate(requests):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(request, scheduled)))
        schedule[tasks[-1]] = scheduled
    # a server that cannot keep up is not waited for past `grace` s: what is left is unanswered
    _, late = await asyncio.wait(tasks, timeout=grace)
    for task in late:
        task.cancel()
    statuses["unanswered"] = len(late)
    cut = time.perf_counter()
    latencies.extend(cut - schedule[task] for task in late)  # at least this long
    elapsed = time.perf_counter() - start
    for c in idle:
        c.close()
    answered = sum(n for k, n in statuses.items() if k != "unanswered")
    return {"offered": rate, "achieved": answered / elapsed, "n": len(latencies), "statuses": statuses,
            "p50_ms": 1000 * percentile(latencies, 0.5), "p99_ms": 1000 * percentile(latencies, 0.99),
            "max_ms": 1000 * max(latencies)}  # fmt: skip


def _http_cases(server, args, campaigns) -> dict:
    from tests.bench.webhooks import closed_loop

    per_round = int(args.seconds * 4000) + 100
    asyncio.run(closed_loop(server.port, requests_for(BARE_PATH, campaigns, 500, 1), args.connections, 1.0))
    warm = asyncio.run(closed_loop(server.port, requests_for(COLLECT_PATH, campaigns, 500, 2), args.connections, 1.0))
    rates: dict[str, list[float]] = {"bare": [], "collect": []}
    cpu: dict[str, list[float]] = {"bare": [], "collect": []}
    ratios, errors, accepted = [], 0, warm["statuses"].get(202, 0)
    for r in range(args.rounds):
        order = ("bare", "collect") if r % 2 == 0 else ("collect", "bare")
        got = {}
        for side in order:
            path = BARE_PATH if side == "bare" else COLLECT_PATH
            requests = requests_for(path, campaigns, per_round, 100 + r)
            before = server.cpu_seconds()
            got[side] = asyncio.run(closed_loop(server.port, requests, args.connections, args.seconds))
            cpu[side].append(1000 * (server.cpu_seconds() - before) / max(got[side]["n"], 1))
            _line(f"closed_loop_{side}", round=r, **got[side])
            errors += sum(n for s, n in got[side]["statuses"].items() if s >= 500)
            rates[side].append(got[side]["rate"])
            if side == "collect":
                accepted += got[side]["statuses"].get(202, 0)
        ratios.append(got["collect"]["rate"] / got["bare"]["rate"])
    loads = {}
    for side in ("bare", "collect"):
        path = BARE_PATH if side == "bare" else COLLECT_PATH
        loads[side] = asyncio.run(
            open_loop(server.port, requests_for(path, campaigns, int(args.rate * args.load_seconds), 7), args.rate)
        )
        _line(f"open_loop_{side}", **loads[side])
        errors += sum(n for s, n in loads[side]["statuses"].items() if s == "unanswered" or s == 0 or s >= 500)
        if side == "collect":
            accepted += loads[side]["statuses"].get(202, 0)
    return {
        "value": statistics.median(rates["collect"]), "reference": statistics.median(rates["bare"]),
        "ratio": statistics.median(ratios), "worst": min(ratios), "p99_at_rate": loads["collect"]["p99_ms"],
        "bare_p99_at_rate": loads["bare"]["p99_ms"], "achieved_at_rate": loads["collect"]["achieved"],
        "bare_achieved_at_rate": loads["bare"]["achieved"], "cpu_event": statistics.median(cpu["collect"]),
        "cpu_bare": statistics.median(cpu["bare"]), "errors": errors, "accepted_total": accepted,
    }  # fmt: skip


def _writer_cases(args, campaigns) -> dict:
    raw_rates, writer_rates, ratios = [], [], []
    batch_write(writer_rows(campaigns, 1000, 0))  # warm-up: staging table, plans
    raw_copy(writer_rows(campaigns, 1000, 1))
    for r in range(args.rounds):
        order = ("raw", "writer") if r % 2 == 0 else ("writer", "raw")
        got = {}
        for side in order:
            rows = writer_rows(campaigns, args.rows, 1000 + r)
            seconds = raw_copy(rows) if side == "raw" else batch_write(rows)
            got[side] = len(rows) / seconds
            _line(f"write_{side}", round=r, rows=len(rows), seconds=seconds, rows_per_s=got[side])
        raw_rates.append(got["raw"])
        writer_rates.append(got["writer"])
        ratios.append(got["writer"] / got["raw"])
    return {"value": statistics.median(writer_rates), "reference": statistics.median(raw_rates),
            "ratio": statistics.median(ratios), "worst": min(ratios)}  # fmt: skip
