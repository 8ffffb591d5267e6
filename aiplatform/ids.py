"""Time-ordered UUIDs (RFC 9562 version 7) for append-heavy tables.

Random v4 keys scatter inserts across the primary-key index; v7 keys grow with
time, so a busy ledger appends to the right edge of its index. PostgreSQL 18's
`uuidv7()` makes the same kind of ids on the server side.
"""

from __future__ import annotations

import os
import time
import uuid


def uuid7() -> uuid.UUID:
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80  # 48-bit unix time in ms
    value |= 0x7 << 76  # version 7
    value |= ((rand >> 62) & 0xFFF) << 64  # 12 random bits
    value |= 0b10 << 62  # RFC 4122 variant
    value |= rand & ((1 << 62) - 1)  # 62 random bits
    return uuid.UUID(int=value)
