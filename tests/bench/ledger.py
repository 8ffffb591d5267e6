"""Debits per second: the ledger service against seed 001's `deduct_credits`.

`python -m tests.bench ledger [--seconds 3] [--rounds 5] [--wallets 1000] [--profile] [--keep]`

* candidate: `billing.services.ledger.wallet_debit` through Django, each client
  thread on its own Django connection (the app role, row-level security on), writing
  the ledger row and, by trigger, the wallet's audit row per debit;
* reference: `SELECT * FROM bench_deduct_credits(id, 1)`, the seed 001 function
  copied onto a plain `bench_users` table, through a plain psycopg connection
  (autocommit) as the same app role.

Both run on the same embedded PostgreSQL (under `.data/bench`), interleaved
A B / B A round by round, at 1, 4 and 16 client threads, for one hot wallet and
for many wallets. Beside the rates it records client CPU (this process) and
server CPU (the PostgreSQL processes) per debit, and the statements one debit
sends. `--profile` adds variants that show where the candidate's time goes.
The last line is one JSON object (see /work/shared/BENCHMARKS.md): `value` the lowest
ratio of all cases (the worst case is the headline), every case's ratio beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CLIENTS = (1, 4, 16)
GOAL = 0.6  # of the reference rate, in every case (1, 4, 16 clients; one wallet and many)
ONE = Decimal("1")
FUNDS = Decimal("1000000000")

# Seed 001 `deduct_credits` (see /work/shared/seeds/001_*.txt), on a table of its own
# that carries only the columns the function touches.
REFERENCE_DDL = """
CREATE TABLE IF NOT EXISTS bench_users (
    id uuid PRIMARY KEY,
    credits numeric NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE OR REPLACE FUNCTION bench_deduct_credits(
  p_user_id UUID,
  p_amount INTEGER
)
RETURNS TABLE (
  id UUID,
  credits NUMERIC,
  updated_at TIMESTAMP WITH TIME ZONE
) AS $$
BEGIN
  RETURN QUERY
  UPDATE bench_users
  SET
    credits = bench_users.credits - p_amount,
    updated_at = NOW()
  WHERE bench_users.id = p_user_id
    AND bench_users.credits >= p_amount
  RETURNING
    bench_users.id,
    bench_users.credits,
    bench_users.updated_at;
END;
$$ LANGUAGE plpgsql;
"""
REFERENCE_DROP = (
    "DROP FUNCTION IF EXISTS bench_deduct_credits(uuid, integer);"
    " DROP FUNCTION IF EXISTS bench_wallet_debit(uuid, numeric, text);"
    " DROP TABLE IF EXISTS bench_users;"
)


# --- environment -----------------------------------------------------------------------


def _setup_django() -> None:
    os.environ["AIPLATFORM_DATA_DIR"] = str(REPO / ".data" / "bench")
    os.environ["DJANGO_SETTINGS_MODULE"] = "aiplatform.settings.local"
    # DEBUG keeps every query in memory; production does not.
    os.environ["DJANGO_DEBUG"] = "false"
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    import django

    django.setup()


@dataclass
class Data:
    hot_account: object
    accounts: list  # many wallets
    hot_user: str
    users: list[str]


def _build(n_wallets: int) -> Data:
    """Empty the bench database, then create the wallets (through the ledger) and the reference rows."""
    import uuid

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction

    from accounts.models import User
    from accounts.services.accounts import account_create
    from accounts.tenancy.roles import as_owner
    from billing.services.ledger import wallet_credit

    call_command("migrate", verbosity=0)
    hot_user, users = str(uuid.uuid4()), [str(uuid.uuid4()) for _ in range(n_wallets)]
    with as_owner(connection):
        call_command("flush", interactive=False, verbosity=0)
        with connection.cursor() as cur:
            cur.execute(REFERENCE_DROP)
            cur.execute(REFERENCE_DDL)
            app = connection.ops.quote_name(settings.DATABASE_APP_USER)
            cur.execute(f"GRANT SELECT, UPDATE ON bench_users TO {app}")
            rows = [(u, FUNDS) for u in [hot_user, *users]]
            cur.executemany("INSERT INTO bench_users (id, credits) VALUES (%s, %s)", rows)
    owner = User.objects.create_user("bench-owner@example.com")
    accounts = []
    for start in range(0, n_wallets + 1, 250):
        with transaction.atomic():
            for i in range(start, min(start + 250, n_wallets + 1)):
                account = account_create(name=f"bench {i}", owner=owner)
                wallet_credit(account=account, amount=FUNDS, type="bonus", description="bench funds")
                accounts.append(account)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    return Data(hot_account=accounts[0], accounts=accounts[1:], hot_user=hot_user, users=users)


def _cleanup(stop: bool) -> None:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from accounts.tenancy.roles import as_owner

    with as_owner(connection):
        call_command("flush", interactive=False, verbosity=0)
        with connection.cursor() as cur:
            cur.execute(REFERENCE_DROP)
    connection.close()
    if stop and getattr(settings, "EMBEDDED_SERVICES", False):
        from aiplatform import embedded

        embedded.stop(settings.DATA_DIR)


# --- measuring ---------------------------------------------------------------------------


def _postgres_cpu() -> dict[int, float] | None:
    """CPU seconds used so far by each embedded PostgreSQL process (None when not embedded)."""
    import psutil
    from django.conf import settings

    pidfile = Path(settings.DATA_DIR) / "postgres" / "postmaster.pid"
    if not getattr(settings, "EMBEDDED_SERVICES", False) or not pidfile.exists():
        return None
    try:
        root = psutil.Process(int(pidfile.read_text().split()[0]))
        used = {}
        for proc in [root, *root.children(recursive=True)]:
            try:
                t = proc.cpu_times()
                used[proc.pid] = t.user + t.system
            except psutil.NoSuchProcess:
                pass
        return used
    except (psutil.Error, ValueError):
        return None


def _cpu_delta(before: dict[int, float] | None, after: dict[int, float] | None) -> float | None:
    """CPU used in between by processes alive at the end (the clients' backends are)."""
    if before is None or after is None:
        return None
    return sum(t - before.get(pid, 0.0) for pid, t in after.items())


@dataclass
class Sample:
    ops: int
    seconds: float
    client_cpu: float
    server_cpu: float | None

    @property
    def rate(self) -> float:
        return self.ops / self.seconds

    def per_op_ms(self, cpu: float | None) -> float | None:
        return None if cpu is None or not self.ops else 1000 * cpu / self.ops


# A side opens one client per thread: `open()` returns (debit(target), close()).
Side = Callable[[], tuple[Callable[[object], None], Callable[[], None]]]


def _run(side: Side, targets: list, clients: int, seconds: float) -> Sample:
    connected = threading.Barrier(clients + 1)
    start = threading.Barrier(clients + 1)
    finished = threading.Barrier(clients + 1)
    measured = threading.Barrier(clients + 1)  # the backends live until the server CPU is read
    counts = [0] * clients
    errors: list[BaseException] = []
    deadline = [0.0]

    def worker(i: int) -> None:
        close = lambda: None  # noqa: E731
        try:
            debit, close = side()
            rng = random.Random(i)
            connected.wait()
            start.wait()
            end, n = deadline[0], 0
            while True:
                debit(targets[rng.randrange(len(targets))])
                if time.perf_counter() > end:
                    break
                n += 1
            counts[i] = n
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
            for b in (connected, start):
                b.abort()
        finally:
            try:
                finished.wait()
                measured.wait()
            except threading.BrokenBarrierError:
                pass
            close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    try:
        connected.wait()
        server0, cpu0 = _postgres_cpu(), time.process_time()
        deadline[0] = time.perf_counter() + seconds
        start.wait()
        time.sleep(max(0.0, deadline[0] - time.perf_counter()))
        finished.wait()
        server1, cpu1 = _postgres_cpu(), time.process_time()
        measured.wait()
    except threading.BrokenBarrierError:
        finished.abort()
        measured.abort()
        server0 = server1 = None
        cpu0 = cpu1 = 0.0
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"a client failed: {errors[0]!r}") from errors[0]
    return Sample(
        ops=sum(counts),
        seconds=seconds,
        client_cpu=cpu1 - cpu0,
        server_cpu=_cpu_delta(server0, server1),
    )


def _connect_psycopg():
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    return psycopg.connect(
        host=db["HOST"] or None, port=db["PORT"] or None, dbname=db["NAME"], user=db["USER"],
        password=db["PASSWORD"] or None, autocommit=True,
    )  # fmt: skip


def reference_side() -> tuple[Callable[[object], None], Callable[[], None]]:
    conn = _connect_psycopg()

    def debit(user_id) -> None:
        if conn.execute("SELECT * FROM bench_deduct_credits(%s, 1)", [user_id]).fetchone() is None:
            raise RuntimeError("reference: out of credits")

    return debit, conn.close


def candidate_side() -> tuple[Callable[[object], None], Callable[[], None]]:
    from django.db import connection, connections

    from billing.services.ledger import wallet_debit

    connection.ensure_connection()

    def debit(account) -> None:
        wallet_debit(account=account, amount=ONE)

    return debit, connections.close_all


# --- profile variants (--profile): where does the candidate's time go? -----------------

_SET_CONTEXT = "SELECT set_config('app.account_id', %s, true)"


def _post_sql_params(account_id) -> dict:
    import uuid

    return {
        "id": uuid.uuid4(), "account_id": account_id, "delta": -ONE, "counts_lifetime": 0, "type": "use",
        "actor_id": None, "reference_type": "", "reference_id": "", "description": "", "payment_method": "",
        "provider": "", "provider_payment_id": None, "amount_paid": None, "currency": "", "idempotency_key": None,
        "refund_of_id": None,
    }  # fmt: skip


def sql_one_round_trip_side() -> tuple[Callable[[object], None], Callable[[], None]]:
    """The service's own statement (wallet UPDATE + ledger INSERT + audit triggers) with
    its context, sent as BEGIN; set_config; statement; COMMIT in one pipeline: the
    database cost of the candidate with no extra round trips."""
    from billing.services.ledger import _POST_SQL

    conn = _connect_psycopg()

    def debit(account) -> None:
        with conn.pipeline():
            with conn.transaction():
                conn.execute(_SET_CONTEXT, [str(account.id)])
                cur = conn.execute(_POST_SQL, _post_sql_params(account.id))
        if cur.fetchone() is None:
            raise RuntimeError("out of credits")

    return debit, conn.close


def django_flat_side() -> tuple[Callable[[object], None], Callable[[], None]]:
    """A prototype of the proposed service change: one transaction, the context set
    and the debit in the fewest statements, no savepoint and no context swap-back."""
    from django.db import connection, connections, transaction

    from billing.services.ledger import ledger_post as _post

    connection.ensure_connection()

    def debit(account) -> None:
        with transaction.atomic():
            with connection.cursor() as cur:
                cur.execute(_SET_CONTEXT, [str(account.id)])
            if _post(account=account, delta=-ONE, type="use") is None:
                raise RuntimeError("out of credits")

    return debit, connections.close_all


def django_function_side() -> tuple[Callable[[object], None], Callable[[], None]]:
    """The proposed change taken further: a SQL function sets the context and runs the
    same statement, called in autocommit: one round trip, the row lock held for one
    statement plus its commit (as in the reference)."""
    from django.db import connection, connections

    connection.ensure_connection()

    def debit(account) -> None:
        with connection.cursor() as cur:
            cur.execute("SELECT * FROM bench_wallet_debit(%s, %s, %s)", [account.id, ONE, "use"])
            if cur.fetchone()[0] is None:
                raise RuntimeError("out of credits")

    return debit, connections.close_all


PROTOTYPE_FUNCTION = """
CREATE OR REPLACE FUNCTION bench_wallet_debit(p_account uuid, p_amount numeric, p_type text)
RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE
    v_after numeric;
BEGIN
    PERFORM set_config('app.account_id', p_account::text, true);
    WITH w AS (
        UPDATE billing_wallet SET balance = balance - p_amount, updated_at = now()
         WHERE account_id = p_account AND balance - reserved - p_amount >= 0
     RETURNING balance
    )
    INSERT INTO billing_credittransaction (id, account_id, amount, type, balance_after, reference_type,
        reference_id, description, payment_method, provider, currency, created_at)
    SELECT gen_random_uuid(), p_account, -p_amount, p_type, w.balance, '', '', '', '', '', '', now() FROM w
    RETURNING balance_after INTO v_after;
    RETURN v_after;
END $$;
"""

AUDIT_TRIGGERS = (("billing_wallet", "billing_wallet_audit"),)  # the ledger row is its own audit (0017)


def _owner_sql(sql: str) -> None:
    from django.db import connection

    from accounts.tenancy.roles import as_owner

    with as_owner(connection):
        with connection.cursor() as cur:
            cur.execute(sql)


def _statements_per_debit(account) -> dict:
    """Statements the candidate sends for one debit (psycopg adds BEGIN and COMMIT
    around those sent inside a transaction; autocommitted ones stand alone)."""
    from django.db import connection

    from billing.services.ledger import wallet_debit

    seen: list[str] = []
    in_transaction: list[bool] = []

    def count(execute, sql, params, many, context):
        seen.append(" ".join(w for w in sql.split("(")[0].split()[:2] if not w.startswith('"')))
        in_transaction.append(connection.in_atomic_block)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        wallet_debit(account=account, amount=ONE)
    statements = ["BEGIN", *seen, "COMMIT"] if any(in_transaction) else seen
    return {"round_trips": len(statements), "statements": statements}


# --- the run -------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    wallets: str  # "hot" or "many"
    clients: int
    rates: dict[str, list[float]] = field(default_factory=dict)
    client_cpu: dict[str, list[float]] = field(default_factory=dict)
    server_cpu: dict[str, list[float]] = field(default_factory=dict)

    def add(self, side: str, s: Sample) -> None:
        self.rates.setdefault(side, []).append(s.rate)
        if s.per_op_ms(s.client_cpu) is not None:
            self.client_cpu.setdefault(side, []).append(s.per_op_ms(s.client_cpu))
        if s.per_op_ms(s.server_cpu) is not None:
            self.server_cpu.setdefault(side, []).append(s.per_op_ms(s.server_cpu))

    def median(self, side: str) -> float:
        return statistics.median(self.rates[side])

    def ratio(self, side: str = "candidate") -> float:
        return statistics.median(c / r for c, r in zip(self.rates[side], self.rates["reference"], strict=True))

    def summary(self) -> dict:
        out = {
            "clients": self.clients,
            "wallets": self.wallets,
            "value": round(self.median("candidate"), 1),
            "reference": round(self.median("reference"), 1),
            "ratio": round(self.ratio(), 3),
            "goal": GOAL,
            "rounds": {side: [round(r, 1) for r in rates] for side, rates in self.rates.items()},
            "client_cpu_ms_per_debit": {s: round(statistics.median(v), 3) for s, v in self.client_cpu.items()},
            "server_cpu_ms_per_debit": {s: round(statistics.median(v), 3) for s, v in self.server_cpu.items()},
        }
        for side in self.rates:
            if side not in ("reference", "candidate"):
                out.setdefault("variants", {})[side] = {
                    "value": round(self.median(side), 1),
                    "ratio": round(self.ratio(side), 3),
                }
        return out

    def line(self) -> str:
        s = self.summary()
        cpu = " ".join(
            f"{side}:{s['client_cpu_ms_per_debit'].get(side, float('nan')):.3f}/"
            f"{s['server_cpu_ms_per_debit'].get(side, float('nan')):.3f}"
            for side in self.rates
        )
        variants = "".join(f" {k}={v['value']:.0f}/s ({v['ratio']:.2f})" for k, v in s.get("variants", {}).items())
        return (
            f"ledger {self.name:8s} clients={self.clients:<2d} reference={s['reference']:8.0f}/s "
            f"candidate={s['value']:8.0f}/s ratio={s['ratio']:.3f} goal={s['goal']}{variants} "
            f"| cpu ms/debit client/server {cpu}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench ledger", description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per case and side (default 3)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--wallets", type=int, default=1000, help="wallets in the many-wallets cases (default 1000)")
    parser.add_argument("--clients", type=lambda s: [int(c) for c in s.split(",")], default=list(CLIENTS))
    parser.add_argument("--profile", action="store_true", help="also run variants that show where the time goes")
    parser.add_argument("--keep", action="store_true", help="keep the data and the embedded servers afterwards")
    args = parser.parse_args(argv)

    _setup_django()
    try:
        result = _bench(args)
    finally:
        if not args.keep:
            _cleanup(stop=True)
    print(json.dumps(result))
    return 0


def _bench(args: argparse.Namespace) -> dict:
    t0 = time.perf_counter()
    data = _build(args.wallets)
    print(f"# built {args.wallets + 1} wallets and reference rows in {time.perf_counter() - t0:.1f}s", flush=True)

    sides: dict[str, Side] = {"reference": reference_side, "candidate": candidate_side}
    if args.profile:
        _owner_sql(PROTOTYPE_FUNCTION)
        sides |= {"sql_1rt": sql_one_round_trip_side, "flat": django_flat_side, "function": django_function_side}
    targets = {
        "reference": {"hot": [data.hot_user], "many": data.users},
        "accounts": {"hot": [data.hot_account], "many": data.accounts},
    }
    cases = [Case(f"{w}_{c}", w, c) for w in ("hot", "many") for c in args.clients]
    stmts = _statements_per_debit(data.accounts[0])
    print(f"# candidate round trips per debit: {stmts['round_trips']} ({', '.join(stmts['statements'])});"
          " reference: 1 (autocommit SELECT)", flush=True)  # fmt: skip

    def run(case: Case, side: str, seconds: float) -> Sample:
        key = "reference" if side == "reference" else "accounts"
        return _run(sides[side], targets[key][case.wallets], case.clients, seconds)

    warm = min(1.0, args.seconds / 2)
    for case in cases:
        for side in sides:
            run(case, side, warm)
    print(f"# warmed up ({warm}s per case and side)", flush=True)

    for round_ in range(args.rounds):
        order = list(sides) if round_ % 2 == 0 else list(reversed(sides))
        for case in cases:
            for side in order:
                case.add(side, run(case, side, args.seconds))
        print(
            f"# round {round_ + 1}/{args.rounds}: "
            + " ".join(f"{c.name}={c.rates['candidate'][-1] / c.rates['reference'][-1]:.2f}" for c in cases),
            flush=True,
        )

    no_audit: dict[str, list[float]] = {}
    if args.profile:
        # Not interleaved (the triggers are off for the whole stretch): compared with the reference median.
        _owner_sql("; ".join(f"ALTER TABLE {t} DISABLE TRIGGER {name}" for t, name in AUDIT_TRIGGERS))
        try:
            for _ in range(max(3, args.rounds // 2)):
                for case in cases:
                    no_audit.setdefault(case.name, []).append(run(case, "sql_1rt", args.seconds).rate)
        finally:
            _owner_sql("; ".join(f"ALTER TABLE {t} ENABLE TRIGGER {name}" for t, name in AUDIT_TRIGGERS))

    summaries = {}
    for case in cases:
        summary = case.summary()
        line = case.line()
        if case.name in no_audit:
            rate = statistics.median(no_audit[case.name])
            ratio = rate / case.median("reference")
            summary.setdefault("variants", {})["sql_1rt_no_audit"] = {"value": round(rate, 1), "ratio": round(ratio, 3)}
            line += f" | sql_1rt_no_audit={rate:.0f}/s ({ratio:.2f}, not interleaved)"
        summaries[case.name] = summary
        print(line, flush=True)

    # The headline is the worst case (issue 15): every case must reach the goal, not the best one.
    worst = min(summaries, key=lambda name: summaries[name]["ratio"])
    return {
        "bench": "ledger",
        "metric": "lowest_ratio_of_all_cases",
        "value": summaries[worst]["ratio"],
        "reference": 1.0,
        "ratio": summaries[worst]["ratio"],
        "goal": GOAL,
        "worst_case": worst,
        "ratios": {name: s["ratio"] for name, s in summaries.items()},
        "seconds_per_case": args.seconds,
        "rounds": args.rounds,
        "wallets": args.wallets,
        "candidate_round_trips_per_debit": stmts["round_trips"],
        "cases": summaries,
    }


if __name__ == "__main__":
    sys.exit(main())
