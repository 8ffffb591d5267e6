"""Many chat answers streaming at once on this machine, and many idle chat sockets
held by one process.

`python -m tests.bench streaming_load [--sessions 500] [--rounds 3] [--token-delay 0.1] [--ramp 30]
 [--window 10] [--direct 20] [--idle 1000] [--levels 100,250] [--workers 2] [--keep]`

* idle: `--idle` websockets opened on the chats and left open (two per chat, like
  two tabs) on ONE uvicorn process serving the project's ASGI app; the server's
  resident memory before and after, per connection.
* streaming: then uvicorn restarts with `--workers` processes (default 2, one per
  core, as the README says to deploy) and `--sessions` websockets (10 chats per
  user, one user per account) each ask a question, the starts spread evenly over
  `--ramp` seconds; the loopback model server (a process of its own) answers every
  one with words `--token-delay` apart, long enough that all answers stream at once
  for `--window` seconds after a two-second settle. The load generator is one
  asyncio process (the `websockets` client) on the same two cores. At the same time
  it reads `--direct` answers of the same provider directly with httpx: the
  reference, under the same machine load. The measure is the gap between words as
  they arrive inside that window: "added gap" = websocket p95 - direct p95 of the
  same round. Time to first token is reported too: it includes the queue of every
  answer's database work while hundreds start.

The last line is one JSON object (see /work/shared/BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GOAL_GAP_MS = 50.0
SETTLE = 2.0  # seconds after the last start before gaps count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench streaming_load", description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=500, help="simultaneous answers at the top level (500)")
    parser.add_argument("--levels", default="", help="comma-separated lower levels run first, e.g. 100,250")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per level (default 3)")
    parser.add_argument("--token-delay", type=float, default=0.1, help="seconds between words (default 0.1)")
    parser.add_argument("--direct", type=int, default=20, help="reference streams read directly per round (20)")
    parser.add_argument("--ramp", type=float, default=30.0, help="seconds over which the answers start (default 30)")
    parser.add_argument("--window", type=float, default=10.0, help="seconds measured with all streaming (10)")
    parser.add_argument("--idle", type=int, default=1000, help="idle sockets held at once (default 1000)")
    parser.add_argument(
        "--provider", choices=["fast", "tests"], default="fast",
        help="loopback provider: fast (_fast_provider.py, default) or the tests' model server",
    )  # fmt: skip
    parser.add_argument(
        "--provider-connections", type=int, default=0,
        help="AI_MAX_CONNECTIONS of the app processes (default: the setting's default)",
    )  # fmt: skip
    parser.add_argument(
        "--workers", type=int, default=2,
        help="uvicorn worker processes while answers stream (default 2: one per core); idle sockets: one process",
    )  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep the data and the embedded servers afterwards")
    args = parser.parse_args(argv)
    # Long enough to stream through the ramp, the settle, the window and a margin.
    args.tokens = int((args.ramp + SETTLE + args.window + 3) / args.token_delay)
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from tests.bench._chat_stack import Stack

    levels = sorted({int(x) for x in args.levels.split(",") if x.strip()} | {args.sessions})
    chats_per_user = 10
    users = -(-max(args.sessions, args.idle // 2) // chats_per_user)
    if args.provider_connections:
        os.environ["AI_MAX_CONNECTIONS"] = str(args.provider_connections)
    with Stack(token_delay=args.token_delay, keep=args.keep, provider=args.provider) as stack:
        chats = stack.build(users=users, chats_per_user=chats_per_user, max_tokens=args.tokens + 10)
        stack.start_app(workers=1)
        stack.chats_for_clients(chats)
        try:
            import uvloop

            runner = uvloop.run
        except ImportError:  # pragma: no cover
            runner = asyncio.run
        result = runner(_bench(args, stack, chats, levels))
    print(json.dumps(result))
    return 0


async def _open(chats, pairs, *, batch: int = 50) -> list:
    from websockets.asyncio.client import connect

    async def one(cookie: str, chat_id: str):
        ws = await connect(chats.ws_base + chat_id + "/", origin=chats.origin, additional_headers={"Cookie": cookie},
                           max_queue=None, open_timeout=60, ping_interval=None)  # fmt: skip
        hello = json.loads(await ws.recv())
        assert hello["type"] == "hello", hello
        return ws

    sockets = []
    for at in range(0, len(pairs), batch):
        sockets += await asyncio.gather(*(one(c, s) for c, s in pairs[at : at + batch]))
    return sockets


async def _idle(args, stack, chats) -> dict:
    if args.idle <= 0:
        return {}
    app = stack.app_process()
    pairs = chats.pairs()
    pairs = (pairs * 2)[: args.idle]  # two sockets per chat: two tabs
    await asyncio.sleep(1)
    before = app.memory_info().rss
    started = time.perf_counter()
    sockets = await _open(chats, pairs)
    opened_s = time.perf_counter() - started
    await asyncio.sleep(3)
    # Every socket still answers (a ping is answered by the server's protocol layer).
    pongs = await asyncio.gather(*(ws.ping() for ws in sockets))
    await asyncio.gather(*pongs)
    after = app.memory_info().rss
    await asyncio.gather(*(ws.close() for ws in sockets))
    per_kb = (after - before) / len(sockets) / 1024
    line = {
        "idle_connections": len(sockets), "rss_before_mb": round(before / 2**20, 1),
        "rss_after_mb": round(after / 2**20, 1), "kb_per_connection": round(per_kb, 1),
        "open_seconds": round(opened_s, 2),
    }  # fmt: skip
    print(f"idle: {len(sockets)} sockets open and answering pings; server RSS {line['rss_before_mb']} -> "
          f"{line['rss_after_mb']} MB = {per_kb:.1f} KB per connection (opened in {opened_s:.1f} s)",
          flush=True)  # fmt: skip
    return line


async def _round(args, stack, sockets, question: str, body: dict, client) -> dict:
    from tests.bench._chat_stack import direct_stream, gaps_within, percentile, ws_answer

    url = stack.model_url + "/chat/completions"
    n = len(sockets)
    app = stack.app_process()

    async def candidate(i: int, ws):
        await asyncio.sleep(args.ramp * i / n)
        return await ws_answer(ws, question)

    async def reference(i: int):
        await asyncio.sleep(args.ramp * (i + 0.5) / args.direct)
        return await direct_stream(client, url, body)

    cpu0, t0 = sum(app.cpu_times()[:2]), time.perf_counter()
    window = (t0 + args.ramp + SETTLE, t0 + args.ramp + SETTLE + args.window)
    sampler = asyncio.ensure_future(_cpu_during(app, *window))
    results = await asyncio.gather(
        asyncio.gather(*(candidate(i, ws) for i, ws in enumerate(sockets)), return_exceptions=True),
        asyncio.gather(*(reference(i) for i in range(args.direct)), return_exceptions=True),
    )
    wall = time.perf_counter() - t0
    cpu = sum(app.cpu_times()[:2]) - cpu0
    ws_results, direct_results = results
    failures = [r for r in ws_results if isinstance(r, BaseException) or r[2].get("status") != "complete"]
    ok = [r for r in ws_results if not isinstance(r, BaseException) and r[2].get("status") == "complete"]
    ws_gaps = [g for _, arrivals, _ in ok for g in gaps_within(arrivals, *window)]
    ws_ttft = [1000 * t for t, _, _ in ok]
    d_ok = [r for r in direct_results if not isinstance(r, BaseException)]
    d_gaps = [g for _, arrivals in d_ok for g in gaps_within(arrivals, *window)]
    d_ttft = [1000 * t for t, _ in d_ok]
    out = {
        "sessions": n, "completed": len(ok), "failed": len(failures),
        "gap_p50": [percentile(d_gaps, .5), percentile(ws_gaps, .5)],
        "gap_p95": [percentile(d_gaps, .95), percentile(ws_gaps, .95)],
        "gap_p99": [percentile(d_gaps, .99), percentile(ws_gaps, .99)],
        "ttft_p50": [percentile(d_ttft, .5), percentile(ws_ttft, .5)],
        "ttft_p95": [percentile(d_ttft, .95), percentile(ws_ttft, .95)],
        "server_cpu_share": cpu / wall, "seconds": wall, "window_cpu_share": await sampler,
        "streaming_in_window": sum(1 for _, a, _ in ok if a and a[0] <= window[0] and a[-1] >= window[1]),
        "server_cpu_ms_per_answer": 1000 * cpu / max(len(ok), 1),
    }  # fmt: skip
    out["added_gap_p95"] = out["gap_p95"][1] - out["gap_p95"][0]
    if failures:
        sample = failures[0]
        print(f"  {len(failures)} answers failed, e.g. {sample if isinstance(sample, BaseException) else sample[2]}",
              flush=True)  # fmt: skip
    return out


async def _cpu_during(app, start: float, end: float) -> float:
    """The server's CPU share (of one core) between two perf_counter times."""
    await asyncio.sleep(max(0.0, start - time.perf_counter()))
    cpu0, t0 = sum(app.cpu_times()[:2]), time.perf_counter()
    await asyncio.sleep(max(0.0, end - t0))
    return (sum(app.cpu_times()[:2]) - cpu0) / (time.perf_counter() - t0)


async def _bench(args, stack, chats, levels: list[int]) -> dict:
    import httpx

    from tests.bench._chat_stack import reference_body

    idle = await _idle(args, stack, chats)  # one process holds them all
    if args.workers != 1:
        stack.stop_app()
        stack.start_app(workers=args.workers)
        stack.chats_for_clients(chats)
    question = " ".join(f"w{i}" for i in range(args.tokens - 1))
    body = reference_body(question, args.tokens + 10)
    pairs = chats.pairs()
    per_level: dict[int, list[dict]] = {}
    limits = httpx.Limits(max_connections=args.direct * 2, max_keepalive_connections=args.direct)
    async with httpx.AsyncClient(timeout=httpx.Timeout(120.0, connect=10.0), limits=limits) as client:
        for level in levels:
            sockets = await _open(chats, pairs[:level])
            per_level[level] = []
            for n in range(args.rounds):
                r = await _round(args, stack, sockets, question, body, client)
                per_level[level].append(r)
                print(
                    f"streaming_load {level} sessions, round {n + 1}/{args.rounds}: {r['completed']} complete, "
                    f"{r['failed']} failed; gap p50 direct {r['gap_p50'][0]:.1f} / websocket {r['gap_p50'][1]:.1f} ms, "
                    f"p95 {r['gap_p95'][0]:.1f} / {r['gap_p95'][1]:.1f} ms (+{r['added_gap_p95']:.1f}), p99 "
                    f"{r['gap_p99'][0]:.1f} / {r['gap_p99'][1]:.1f} ms; ttft p50 {r['ttft_p50'][0]:.1f} / "
                    f"{r['ttft_p50'][1]:.1f} ms, p95 {r['ttft_p95'][0]:.1f} / {r['ttft_p95'][1]:.1f} ms; "
                    f"{r['streaming_in_window']} streaming through the whole window; app server "
                    f"{100 * r['window_cpu_share']:.0f}% of a core in the window "
                    f"({100 * r['server_cpu_share']:.0f}% overall), {r['server_cpu_ms_per_answer']:.1f} ms CPU per "
                    f"answer",
                    flush=True,
                )  # fmt: skip
            await asyncio.gather(*(ws.close() for ws in sockets))

    med = statistics.median
    top = per_level[args.sessions]
    summary = {
        "gap_p95": med(r["gap_p95"][1] for r in top),
        "gap_p95_direct": med(r["gap_p95"][0] for r in top),
        "added_gap_p95": med(r["added_gap_p95"] for r in top),
    }
    ratio = med(r["gap_p95"][1] / r["gap_p95"][0] for r in top)
    return {
        "bench": "streaming_load",
        "metric": "gap_ms_p95",
        "value": round(summary["gap_p95"], 2),
        "reference": round(summary["gap_p95_direct"], 2),
        "ratio": round(ratio, 3),
        "goal": f"{args.sessions} sessions with added gap p95 <= {GOAL_GAP_MS:g} ms; 1000 idle connections",
        "sessions": args.sessions,
        "added_gap_p95_ms": round(summary["added_gap_p95"], 2),
        "goal_met": summary["added_gap_p95"] <= GOAL_GAP_MS and all(r["failed"] == 0 for r in top),
        "completed": sum(r["completed"] for r in top),
        "failed": sum(r["failed"] for r in top),
        "ttft_ms_p50": round(med(r["ttft_p50"][1] for r in top), 1),
        "ttft_ms_p95": round(med(r["ttft_p95"][1] for r in top), 1),
        "server_cpu_share_window": round(med(r["window_cpu_share"] for r in top), 3),
        "streaming_in_window": min(r["streaming_in_window"] for r in top),
        "server_cpu_ms_per_answer": round(med(r["server_cpu_ms_per_answer"] for r in top), 1),
        "tokens": args.tokens,
        "token_delay_ms": args.token_delay * 1000,
        "levels": {str(k): round(med(r["added_gap_p95"] for r in v), 2) for k, v in per_level.items()},
        "provider_connections": args.provider_connections or 1000,
        "workers": args.workers,
        **{f"idle_{k}": v for k, v in idle.items()},
    }


if __name__ == "__main__":
    sys.exit(main())
