"""`python tests/bench/_uvicorn_pool.py <uvicorn args>`: uvicorn, with the AI gateway's
provider connection pool resized to CHAT_BENCH_PROVIDER_CONNECTIONS first.

An experiment of `streaming_load --provider-connections N`: the gateway keeps one
pool of at most 200 connections per process (aiplatform/ai/providers/transport.py),
so a process can stream at most 200 answers at once; this shows what the chat side
does beyond that cap. The run says so in its output.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import httpx  # noqa: E402
import uvicorn.main  # noqa: E402

from aiplatform.ai.providers import transport  # noqa: E402

# Module level: uvicorn's worker processes (spawned) import this module again as __mp_main__.
size = int(os.environ["CHAT_BENCH_PROVIDER_CONNECTIONS"])
transport._LIMITS = httpx.Limits(max_connections=size, max_keepalive_connections=size, keepalive_expiry=60)

if __name__ == "__main__":
    args = sys.argv[1:]
    sys.argv = ["uvicorn", *(args[2:] if args[:2] == ["-m", "uvicorn"] else args)]
    sys.exit(uvicorn.main.main())
