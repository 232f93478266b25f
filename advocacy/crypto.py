"""Key rotation for :class:`~advocacy.types.EncryptedString` columns.

MultiFernet decrypts with any configured key and ``rotate`` re-encrypts with
the first, so rotation is: put the new key first, run ``flask keys rotate``,
then drop the old key.  Tokens are read and written raw (a plain ``Text``
view of the table), so no plaintext is ever materialized.
"""

from __future__ import annotations

from cryptography.fernet import MultiFernet
from flask import current_app
from sqlalchemy import Integer, Text, column, select, table, update

from advocacy.extensions import db
from advocacy.types import EncryptedString


def encrypted_columns() -> dict[str, list[str]]:
    import advocacy.models  # noqa: F401  (fills the metadata)

    found: dict[str, list[str]] = {}
    for tbl in db.metadata.sorted_tables:
        cols = [c.name for c in tbl.columns if isinstance(c.type, EncryptedString)]
        if cols:
            found[tbl.name] = cols
    return found


def rotate_all(batch_size: int = 500) -> dict[str, int]:
    fernet: MultiFernet = current_app.extensions["advocacy.fernet"]
    counts: dict[str, int] = {}
    for table_name, names in encrypted_columns().items():
        raw = table(table_name, column("id", Integer), *(column(n, Text) for n in names))
        last_id, done = 0, 0
        while rows := db.session.execute(
            select(raw).where(raw.c.id > last_id).order_by(raw.c.id).limit(batch_size)
        ).all():
            for row in rows:
                values = {
                    name: fernet.rotate(token.encode()).decode()
                    for name, token in zip(names, row[1:], strict=True)
                    if token is not None
                }
                if values:
                    db.session.execute(update(raw).where(raw.c.id == row[0]).values(**values))
                last_id = row[0]
                done += 1
            db.session.commit()
        counts[table_name] = done
    return counts
