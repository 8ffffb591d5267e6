"""Time to first token and the gap between tokens, at the client side of the chat
websocket, against the loopback model server read directly.

`python -m tests.bench streaming [--rounds 5] [--requests 30] [--tokens 20] [--token-delay 0.02] [--warmup 10] [--keep]`

* provider: the tests' loopback OpenAI-compatible server (tests/support/model_server.py)
  in a process of its own, one word per chunk, `--token-delay` seconds apart;
* reference (A): an `httpx.AsyncClient` POSTs exactly the body the gateway sends for
  a chat's first message and reads the server-sent events: time to the first
  content, and the gap between words as they arrive;
* candidate (B): a `websockets` client on `ws/chats/<id>/` of a real uvicorn process
  serving the project's ASGI app (as `bin/dev` does): it sends the question and
  times the `token` frames. Behind it: the consumer, the rate limits (Redis), the
  session lock, the stored messages and the credit hold (PostgreSQL), the gateway,
  the provider call, and the direct delivery to this socket; at the end the stored
  answer, the settled hold and the usage record.

Each B request uses a fresh chat (the prompt is the same as A's), its socket opened
before the clock starts. A and B alternate request by request, the order flipped
every round. The last line is one JSON object (see /work/shared/BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GOALS = {"added_ttft_p50_ms": 10.0, "added_ttft_p95_ms": 25.0, "added_gap_p95_ms": 5.0}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench streaming", description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--requests", type=int, default=30, help="requests per side and round (default 30)")
    parser.add_argument("--tokens", type=int, default=20, help="words per answer (default 20)")
    parser.add_argument("--token-delay", type=float, default=0.02, help="seconds between words (default 0.02)")
    parser.add_argument("--warmup", type=int, default=10, help="warm-up requests per side (default 10)")
    parser.add_argument("--keep", action="store_true", help="keep the data and the embedded servers afterwards")
    args = parser.parse_args(argv)
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from tests.bench._chat_stack import Stack

    with Stack(token_delay=args.token_delay, keep=args.keep) as stack:
        chats = stack.build(users=1, chats_per_user=args.warmup + args.rounds * args.requests + 1,
                            max_tokens=args.tokens + 10)  # fmt: skip
        stack.start_app()
        stack.chats_for_clients(chats)
        result = asyncio.run(_bench(args, stack, chats))
    print(json.dumps(result))
    return 0


async def _bench(args, stack, chats) -> dict:
    import httpx
    from websockets.asyncio.client import connect

    from tests.bench._chat_stack import direct_stream, gaps_ms, percentile, reference_body, ws_answer

    # The server echoes "Echo: " + the question, one word per chunk.
    question = " ".join(f"w{i}" for i in range(args.tokens - 1))
    body = reference_body(question, args.tokens + 10)
    url = stack.model_url + "/chat/completions"
    cookie, chat_ids = chats.cookies[0], list(chats.sessions[0])
    app = stack.app_process()
    headers = {"Cookie": cookie}

    async def open_chat(chat_id: str):
        ws = await connect(chats.ws_base + chat_id + "/", origin=chats.origin, additional_headers=headers,
                           max_queue=None)  # fmt: skip
        hello = json.loads(await ws.recv())
        assert hello["type"] == "hello", hello
        return ws

    async with httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=5.0)) as client:

        async def run_direct() -> tuple[float, list[float]]:
            ttft, arrivals = await direct_stream(client, url, body)
            return ttft, gaps_ms(arrivals)

        async def run_ws() -> tuple[float, list[float]]:
            ws = await open_chat(chat_ids.pop())
            try:
                ttft, arrivals, last = await ws_answer(ws, question)
            finally:
                await ws.close()
            assert last["type"] == "done" and last["status"] == "complete", last
            return ttft, gaps_ms(arrivals)

        for _ in range(args.warmup):
            await run_direct()
            await run_ws()

        sides = {"direct": run_direct, "websocket": run_ws}
        overall = {name: {"ttft": [], "gaps": []} for name in sides}
        rounds = []
        for n in range(args.rounds):
            order = list(sides) if n % 2 == 0 else list(reversed(sides))
            this = {name: {"ttft": [], "gaps": []} for name in sides}
            cpu0 = sum(app.cpu_times()[:2])
            for _ in range(args.requests):
                for name in order:
                    ttft, gaps = await sides[name]()
                    this[name]["ttft"].append(1000 * ttft)
                    this[name]["gaps"] += gaps
            server_cpu_ms = 1000 * (sum(app.cpu_times()[:2]) - cpu0) / args.requests
            for name in sides:
                overall[name]["ttft"] += this[name]["ttft"]
                overall[name]["gaps"] += this[name]["gaps"]
            d, w = this["direct"], this["websocket"]
            summary = {
                "ttft_p50": [percentile(d["ttft"], 0.5), percentile(w["ttft"], 0.5)],
                "ttft_p95": [percentile(d["ttft"], 0.95), percentile(w["ttft"], 0.95)],
                "gap_p50": [percentile(d["gaps"], 0.5), percentile(w["gaps"], 0.5)],
                "gap_p95": [percentile(d["gaps"], 0.95), percentile(w["gaps"], 0.95)],
                "server_cpu_ms_per_answer": server_cpu_ms,
            }
            summary["ratio"] = summary["ttft_p50"][1] / summary["ttft_p50"][0]
            summary["added_ttft_p50"] = summary["ttft_p50"][1] - summary["ttft_p50"][0]
            summary["added_ttft_p95"] = summary["ttft_p95"][1] - summary["ttft_p95"][0]
            summary["added_gap_p95"] = summary["gap_p95"][1] - summary["gap_p95"][0]
            rounds.append(summary)
            print(
                f"streaming round {n + 1}/{args.rounds} ({'-'.join(order)}): ttft p50 direct "
                f"{summary['ttft_p50'][0]:.2f} ms, websocket {summary['ttft_p50'][1]:.2f} ms "
                f"(+{summary['added_ttft_p50']:.2f}); p95 {summary['ttft_p95'][0]:.2f} / {summary['ttft_p95'][1]:.2f} "
                f"ms (+{summary['added_ttft_p95']:.2f}); gap p50 {summary['gap_p50'][0]:.2f} / "
                f"{summary['gap_p50'][1]:.2f} ms, p95 {summary['gap_p95'][0]:.2f} / {summary['gap_p95'][1]:.2f} ms "
                f"(+{summary['added_gap_p95']:.2f}); app server CPU {server_cpu_ms:.1f} ms per answer",
                flush=True,
            )  # fmt: skip

    d, w = overall["direct"], overall["websocket"]
    med = statistics.median
    added = {
        "added_ttft_p50_ms": round(med(r["added_ttft_p50"] for r in rounds), 3),
        "added_ttft_p95_ms": round(med(r["added_ttft_p95"] for r in rounds), 3),
        "added_gap_p95_ms": round(med(r["added_gap_p95"] for r in rounds), 3),
    }
    met = {k: added[k] <= GOALS[k] for k in GOALS}
    print(
        f"streaming all: ttft p50 direct {percentile(d['ttft'], .5):.2f} ms, websocket "
        f"{percentile(w['ttft'], .5):.2f} ms; p95 {percentile(d['ttft'], .95):.2f} / "
        f"{percentile(w['ttft'], .95):.2f} ms; gap p95 {percentile(d['gaps'], .95):.2f} / "
        f"{percentile(w['gaps'], .95):.2f} ms; added (median of rounds) {added}; goals met {met}",
        flush=True,
    )  # fmt: skip
    return {
        "bench": "streaming",
        "metric": "ttft_ms_p50",
        "value": round(percentile(w["ttft"], 0.5), 3),
        "reference": round(percentile(d["ttft"], 0.5), 3),
        "ratio": round(med(r["ratio"] for r in rounds), 3),
        "goal": {k: f"<= {v:g}" for k, v in GOALS.items()},
        **added,
        "goals_met": met,
        "ttft_ms_p95": round(percentile(w["ttft"], 0.95), 3),
        "ttft_ms_p95_direct": round(percentile(d["ttft"], 0.95), 3),
        "gap_ms_p95": round(percentile(w["gaps"], 0.95), 3),
        "gap_ms_p95_direct": round(percentile(d["gaps"], 0.95), 3),
        "server_cpu_ms_per_answer": round(med(r["server_cpu_ms_per_answer"] for r in rounds), 2),
        "tokens": args.tokens,
        "token_delay_ms": args.token_delay * 1000,
        "requests_per_round": args.requests,
        "rounds": args.rounds,
    }


if __name__ == "__main__":
    sys.exit(main())
