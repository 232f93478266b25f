"""The name index of cases: kept in step with each alias, and searched.

:func:`index_name` runs wherever a case's alias is written (opening a case,
editing "The person"), in the same transaction, so the index never lags.
:func:`reindex_all` rebuilds it (the migration that added it, and ``flask
intake reindex-names`` after the hash key changes).  :func:`name_matches` is
the subquery the case list joins: each matching case with how well it
matched, so that exact matches rank before phonetic ones.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, delete, distinct, func, insert, literal, select
from sqlalchemy.orm import Session

from advocacy.extensions import db
from advocacy.intake.models import Case, CaseNameKey
from advocacy.intake.names import keys_of, tokens

KEYS = CaseNameKey.__table__


def _rows(case_id: int, agency_id: int, alias: str) -> list[dict[str, Any]]:
    return [
        {"case_id": case_id, "agency_id": agency_id, "key_hash": key.key_hash, "phonetic": key.phonetic}
        for key in keys_of(alias, agency_id)
    ]


def index_name(case_file: Case) -> None:
    """Replace the case's index entries by those of its current alias (the case is flushed)."""
    db.session.execute(delete(CaseNameKey).where(CaseNameKey.case_id == case_file.id))
    rows = _rows(case_file.id, case_file.agency_id, case_file.alias or "")
    if rows:
        db.session.execute(insert(KEYS), rows)


def reindex_all(session: Session | None = None, batch_size: int = 500) -> int:
    """Rebuild every case's entries with the current hash key; returns the number of cases.

    Reads aliases a batch at a time, so that 100,000 cases never sit decrypted
    in memory together.  The caller commits.
    """
    session = session or db.session
    session.execute(delete(CaseNameKey))
    last_id, done = 0, 0
    while batch := session.execute(
        select(Case.id, Case.agency_id, Case.alias)
        .where(Case.id > last_id)
        .order_by(Case.id)
        .limit(batch_size)
    ).all():
        rows = [row for case_id, agency_id, alias in batch for row in _rows(case_id, agency_id, alias or "")]
        if rows:
            session.execute(insert(KEYS), rows)
        last_id = batch[-1][0]
        done += len(batch)
    return done


def name_matches(text: str, agency_ids: list[int]) -> Any:
    """(case_id, exact, hits) of the cases having each of ``text``'s tokens, as written or by sound.

    Every token of the query must match one of the name's ("Rosa" finds
    "Rosa M.", "Rosa Pérez" does not find "Rosa Lind").  ``exact`` counts the
    entries matched as written (after folding), ``hits`` every entry matched;
    ordering by both puts "Rosa" before "Roza".
    """
    words = tokens(text)
    token_of: dict[str, int] = {}
    for n, word in enumerate(words):
        for agency_id in agency_ids:
            for key in keys_of(word, agency_id):
                # A sound two words of the query share counts for the first one.
                token_of.setdefault(key.key_hash, n)
    if not token_of:
        token_of = {"-": 0}
    exact = func.sum(case((CaseNameKey.phonetic.is_(False), 1), else_=0))
    which = case(token_of, value=CaseNameKey.key_hash) if len(words) > 1 else literal(0)
    return (
        select(CaseNameKey.case_id, exact.label("exact"), func.count().label("hits"))
        .where(CaseNameKey.key_hash.in_(list(token_of)))
        .group_by(CaseNameKey.case_id)
        .having(func.count(distinct(which)) == max(1, len(words)))
        .subquery("name_match")
    )
