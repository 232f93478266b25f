"""Verifying the audit chains and the availability history, and anchoring them.

A hash chain shows an edited, inserted or removed entry, but not a cut-off
tail: the shorter chain is just as consistent.  So every verification ends by
signing, for each chain, a checkpoint (its length and head hash, HMAC with
the hash key) into :class:`AuditCheckpoint` and into the structured log, and
the next verification compares the chain with the newest intact checkpoint.
An operator who keeps the log lines elsewhere can give the head they expect
(``--expect-head``) so that even deleting the checkpoints does not help.

Chains:

* ``audit:<agency id>`` (``audit:0`` for events without an agency): entries
  in ``seq`` order, each with its own hash.
* ``audit:legacy``: entries written before chains were per agency, in id order.
* ``availability:<agency id>``: the bed history has no hash per row; its
  checkpoint holds a running HMAC over the agency's rows in id order, so a
  changed, removed or added row before a checkpoint, and a cut-off tail, show
  at the next verification.
"""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text

from advocacy import clock
from advocacy.audit.models import AuditChain, AuditCheckpoint, AuditEvent
from advocacy.audit.service import GENESIS, _digest, mac
from advocacy.extensions import db, is_postgresql

log = logging.getLogger("advocacy.audit")

LEGACY = "audit:legacy"
EXPECT_HEAD = re.compile(r"(?P<chain>[a-z]+:[a-z0-9]+)/(?P<length>[0-9]{1,10})/(?P<head>[0-9a-f]{64})")


@dataclass(frozen=True)
class Expected:
    """A head an operator kept outside the database: the chain had ``length`` entries ending in ``head``."""

    chain: str
    length: int
    head: str

    @classmethod
    def parse(cls, value: str) -> Expected:
        match = EXPECT_HEAD.fullmatch(value)
        if match is None:
            raise ValueError(f"not CHAIN/LENGTH/HEAD: {value!r}")
        return cls(match["chain"], int(match["length"]), match["head"])

    def token(self) -> str:
        return f"{self.chain}/{self.length}/{self.head}"


@dataclass(frozen=True)
class ChainReport:
    """One chain's verification.

    ``first_bad_id`` is the first entry that does not verify; ``missing`` how
    many entries a checkpoint (or an expected head) knew of that are gone.
    """

    chain: str
    ok: bool
    checked: int
    head: str = GENESIS
    last_id: int | None = None
    first_bad_id: int | None = None
    missing: int = 0
    problem: str = ""

    def token(self) -> str:
        return Expected(self.chain, self.checked, self.head).token()


@dataclass(frozen=True)
class Verification:
    chains: list[ChainReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.chains)

    @property
    def checked(self) -> int:
        return sum(c.checked for c in self.chains)

    @property
    def first_bad_id(self) -> int | None:
        return next((c.first_bad_id for c in self.chains if not c.ok and c.first_bad_id), None)

    def chain(self, name: str) -> ChainReport | None:
        return next((c for c in self.chains if c.chain == name), None)


def checkpoint_signature(cp: Any) -> str:
    return mac(
        "checkpoint",
        cp.chain,
        int(bool(cp.ok)),
        cp.length,
        cp.last_id,
        cp.head,
        cp.first_bad,
        cp.missing,
        cp.created_at.replace(microsecond=0).isoformat(),
    )


def _anchor(chain: str) -> AuditCheckpoint | None:
    return db.session.scalar(
        select(AuditCheckpoint)
        .where(AuditCheckpoint.chain == chain, AuditCheckpoint.ok.is_(True))
        .order_by(AuditCheckpoint.id.desc())
        .limit(1)
    )


# -- walking the chains ---------------------------------------------------


@dataclass
class _Walk:
    """The state of a walk: entries verified so far and the hash after each anchored position."""

    chain: str
    checked: int = 0
    head: str = GENESIS
    last_id: int | None = None
    marks: dict[int, tuple[str, int]] = field(default_factory=dict)  # length -> (head, last id)
    first_bad_id: int | None = None
    problem: str = ""

    def step(self, entry_id: int, new_head: str, watch: set[int]) -> None:
        self.checked += 1
        self.head = new_head
        self.last_id = entry_id
        if self.checked in watch:
            self.marks[self.checked] = (new_head, entry_id)

    def fail(self, entry_id: int | None, problem: str) -> None:
        self.first_bad_id = entry_id
        self.problem = problem


def _batches(query: Any, key: Any, batch_size: int) -> Iterator[Sequence[Any]]:
    last = None
    while True:
        q = query if last is None else query.where(key > last)
        rows = db.session.execute(q.order_by(key).limit(batch_size)).all()
        if not rows:
            return
        yield rows
        last = getattr(rows[-1], key.key)


_EVENT_COLUMNS = [getattr(AuditEvent, c.key) for c in AuditEvent.__table__.columns]


def _walk_audit(chain_id: int | None, watch: set[int], batch_size: int) -> _Walk:
    """Entries of one per-agency chain in ``seq`` order (``chain_id`` None: the legacy chain, by id)."""
    if chain_id is None:
        walk = _Walk(LEGACY)
        query, key = select(*_EVENT_COLUMNS).where(AuditEvent.seq.is_(None)), AuditEvent.id
    else:
        walk = _Walk(f"audit:{chain_id}")
        query = select(*_EVENT_COLUMNS).where(AuditEvent.chain_id == chain_id, AuditEvent.seq.is_not(None))
        key = AuditEvent.seq
    for rows in _batches(query, key, batch_size):
        for event in rows:
            if chain_id is not None and event.seq != walk.checked + 1:
                walk.fail(event.id, f"entry {walk.checked + 1} is missing")
                return walk
            if event.prev_hash != walk.head or not hmac.compare_digest(
                event.entry_hash, _digest(walk.head, event)
            ):
                walk.fail(event.id, "entry changed or out of place")
                return walk
            walk.step(event.id, event.entry_hash, watch)
    return walk


def _availability_bound() -> int:
    """The highest availability event id below which every row is committed.

    On PostgreSQL a row with a lower id may still be in flight when a higher
    one commits; a SHARE lock waits for every writer that holds one.  It is
    released at once (the walk itself takes no lock).
    """
    from advocacy.shelters.models import AvailabilityEvent

    with db.engine.begin() as conn:
        if is_postgresql():
            conn.execute(text("SET LOCAL lock_timeout = '10s'"))
            conn.execute(text("LOCK TABLE availability_event IN SHARE MODE"))
        return conn.scalar(select(func.coalesce(func.max(AvailabilityEvent.id), 0))) or 0


def _walk_availability(agency_id: int, bound: int, watch: set[int], batch_size: int) -> _Walk:
    from advocacy.shelters.models import AvailabilityEvent as A

    walk = _Walk(f"availability:{agency_id}")
    columns = [getattr(A, c.key) for c in A.__table__.columns]
    query = select(*columns).where(A.agency_id == agency_id, A.id <= bound)
    for rows in _batches(query, A.id, batch_size):
        for row in rows:
            fields = [
                row.id,
                row.occurred_at.isoformat(),
                row.shelter_id,
                row.bed_id,
                row.actor_id,
                row.action,
            ]
            fields += [row.from_state, row.to_state, row.hold_id, row.stay_id, row.reason]
            walk.step(row.id, mac(walk.head, *fields), watch)
    return walk


def _judge(walk: _Walk, anchors: list[Expected], recorded_length: int | None) -> ChainReport:
    """Compare a walk with what is known from outside it: checkpoints, expected heads, the head row."""
    report = dict(chain=walk.chain, checked=walk.checked, head=walk.head, last_id=walk.last_id)
    if walk.problem:
        return ChainReport(ok=False, first_bad_id=walk.first_bad_id, problem=walk.problem, **report)
    for anchor in anchors:
        if anchor.length == 0:
            continue
        if walk.checked < anchor.length:
            missing = anchor.length - walk.checked
            return ChainReport(
                ok=False, missing=missing, problem=f"{missing} entries missing at the end", **report
            )
        head, last_id = walk.marks[anchor.length]
        if not hmac.compare_digest(head, anchor.head):
            return ChainReport(
                ok=False,
                first_bad_id=last_id,
                problem=f"the first {anchor.length} entries changed since they were anchored",
                **report,
            )
    if recorded_length is not None and walk.checked < recorded_length:
        missing = recorded_length - walk.checked
        return ChainReport(
            ok=False, missing=missing, problem=f"{missing} entries missing at the end", **report
        )
    return ChainReport(ok=True, **report)


def _anchors_for(chain: str, expected: Iterable[Expected]) -> tuple[list[Expected], str]:
    """The newest intact checkpoint (if its signature holds) and the operator's expected heads."""
    anchors = [e for e in expected if e.chain == chain]
    cp = _anchor(chain)
    if cp is not None:
        if not hmac.compare_digest(cp.signature, checkpoint_signature(cp)):
            return anchors, f"checkpoint {cp.id} is not signed with this deployment's key"
        anchors.append(Expected(chain, cp.length, cp.head))
    return anchors, ""


def verify_chains(expected: Iterable[Expected] = (), batch_size: int = 1000) -> Verification:
    """Walk every chain and compare each with its newest checkpoint and any expected head."""
    from advocacy.shelters.models import AvailabilityEvent

    expected = list(expected)
    checkpointed = set(db.session.scalars(select(AuditCheckpoint.chain).distinct()))
    named = {e.chain for e in expected}
    heads = dict(db.session.execute(select(AuditChain.chain_id, AuditChain.length)).tuples().all())
    audit_ids = set(heads) | set(
        db.session.scalars(select(AuditEvent.chain_id).where(AuditEvent.seq.is_not(None)).distinct())
    )
    audit_ids |= {int(n.split(":")[1]) for n in checkpointed | named if re.fullmatch(r"audit:[0-9]+", n)}
    bound = _availability_bound()
    availability_ids = set(db.session.scalars(select(AvailabilityEvent.agency_id).distinct()))
    availability_ids |= {
        int(n.split(":")[1]) for n in checkpointed | named if re.fullmatch(r"availability:[0-9]+", n)
    }
    has_legacy = (
        LEGACY in checkpointed | named
        or db.session.scalar(select(AuditEvent.id).where(AuditEvent.seq.is_(None)).limit(1)) is not None
    )

    reports: list[ChainReport] = []

    def run(chain: str, walker: Any, recorded: int | None = None) -> None:
        anchors, forged = _anchors_for(chain, expected)
        walk = walker({a.length for a in anchors})
        if forged:
            reports.append(ChainReport(chain, False, walk.checked, walk.head, walk.last_id, problem=forged))
        else:
            reports.append(_judge(walk, anchors, recorded))

    if has_legacy:
        run(LEGACY, lambda watch: _walk_audit(None, watch, batch_size))
    for chain_id in sorted(audit_ids):
        run(
            f"audit:{chain_id}",
            lambda watch, c=chain_id: _walk_audit(c, watch, batch_size),
            heads.get(chain_id),
        )
    for agency_id in sorted(availability_ids):
        run(
            f"availability:{agency_id}",
            lambda watch, a=agency_id: _walk_availability(a, bound, watch, batch_size),
        )
    return Verification(reports)


def verify_chain(batch_size: int = 1000) -> Verification:
    """Every chain, compared with its checkpoints (nothing written)."""
    return verify_chains(batch_size=batch_size)


def write_checkpoints(verification: Verification, now: datetime | None = None) -> list[AuditCheckpoint]:
    """Sign each chain's result into the checkpoint table and the structured log (flushed, not committed).

    An intact chain's row is the next anchor; a broken chain's row records the
    failure (for the audit page) and never anchors.
    """
    now = (now or clock.now()).replace(microsecond=0)
    written = []
    for report in verification.chains:
        cp = AuditCheckpoint(
            created_at=now,
            chain=report.chain,
            ok=report.ok,
            length=report.checked,
            last_id=report.last_id,
            head=report.head,
            first_bad=report.first_bad_id,
            missing=report.missing or None,
        )
        cp.signature = checkpoint_signature(cp)
        db.session.add(cp)
        written.append(cp)
        log.info(
            "audit checkpoint",
            extra={
                "chain": report.chain,
                "ok": report.ok,
                "length": report.checked,
                "head": report.head,
                "expect_head": report.token(),
                "signature": cp.signature,
                "missing": report.missing,
                "first_bad_id": report.first_bad_id,
            },
        )
    db.session.flush()
    return written


@dataclass(frozen=True)
class AgencyAuditStatus:
    """What an agency's admin sees: their own chain's length and the last verification of it."""

    entries: int
    last_check: AuditCheckpoint | None


def agency_audit_status(agency_id: int) -> AgencyAuditStatus:
    length = db.session.scalar(select(AuditChain.length).where(AuditChain.chain_id == agency_id)) or 0
    last = db.session.scalar(
        select(AuditCheckpoint)
        .where(AuditCheckpoint.chain == f"audit:{agency_id}")
        .order_by(AuditCheckpoint.id.desc())
        .limit(1)
    )
    return AgencyAuditStatus(length, last)
