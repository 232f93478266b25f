"""Blind indexes for finding a case by any one of its person's names.

A name is stored only encrypted (:class:`~advocacy.types.EncryptedString`),
so it cannot be compared in SQL.  What the database holds instead, in
``case_name_key``, is for each token of the name:

* a keyed hash (HMAC-SHA256, :func:`~advocacy.types.lookup_hash`) of the
  token folded for case, diacritics and punctuation ("María-José" gives
  ``maria`` and ``jose``, "O'Brien" gives ``obrien``), so that "Rosa" finds
  "Rosa M." and "rosa maria" finds "Rosa María Pérez";
* a keyed hash of each of the token's Double Metaphone keys, so that "Roza"
  or "Aminah" find "Rosa" and "Amina".  Tokens of one letter (initials) get
  no phonetic key: one letter sounds like too many names.  Scripts Double
  Metaphone does not know (Arabic, say) get exact tokens only.

Each hash's purpose names the agency, so that one person's name in two
agencies gives two unrelated hashes: the index cannot link agencies' cases.
This module only computes keys; :mod:`advocacy.intake.service.names` stores
and searches them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from doublemetaphone import doublemetaphone

from advocacy.types import lookup_hash

#: At most this many tokens of a name are indexed, and of a query searched.
MAX_TOKENS = 12
_TOKEN = re.compile(r"[^\W_]+")
#: Joining marks inside a word, removed rather than splitting it ("O'Brien", "Ng·uyen").
_JOINERS = re.compile(r"['’ʼ`´·.]")


@dataclass(frozen=True)
class NameKey:
    key_hash: str
    phonetic: bool


def tokens(name: str) -> list[str]:
    """The name's distinct tokens, folded for case, width, diacritics and punctuation, in order."""
    decomposed = unicodedata.normalize("NFKD", name)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    folded = unicodedata.normalize("NFKC", stripped).casefold()
    # A joiner between letters joins ("o'brien"); elsewhere it is a separator.
    folded = re.sub(r"(?<=\w)" + _JOINERS.pattern + r"(?=\w)", "", folded)
    out: list[str] = []
    for token in _TOKEN.findall(folded):
        if token not in out:
            out.append(token)
    return out[:MAX_TOKENS]


def phonetic_keys(token: str) -> set[str]:
    """The token's Double Metaphone keys (primary and alternate), none for an initial."""
    if len(token) < 2:
        return set()
    return {key for key in doublemetaphone(token) if key}


def _token_purpose(agency_id: int) -> str:
    return f"case.name.token.{agency_id}"


def _phonetic_purpose(agency_id: int) -> str:
    return f"case.name.phonetic.{agency_id}"


def keys_of(name: str, agency_id: int) -> list[NameKey]:
    """The index rows of one case's name: one per token, one per distinct phonetic key."""
    found: dict[str, NameKey] = {}
    for token in tokens(name):
        exact = lookup_hash(token, _token_purpose(agency_id))
        found.setdefault(exact, NameKey(exact, False))
        for key in phonetic_keys(token):
            hashed = lookup_hash(key, _phonetic_purpose(agency_id))
            found.setdefault(hashed, NameKey(hashed, True))
    return list(found.values())


def query_keys(text: str, agency_ids: Iterable[int]) -> list[str]:
    """Every hash a query is looked up by, in each of the agencies it searches."""
    return sorted({key.key_hash for agency_id in agency_ids for key in keys_of(text, agency_id)})
