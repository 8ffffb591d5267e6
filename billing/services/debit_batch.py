"""Group commit for the debit hot path.

Threads of one process that debit at the same moment (the request threads of an
ASGI worker) hand their debits to whichever of them is already talking to the
database. That thread, the leader, sends everything queued in one
`billing_post_batch` statement (billing/sql/ledger_post.sql): one round trip, one commit and
one lock per wallet for the lot, instead of one each. A debit that arrives alone
goes straight through `billing_post`, so a quiet system pays nothing for this.
A Celery worker process (one thread) never batches.

Each debit is still checked on its own against the balance at its turn, in
arrival order; the leader hands every waiter its own row (or a refusal), and if
the batch statement fails as a whole each debit is retried alone, so one bad
debit cannot fail the others.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from decimal import Decimal
from uuid import UUID

from django.db import connection

SINGLE_SQL = "SELECT * FROM billing_post(%s, %s, %s, %s, %s, %s, %s, %s)"
BATCH_SQL = "SELECT * FROM billing_post_batch(%s, %s, %s, %s, %s, %s, %s, %s)"
MAX_BATCH = 256

Row = tuple[Decimal, Decimal, Decimal | None]  # balance_after, reserved, auto_top_up_below


@dataclass(eq=False)
class Debit:
    id: UUID
    account_id: UUID
    delta: Decimal
    type: str
    actor_id: object
    reference_type: str
    reference_id: str
    description: str
    row: Row | None = None
    error: BaseException | None = None
    lead: bool = False  # set when this waiter is handed the leader's role
    done: threading.Event = field(default_factory=threading.Event)

    def params(self) -> list:
        return [self.id, self.account_id, self.delta, self.type, self.actor_id, self.reference_type,
                self.reference_id, self.description]  # fmt: skip


class DebitCombiner:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[Debit] = []
        self._leading = False

    def post(self, debit: Debit) -> Row | None:
        """Run `debit` (alone or with others); its row, or None when the wallet cannot afford it."""
        with self._lock:
            self._queue.append(debit)
            lead = not self._leading
            self._leading = True
        if not lead:
            debit.done.wait()
            if debit.lead:
                self._lead()
        else:
            self._lead()
        if debit.error is not None:
            raise debit.error
        return debit.row

    def _lead(self) -> None:
        """Send what is queued, then pass the role to the next waiter (or give it up)."""
        with self._lock:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
        try:
            _send(batch)
        finally:
            with self._lock:
                if self._queue:
                    successor = self._queue[0]
                    successor.lead = True
                else:
                    successor = None
                    self._leading = False
            for debit in batch:
                debit.done.set()
            if successor is not None:
                successor.done.set()


def _send(batch: list[Debit]) -> None:
    if len(batch) == 1:
        _send_one(batch[0])
        return
    try:
        with connection.cursor() as cur:
            cur.execute(BATCH_SQL, [list(column) for column in zip(*(d.params() for d in batch), strict=True)])
            rows = {idx: (after, reserved, top_up) for idx, after, reserved, top_up in cur.fetchall()}
    except Exception:  # noqa: BLE001 (the batch rolled back as a whole: each debit gets its own answer)
        for debit in batch:
            _send_one(debit)
        return
    for idx, debit in enumerate(batch, start=1):
        debit.row = rows.get(idx)


def _send_one(debit: Debit) -> None:
    try:
        with connection.cursor() as cur:
            cur.execute(SINGLE_SQL, debit.params())
            debit.row = cur.fetchone()
    except Exception as exc:  # noqa: BLE001 (re-raised in the debit's own thread)
        debit.error = exc


# Wallets are spread over lanes: debits of one wallet always meet in the same lane
# (where combining them pays most), while different wallets are written in parallel
# as before. Lanes hold disjoint wallets, so their batches never wait on each other.
# Few lanes made unrelated wallets queue behind each other (1,000 wallets at 4
# clients: 0.29 of the reference with 4 lanes, 0.42 without batching).
LANES = 64
_lanes = [DebitCombiner() for _ in range(LANES)]


def post(debit: Debit) -> Row | None:
    return _lanes[debit.account_id.int % LANES].post(debit)
