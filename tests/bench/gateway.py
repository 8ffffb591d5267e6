"""Time to first token through the AI gateway against the provider read directly.

`python -m tests.bench gateway [--requests 40] [--rounds 5] [--tokens 20] [--token-delay 0.001] [--no-charge]`

* provider: the loopback OpenAI-compatible server of the tests
  (tests/support/model_server.py, uvicorn in a thread of this process) streaming
  `--tokens` tokens, `--token-delay` seconds apart;
* reference (A): a pooled `httpx.Client` POSTs the same streamed request the
  gateway sends and reads the server-sent events until the first content delta
  (time to first token) and to `[DONE]` (total);
* candidate (B): `aiplatform.ai.gateway.stream(...)` for an account through the
  model registry: the shut-off guard, the provider client, SSE parsing, and at
  the end the priced usage record (and, unless --no-charge, the ledger debit).
  Its total includes writing those rows.

A and B alternate request by request (A B A B …, the order flipped every round)
after a warm-up. The embedded PostgreSQL and Redis run under
AIPLATFORM_DATA_DIR (default `.data/bench`). The last line is one JSON object
(see /work/shared/BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GOAL_MS = 2.0
MODEL = "bench-model"


@dataclass
class Timing:
    ttft_ms: float
    total_ms: float


@dataclass
class Side:
    ttft: list[float] = field(default_factory=list)
    total: list[float] = field(default_factory=list)

    def add(self, t: Timing) -> None:
        self.ttft.append(t.ttft_ms)
        self.total.append(t.total_ms)


def _setup(server_url: str) -> None:
    os.environ.setdefault("AIPLATFORM_DATA_DIR", str(REPO / ".data" / "bench"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "aiplatform.settings.local"
    os.environ["DJANGO_DEBUG"] = "false"  # DEBUG keeps every query in memory; production does not
    os.environ["AI_OPENAI_BASE_URL"] = server_url
    os.environ["AI_OPENAI_API_KEY"] = "bench-key"
    os.environ["LOG_LEVEL"] = "WARNING"
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    import django

    django.setup()


def _build():
    """Empty the bench database, then one funded account and the registry entry."""
    from django.core.management import call_command
    from django.db import connection

    from accounts.models import User
    from accounts.services.accounts import account_create
    from accounts.tenancy.roles import as_owner
    from aiplatform.ai.models import AiModel
    from billing.services.ledger import wallet_credit

    call_command("migrate", verbosity=0)
    with as_owner(connection):
        call_command("flush", interactive=False, verbosity=0)
    owner = User.objects.create_user("bench-owner@example.com")
    account = account_create(name="gateway bench", owner=owner)
    wallet_credit(account=account, amount=Decimal("1000000"), type="bonus", description="bench funds")
    AiModel.objects.create(
        name=MODEL, provider="openai", provider_model="loopback-1", kind="chat", context_window=8192,
        credits_in_per_1k=Decimal("1"), credits_out_per_1k=Decimal("2"), price_in_per_mtok=Decimal("0.15"),
        price_out_per_mtok=Decimal("0.6"),
    )  # fmt: skip
    return account, owner


def _cleanup(stop: bool) -> None:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from accounts.tenancy.roles import as_owner

    with as_owner(connection):
        call_command("flush", interactive=False, verbosity=0)
    connection.close()
    if stop and getattr(settings, "EMBEDDED_SERVICES", False):
        from aiplatform import embedded

        embedded.stop(settings.DATA_DIR)


# --- the two sides --------------------------------------------------------------------------


def _direct(client, url: str, body: dict) -> Timing:
    started = time.perf_counter()
    first = None
    with client.stream("POST", url, json=body, headers={"Authorization": "Bearer bench-key"}) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if not line.startswith("data: "):
                continue
            data = line[6:]
            # Read on to the end of the body, as the gateway does: a response closed
            # early cannot return its connection to the pool.
            if first is None and data != "[DONE]":
                chunk = json.loads(data)
                if any((c.get("delta") or {}).get("content") for c in chunk.get("choices") or ()):
                    first = time.perf_counter()
    end = time.perf_counter()
    return Timing(1000 * ((first or end) - started), 1000 * (end - started))


def _through_gateway(account, user, messages: list[dict], charge: bool) -> Timing:
    from aiplatform.ai import gateway

    started = time.perf_counter()
    stream = gateway.stream(account=account, user=user, model=MODEL, messages=messages, feature="chat", charge=charge)
    first = None
    for _ in stream:
        if first is None:
            first = time.perf_counter()
    end = time.perf_counter()
    assert stream.completion is not None and stream.completion.usage_record_id is not None
    return Timing(1000 * ((first or end) - started), 1000 * (end - started))


def _queries_per_call(account, user, messages: list[dict], charge: bool) -> dict:
    """Statements one gateway stream sends before its first token and in all."""
    from django.db import connection

    from aiplatform.ai import gateway

    seen: list[str] = []
    marks: list[int] = []

    def count(execute, sql, params, many, context):
        seen.append(sql.split()[0].upper())
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        stream = gateway.stream(account=account, user=user, model=MODEL, messages=messages, feature="chat",
                                charge=charge)  # fmt: skip
        for _ in stream:
            if not marks:
                marks.append(len(seen))
    return {"before_first_token": marks[0], "total": len(seen)}


def _setup_us(account, user, messages: list[dict], charge: bool, n: int = 200) -> float:
    """Microseconds `gateway.stream(...)` takes before any byte is sent (registry, guard,
    request): the gateway's own share of the time to first token, free of network noise."""
    from aiplatform.ai import gateway

    took = []
    for _ in range(n):
        started = time.perf_counter()
        stream = gateway.stream(account=account, user=user, model=MODEL, messages=messages, feature="chat",
                                charge=charge)  # fmt: skip
        took.append(1e6 * (time.perf_counter() - started))
        stream.close()  # never started: a cancelled call with no tokens
    return statistics.median(took)


# --- the run -------------------------------------------------------------------------------


def _median(values: list[float]) -> float:
    return statistics.median(values)


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 20 else max(values)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench gateway", description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=40, help="requests per side and round (default 40)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--tokens", type=int, default=20, help="tokens per answer (default 20)")
    parser.add_argument("--token-delay", type=float, default=0.001, help="seconds between tokens (default 0.001)")
    parser.add_argument("--warmup", type=int, default=30, help="warm-up requests per side (default 30)")
    parser.add_argument("--no-charge", action="store_true", help="gateway side: usage record only, no debit")
    parser.add_argument("--keep", action="store_true", help="keep the data and the embedded servers afterwards")
    args = parser.parse_args(argv)

    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from tests.support.model_server import ModelServer

    server = ModelServer().start()
    try:
        _setup(server.base_url)
        try:
            result = _bench(args, server)
        finally:
            if not args.keep:
                _cleanup(stop=True)
    finally:
        server.stop()
    print(json.dumps(result))
    return 0


def _bench(args: argparse.Namespace, server) -> dict:
    import httpx

    from aiplatform.ai.providers.base import ChatRequest
    from aiplatform.ai.providers.openai_compat import chat_body
    from aiplatform.ai.types import ChatMessage

    account, user = _build()
    charge = not args.no_charge
    # The server echoes "Echo: " + the question, one word per chunk: tokens - 1 words.
    question = " ".join(f"w{i}" for i in range(args.tokens - 1))
    messages = [{"role": "user", "content": question}]
    # The reference sends exactly the body the gateway sends.
    body = chat_body(ChatRequest(model="loopback-1", messages=(ChatMessage("user", question),)), stream=True)
    url = server.base_url + "/chat/completions"
    server.slow(first_token_delay=0.0, token_delay=args.token_delay)
    client = httpx.Client(timeout=httpx.Timeout(60.0, connect=5.0))

    def run_direct() -> Timing:
        return _direct(client, url, body)

    def run_gateway() -> Timing:
        return _through_gateway(account, user, messages, charge)

    sides = {"direct": run_direct, "gateway": run_gateway}
    for _ in range(args.warmup):
        for run in sides.values():
            run()
    queries = _queries_per_call(account, user, messages, charge)
    setup_us = _setup_us(account, user, messages, charge)
    print(f"# {args.tokens} tokens per answer, {args.token_delay * 1000:g} ms apart; gateway charges: {charge}; "
          f"gateway statements before the first token: {queries['before_first_token']}, "
          f"in all: {queries['total']}; gateway.stream() before sending: {setup_us:.0f} us (p50)",
          flush=True)  # fmt: skip

    overall = {name: Side() for name in sides}
    rounds: list[dict] = []
    for round_ in range(args.rounds):
        order = list(sides) if round_ % 2 == 0 else list(reversed(sides))
        this = {name: Side() for name in sides}
        cpu0 = time.process_time()
        for _ in range(args.requests):
            for name in order:
                timing = sides[name]()
                this[name].add(timing)
                overall[name].add(timing)
        cpu = time.process_time() - cpu0
        d, g = this["direct"], this["gateway"]
        summary = {
            "ttft_ms_p50": {"direct": round(_median(d.ttft), 3), "gateway": round(_median(g.ttft), 3)},
            "total_ms_p50": {"direct": round(_median(d.total), 3), "gateway": round(_median(g.total), 3)},
            "ttft_ratio": round(_median(g.ttft) / _median(d.ttft), 3),
            "added_ttft_ms": round(_median(g.ttft) - _median(d.ttft), 3),
            "total_ratio": round(_median(g.total) / _median(d.total), 3),
            "process_cpu_ms_per_pair": round(1000 * cpu / args.requests, 3),
        }
        rounds.append(summary)
        print(
            f"gateway round {round_ + 1}/{args.rounds} ({'-'.join(order)}): ttft p50 direct="
            f"{summary['ttft_ms_p50']['direct']:.3f} ms gateway={summary['ttft_ms_p50']['gateway']:.3f} ms "
            f"(+{summary['added_ttft_ms']:.3f} ms, ratio {summary['ttft_ratio']:.3f}) | total p50 direct="
            f"{summary['total_ms_p50']['direct']:.3f} ms gateway={summary['total_ms_p50']['gateway']:.3f} ms "
            f"(ratio {summary['total_ratio']:.3f}) | cpu {summary['process_cpu_ms_per_pair']:.2f} ms/pair",
            flush=True,
        )
    client.close()

    d, g = overall["direct"], overall["gateway"]
    added = _median([r["added_ttft_ms"] for r in rounds])
    print(
        f"gateway all: ttft p50 direct={_median(d.ttft):.3f} gateway={_median(g.ttft):.3f} ms, "
        f"p95 direct={_p95(d.ttft):.3f} gateway={_p95(g.ttft):.3f} ms; total p50 direct={_median(d.total):.3f} "
        f"gateway={_median(g.total):.3f} ms; added ttft p50 (median of rounds) {added:.3f} ms, goal <= {GOAL_MS} ms",
        flush=True,
    )
    return {
        "bench": "gateway",
        "metric": "ttft_ms_p50",
        "value": round(_median(g.ttft), 3),
        "reference": round(_median(d.ttft), 3),
        "ratio": _median([r["ttft_ratio"] for r in rounds]),
        "goal": f"added TTFT <= {GOAL_MS:g} ms at the median",
        "added_ttft_ms_p50": round(added, 3),
        "total_ms_p50": round(_median(g.total), 3),
        "total_ms_p50_direct": round(_median(d.total), 3),
        "ttft_ms_p95": round(_p95(g.ttft), 3),
        "ttft_ms_p95_direct": round(_p95(d.ttft), 3),
        "tokens": args.tokens,
        "token_delay_ms": args.token_delay * 1000,
        "requests_per_round": args.requests,
        "rounds": args.rounds,
        "charge": charge,
        "statements_before_first_token": queries["before_first_token"],
        "statements_per_call": queries["total"],
        "gateway_setup_us_p50": round(setup_us, 1),
        "per_round": rounds,
    }


if __name__ == "__main__":
    sys.exit(main())
