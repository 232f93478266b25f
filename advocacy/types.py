"""Column types shared by every domain.

``EncryptedString`` is the only way a personal field is stored: the value is
encrypted with MultiFernet (AES-128-CBC + HMAC, random IV, so two equal
plaintexts never give equal ciphertexts) before it reaches the database.
Equality lookups (find a case by phone number) use a separate keyed-hash
column from :func:`lookup_hash`, so the ciphertext never has to be
deterministic.  ``UTCDateTime`` keeps datetimes timezone-aware on SQLite too.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from cryptography.fernet import InvalidToken, MultiFernet
from flask import current_app, has_request_context, request
from sqlalchemy import DateTime, String, Text, type_coerce
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every engine; naive input is refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:  # SQLite drops the offset; we only ever store UTC
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _fernet() -> MultiFernet:
    return current_app.extensions["advocacy.fernet"]


def decrypt_token(token: str) -> str:
    """A stored token's plaintext (what an EncryptedString column gives when read).

    Within a request each token is decrypted once: a list of fifty cases of
    three advocates names each advocate in every row, and a Fernet decryption
    is most of what reading a row costs.  The plaintexts are kept in the
    request's own WSGI environ, which ends with it (not on ``g``: a worker keeps
    one app context, and ``g`` with it, for hours, opening short request
    contexts inside it to render texts); outside a request nothing is kept.
    """
    memo = _request_plaintexts()
    known = memo.get(token)
    if known is None:
        known = memo[token] = _decrypt(token)
    return known


def _decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        # Never include the token or the value: only say which key set failed.
        raise RuntimeError("a stored value cannot be decrypted with the configured keys") from exc


def _request_plaintexts() -> dict[str, str]:
    """This request's plaintexts; outside a request a fresh dict that nothing keeps."""
    return request.environ.setdefault(_PLAINTEXTS, {}) if has_request_context() else {}


#: Where a request keeps the plaintexts it decrypted (:func:`decrypt_token`).
_PLAINTEXTS = "advocacy_plaintexts"


def stored_token(column: Any) -> Any:
    """``column`` (an EncryptedString) as stored, its token undecrypted, for a list that
    decrypts its rows' values together (:func:`decrypt_tokens`)."""
    return type_coerce(column, Text)


def decrypt_tokens(tokens: Iterable[str | None]) -> dict[str, str]:
    """The plaintext of each token (None left out), as :func:`decrypt_token` gives it.

    For a list of rows (fifty cases, their owners): the request's plaintexts are
    looked up once for all of them, not once per value through the column type.
    """
    memo = _request_plaintexts()
    plain: dict[str, str] = {}
    for token in tokens:
        if token is None or token in plain:
            continue
        known = memo.get(token)
        if known is None:
            known = memo[token] = _decrypt(token)
        plain[token] = known
    return plain


class EncryptedString(TypeDecorator[str]):
    """A text column whose value is stored as a Fernet token.

    Keys come from ``ADVOCACY_ENCRYPTION_KEYS`` (newest first); ``flask keys
    rotate`` re-encrypts every such column with the newest key.
    """

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return _fernet().encrypt(value.encode("utf-8")).decode("ascii")

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return decrypt_token(value)


def normalize_for_lookup(value: str) -> str:
    """Case, width and space differences must not defeat an equality lookup."""
    return " ".join(unicodedata.normalize("NFKC", value).casefold().split())


def lookup_hash(value: str, purpose: str) -> str:
    """Keyed hash (HMAC-SHA256) of a normalized value, separated by purpose.

    Without the key the hash cannot be reversed by guessing phone numbers, and
    two purposes never share a hash for the same value.
    """
    key = current_app.config["SETTINGS"].hash_key.encode("utf-8")
    message = f"{purpose}\x00{normalize_for_lookup(value)}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def lookup_hash_column(**kwargs: Any) -> Any:
    """A nullable, indexed column for :func:`lookup_hash` values."""
    return mapped_column(String(64), index=True, nullable=True, **kwargs)
