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

from sqlalchemy import and_, case, delete, distinct, func, insert, literal, select
from sqlalchemy.orm import Session, aliased

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

    With several tokens the cases having all of them are found first, one
    self-join per token on the ``(key_hash, case_id)`` index: the planner starts
    from the token its statistics say is rarest, so "Mai Lind 098112" reads the
    handful of cases with the rare token instead of grouping the tens of
    thousands of entries that a common first name and its sound have.
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
    stmt = select(CaseNameKey.case_id, exact.label("exact"), func.count().label("hits")).where(
        CaseNameKey.key_hash.in_(list(token_of))
    )
    if len(words) > 1:
        per_token = [aliased(CaseNameKey, name=f"token_{n}") for n in range(len(words))]
        first = per_token[0]
        having_all = select(first.case_id).where(first.key_hash.in_(_keys_of_token(token_of, 0)))
        for n, other in enumerate(per_token[1:], start=1):
            having_all = having_all.join(
                other, and_(other.case_id == first.case_id, other.key_hash.in_(_keys_of_token(token_of, n)))
            )
        stmt = stmt.where(CaseNameKey.case_id.in_(having_all))
    # Redundant after the joins, but kept: without it the planner expects every group to
    # survive and reads a one-token search's thousands of cases by a scan of the table.
    which = case(token_of, value=CaseNameKey.key_hash) if len(words) > 1 else literal(0)
    return (
        stmt.group_by(CaseNameKey.case_id)
        .having(func.count(distinct(which)) == max(1, len(words)))
        .subquery("name_match")
    )


def _keys_of_token(token_of: dict[str, int], n: int) -> list[str]:
    """The hashes counted for the query's ``n``-th token (none: a later word whose every key an earlier one took)."""
    return [key_hash for key_hash, token in token_of.items() if token == n] or ["-"]
