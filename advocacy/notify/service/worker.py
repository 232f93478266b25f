"""The worker: claims due rows, sends them, records what happened.

Any number of workers, in any number of processes on any number of machines,
share the outbox table and nothing else:

1. **Claim** (:mod:`advocacy.notify.service.claim`, one short
   transaction): due ``queued`` rows, oldest first, ``FOR UPDATE SKIP
   LOCKED`` on PostgreSQL (two workers never wait for or
   take the same row); on SQLite the conditional UPDATE of a single write
   transaction.  Each row becomes ``claimed`` by a token unique to this
   batch, with a lease, and its attempt is counted.  Rows past their
   ``valid_until`` fail instead ("Call the victim").  Committed **before**
   Twilio is called.
   The same transaction reads and renders what each send needs (a row
   whose subscription stopped is cancelled there).
2. **Send**, outside any transaction: as sending threads come free, slots
   for that many texts are reserved in the sender's rate in one update
   (:mod:`advocacy.notify.service.rate`, shared by every worker), and each
   thread makes one API call at its slot, with the status callback URL and
   a ValidityPeriod ending at ``valid_until``.  A send that would leave too
   late for its slot reserves another instead (nothing was sent).
3. **Record** (one short transaction for all the answers that came back
   meanwhile): each row only if it is still this batch's claim (or became
   ``unknown`` when the lease ran out): the SID, or the error path of
   :mod:`advocacy.notify.service.outcomes`
   (:mod:`advocacy.notify.service.record`).

On a crash: before 1 commits, nothing happened; between 1 and the API call,
the row stays ``claimed`` until its lease ends, then becomes ``unknown``;
between the call and 3, the same, and the reconciler
(:mod:`advocacy.notify.service.reconcile`) finds the message in
Twilio's Messages list (``sent``) or not (queued again: Twilio does not have
it).  A row is never sent twice because only a row Twilio provably lacks is
queued again.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import Flask, url_for

from advocacy import clock
from advocacy.extensions import db
from advocacy.notify.service.claim import DEFAULT_LEASE, Prepared, claim_and_prepare, recheck_stale
from advocacy.notify.service.rate import SLOT_LEAD, late_tolerance, reserve_slots
from advocacy.notify.service.record import record_results
from advocacy.notify.transport import Outcome, Sender, SendResult, SlotMissed, TwilioSender

log = logging.getLogger(__name__)


@dataclass
class Stats:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    unknown: int = 0
    reconciled: int = 0
    #: Sends that woke too late for their slot and reserved another.
    rereserved: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


class Worker:
    """One claim loop with ``threads`` sending threads.

    ``make_sender`` is called in each thread that sends (a Twilio client is
    not thread-safe: one per thread).  With one thread, sends happen in the
    loop's own thread, one after another.  With more, each batch is sent by
    the pool: as threads come free, slots for that many texts are reserved
    in one update and handed out, and the answers that have come back are
    recorded together in one transaction.  A slow Twilio needs
    ``threads >= rate x latency`` and some spare (100/s at 150 ms: 15, so 24).
    """

    def __init__(
        self,
        app: Flask,
        make_sender: Callable[[], Sender],
        *,
        name: str = "worker",
        batch_size: int = 20,
        lease: timedelta = DEFAULT_LEASE,
        simulate_delivery: bool = False,
        threads: int = 1,
    ) -> None:
        self.app = app
        self.make_sender = make_sender
        self.name = name
        self.batch_size = batch_size
        self.lease = lease
        self.simulate_delivery = simulate_delivery
        self.threads = max(1, threads)
        self.stats = Stats()
        self._local = threading.local()
        self._pool: ThreadPoolExecutor | None = None
        self._recorder: threading.Thread | None = None
        self._free = threading.Semaphore(self.threads)
        self._answers: queue.SimpleQueue[tuple[Prepared, SendResult | None, int] | None] = queue.SimpleQueue()

    @property
    def sender(self) -> Sender:
        """This thread's sender."""
        sender = getattr(self._local, "sender", None)
        if sender is None:
            sender = self._local.sender = self.make_sender()
        return sender

    def status_callback_url(self) -> str:
        base = self.app.config["SETTINGS"].public_base_url
        with self.app.test_request_context():
            return base.rstrip("/") + url_for("notify.twilio_status")

    def _pool_thread_start(self) -> None:
        # The app's context for the whole life of the thread: its clock, and
        # a session of its own for a re-reservation.
        self.app.app_context().push()

    def _start_pool(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._free = threading.Semaphore(self.threads)
            self._answers = queue.SimpleQueue()
            self._recorder = threading.Thread(
                target=self._record_loop, name=f"{self.name}:record", daemon=True
            )
            self._recorder.start()
            self._pool = ThreadPoolExecutor(
                max_workers=self.threads, thread_name_prefix=self.name, initializer=self._pool_thread_start
            )
        return self._pool

    def close(self) -> None:
        """Wait for the texts in flight and their answers to be recorded, then
        stop the sending threads and the recorder."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._answers.put(None)
            if self._recorder is not None:
                self._recorder.join()
            self._pool = None
            self._recorder = None

    def run_batch(self) -> int:
        """Claim one batch and send it; how many rows were claimed.  With more
        than one thread it returns once every text of the batch is handed to
        a thread (so the next claim overlaps the last sends); :meth:`close`
        waits for them."""
        with self.app.app_context():
            items = claim_and_prepare(self.name, self.batch_size, self.lease)
            self.stats.claimed += len(items)
            if items:
                callback = self.status_callback_url()
                if self.threads == 1:
                    self._send_in_turn(items, callback)
                else:
                    self._send_in_pool(items, callback)
            db.session.remove()
        return len(items)

    def _count(self, result: SendResult | None, late: int) -> None:
        self.stats.rereserved += late
        if result is None:
            return
        self.stats.outcomes[result.outcome.value] = self.stats.outcomes.get(result.outcome.value, 0) + 1
        if result.outcome is Outcome.SENT:
            self.stats.sent += 1
        elif result.outcome.retry:
            self.stats.retried += 1
        elif result.outcome is Outcome.UNKNOWN:
            self.stats.unknown += 1
        else:
            self.stats.failed += 1

    def _send_in_turn(self, items: list[Prepared], callback: str) -> None:
        for each in items:
            fresh = recheck_stale([each])
            if not fresh:
                continue
            item = fresh[0]
            slot = reserve_slots(item.key, [item.cost])[0]
            result, late = self._paced_send(item, slot, callback)
            self._count(result, late)
            record_results([(item, result)], simulate_delivery=self.simulate_delivery)

    def _reserve(self, chunk: list[Prepared]) -> list[float]:
        """Slots for ``chunk``, one update per sender (usually one)."""
        by_key: dict[str, list[int]] = defaultdict(list)
        for index, item in enumerate(chunk):
            by_key[item.key].append(index)
        slots = [0.0] * len(chunk)
        for key, indexes in by_key.items():
            for index, slot in zip(
                indexes, reserve_slots(key, [chunk[i].cost for i in indexes]), strict=True
            ):
                slots[index] = slot
        return slots

    def _send_in_pool(self, items: list[Prepared], callback: str) -> None:
        """Hand the texts to threads as they come free: for every group of
        free threads, one update reserves their slots."""
        pool = self._start_pool()
        pending = deque(items)
        while pending:
            self._free.acquire()
            taken = 1
            while taken < len(pending) and self._free.acquire(blocking=False):
                taken += 1
            chunk = [pending.popleft() for _ in range(taken)]
            try:
                wanted = recheck_stale(chunk)
                for _ in range(taken - len(wanted)):
                    self._free.release()
                taken, chunk = len(wanted), wanted
                slots = self._reserve(chunk) if chunk else []
            except BaseException:
                for _ in range(taken):
                    self._free.release()
                raise  # the rows stay claimed: unknown after the lease, then reconciled
            for item, slot in zip(chunk, slots, strict=True):
                pool.submit(self._send_one, item, slot, callback)

    def _send_one(self, item: Prepared, slot: float, callback: str) -> None:
        result: SendResult | None = None
        late = 0
        try:
            result, late = self._paced_send(item, slot, callback)
        except Exception:  # the row stays claimed: unknown after the lease, then reconciled
            log.exception("sms send failed", extra={"action": "sms.send_error"})
        finally:
            self._free.release()
            self._answers.put((item, result, late))

    def _record_loop(self) -> None:
        """The recorder: every answer that has come back, in one transaction."""
        with self.app.app_context():
            stopping = False
            while not stopping:
                came = [self._answers.get()]
                while True:
                    try:
                        came.append(self._answers.get_nowait())
                    except queue.Empty:
                        break
                done: list[tuple[Prepared, SendResult]] = []
                for answer in came:
                    if answer is None:
                        stopping = True
                        continue
                    item, result, late = answer
                    self._count(result, late)
                    if result is not None:
                        done.append((item, result))
                try:
                    record_results(done, simulate_delivery=self.simulate_delivery)
                except Exception:
                    log.exception("sms record failed", extra={"action": "sms.record_error"})
            db.session.remove()

    def _paced_send(self, item: Prepared, slot: float, callback: str) -> tuple[SendResult, int]:
        """Wait for ``slot``, then send; a send that would start later than the
        tolerance reserves a new slot instead (so late sends never bunch).
        Through Twilio the check is made again just before the request leaves
        (:class:`~advocacy.notify.transport.SlotMissed`).  Returns the answer
        and how many times a slot was missed."""
        tolerance = late_tolerance(item.rate)
        missed = 0
        sender = self.sender
        while True:
            wait = slot - clock.wall_seconds()
            if wait > 0:
                time.sleep(wait)
            if clock.wall_seconds() - slot <= tolerance:
                extra: dict[str, Any] = (
                    {"not_after": slot + tolerance} if isinstance(sender, TwilioSender) else {}
                )
                try:
                    result = sender.send(
                        item.to,
                        item.body,
                        status_callback=callback,
                        validity_seconds=item.validity,
                        messaging_service_sid=item.messaging_service_sid,
                        from_number=item.from_number,
                        **extra,
                    )
                except SlotMissed:
                    pass  # nothing left: wait for a new slot
                else:
                    return result, missed
            missed += 1
            # A busy machine may need longer than the lead to commit and hand
            # out a slot: each miss doubles it (up to a second).
            slot = reserve_slots(item.key, [item.cost], lead=min(SLOT_LEAD * 2**missed, 1.0))[0]

    def run_until_idle(self, max_batches: int = 10_000) -> Stats:
        """Send everything due now (``--once``)."""
        try:
            for _i in range(max_batches):
                if not self.run_batch():
                    break
        finally:
            self.close()
        return self.stats


def run_workers(workers: list[Worker]) -> list[Stats]:
    """Run several workers in threads until nothing is due; their stats."""
    threads = [threading.Thread(target=w.run_until_idle, name=w.name) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [w.stats for w in workers]
