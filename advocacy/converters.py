"""Ids in URLs: whole numbers that fit the id columns, or no route at all.

Every id column is a 32-bit integer on PostgreSQL, so ``/cases/2147483648``
must be a 404, not a query that fails deep in the driver with a 500.  All
routes take ids as ``<id:name>``; an id past the range, zero or with a sign
does not match the route.
"""

from __future__ import annotations

from werkzeug.routing import BaseConverter, ValidationError

#: The largest value of a PostgreSQL ``integer`` (and so of every id column).
MAX_ID = 2**31 - 1


def valid_id(value: object) -> int | None:
    """``value`` as an id, or None when it is not one (for query strings and forms)."""
    text = str(value).strip() if value is not None else ""
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None


class IdConverter(BaseConverter):
    regex = r"[1-9][0-9]{0,9}"
    weight = 50

    def to_python(self, value: str) -> int:
        number = valid_id(value)
        if number is None:
            raise ValidationError()
        return number

    def to_url(self, value: object) -> str:
        return str(int(value))  # type: ignore[call-overload]
