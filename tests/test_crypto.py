"""Personal data is encrypted at rest, found by keyed hash, and survives key rotation.

Whoever walks away with the database file (or a backup of it) reads no alias,
name, phone number, shelter address or TOTP key.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy import MetaData, Table, Text, cast, select, text
from sqlalchemy import column as sql_column
from sqlalchemy import table as sql_table
from sqlalchemy.engine import make_url

from advocacy import create_app
from advocacy.auth.models import Role, User
from advocacy.auth.service import create_user
from advocacy.crypto import encrypted_columns
from advocacy.extensions import db
from advocacy.intake.models import Case
from advocacy.intake.service import PHONE_PURPOSE, open_case
from advocacy.shelters.models import Shelter
from advocacy.shelters.service import add_shelter
from advocacy.types import decrypt_token, decrypt_tokens, lookup_hash, normalize_for_lookup, stored_token
from tests.factories import system
from tests.helpers import PASSWORD, CSRFClient, login, make_agency, text_of

ALIAS = "Rosalind Okonkwo-Vega"
PHONE = "+1 612 555 0147"
DISPLAY_NAME = "Marisol Quintanilla-Haye"
SHELTER = "Cedar Hollow Safe House"
ADDRESS = "4417 Larkspur Avenue"


@pytest.fixture
def records(app: Flask) -> dict[str, Any]:
    agency = make_agency()
    user = create_user(
        system(agency), "quill-advocate", DISPLAY_NAME, PASSWORD, [(agency, Role.ADVOCATE)], enrol_totp=True
    )
    case = open_case(system(agency.id), agency.id, user.id, ALIAS, phone=PHONE)
    shelter = add_shelter(system(agency.id), agency.id, SHELTER, "Shelter Q1", "North metro", address=ADDRESS)
    db.session.commit()
    return {
        "agency": agency,
        "user": user,
        "case": case,
        "shelter": shelter,
        "totp_secret": user.totp_secret,
        "ids": (user.id, case.id, shelter.id),
    }


def plaintexts(records: dict[str, Any]) -> list[str]:
    return [ALIAS, PHONE, "6125550147", DISPLAY_NAME, SHELTER, ADDRESS, records["totp_secret"]]


def raw_dump() -> str:
    """Everything the database holds, the way a thief with the file or a login sees it."""
    url = make_url(str(db.engine.url))
    if url.get_backend_name() == "sqlite":
        db.session.remove()
        db.engine.dispose()
        path = Path(url.database or "")
        files = [p for p in path.parent.glob(path.name + "*") if p.is_file()]
        assert path in files
        raw = b"".join(p.read_bytes() for p in files).decode("latin-1")
        with sqlite3.connect(path) as conn:
            dumped = "\n".join(conn.iterdump())
        return raw + "\n" + dumped
    tables = db.session.scalars(
        text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    ).all()
    assert "case_file" in tables
    lines = []
    for name in tables:
        reflected = Table(name, MetaData(), autoload_with=db.session.connection())
        every_column_as_text = select(*(cast(c, Text) for c in reflected.c))
        lines += [" ".join(map(str, row)) for row in db.session.execute(every_column_as_text)]
    return "\n".join(lines)


def test_a_raw_dump_holds_no_plaintext_personal_data(records: dict[str, Any]) -> None:
    dump = raw_dump()
    assert "quill-advocate" in dump  # the dump is real: the (non-personal) login name is there
    assert "Shelter Q1" in dump
    for value in plaintexts(records):
        assert value not in dump, value
        assert value.lower() not in dump.lower(), value


def test_personal_columns_hold_fernet_tokens(records: dict[str, Any]) -> None:
    found = encrypted_columns()
    assert {"alias", "phone"} <= set(found["case_file"])
    assert {"name", "address"} <= set(found["shelter"])
    assert {"display_name", "totp_secret"} <= set(found["user_account"])
    for table, columns in found.items():
        for column in columns:
            for value in db.session.scalars(select(sql_column(column)).select_from(sql_table(table))):
                if value is not None:
                    assert value.startswith("gAAAAA"), (table, column)


def test_the_same_alias_twice_gives_two_different_ciphertexts(records: dict[str, Any]) -> None:
    agency, user = records["agency"], records["user"]
    twin = open_case(system(agency.id), agency.id, user.id, ALIAS)
    db.session.commit()
    stored = db.session.scalars(
        text("SELECT alias FROM case_file WHERE id IN (:a, :b)"), {"a": records["case"].id, "b": twin.id}
    ).all()
    assert len(set(stored)) == 2


def test_the_orm_reads_back_the_plaintext(records: dict[str, Any]) -> None:
    db.session.expire_all()
    user_id, case_id, shelter_id = records["ids"]
    case = db.session.get(Case, case_id)
    shelter = db.session.get(Shelter, shelter_id)
    user = db.session.get(User, user_id)
    assert case is not None and shelter is not None and user is not None
    assert (case.alias, case.phone) == (ALIAS, PHONE)
    assert (shelter.name, shelter.address) == (SHELTER, ADDRESS)
    assert user.display_name == DISPLAY_NAME


def test_a_list_reads_its_tokens_and_decrypts_them_together(app: Flask, records: dict[str, Any]) -> None:
    """``stored_token`` leaves a column's token as stored; ``decrypt_tokens`` gives each
    token's plaintext once (a repeated token, a missing value), keeping them for the request."""
    _user_id, case_id, _shelter_id = records["ids"]
    row = db.session.execute(
        select(stored_token(Case.alias), stored_token(Case.code_word), stored_token(User.display_name))
        .join(User, User.id == Case.owner_id)
        .where(Case.id == case_id)
    ).one()
    assert row[0].startswith("gAAAAA") and row[1] is None and row[2].startswith("gAAAAA")
    with app.test_request_context("/"):
        plain = decrypt_tokens([row[0], row[1], row[2], row[0]])
        assert plain == {row[0]: ALIAS, row[2]: DISPLAY_NAME}
        assert decrypt_token(row[0]) == ALIAS
    with pytest.raises(RuntimeError, match="cannot be decrypted"):
        decrypt_tokens([Fernet(Fernet.generate_key()).encrypt(b"x").decode()])


# --- keyed-hash lookup ------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", [PHONE, " +1 612  555 0147 ", "\uff0b\uff11 612 555 0147"])
def test_a_case_is_found_by_its_phone_number_through_the_keyed_hash(
    records: dict[str, Any], typed: str
) -> None:
    found = db.session.scalars(select(Case).where(Case.phone_hash == lookup_hash(typed, PHONE_PURPOSE))).all()
    assert [c.id for c in found] == [records["case"].id]


def test_another_phone_number_finds_nothing(records: dict[str, Any]) -> None:
    other = lookup_hash("+1 612 555 0148", PHONE_PURPOSE)
    assert db.session.scalar(select(Case).where(Case.phone_hash == other)) is None


def test_the_lookup_hash_is_keyed_and_separated_by_purpose(records: dict[str, Any]) -> None:
    stored = db.session.scalar(text("SELECT phone_hash FROM case_file"))
    normalized = normalize_for_lookup(PHONE)
    # A thief cannot confirm a guessed number without the key...
    assert stored != hashlib.sha256(normalized.encode()).hexdigest()
    assert stored != hashlib.sha256(f"{PHONE_PURPOSE}\x00{normalized}".encode()).hexdigest()
    # ...and a hash made for another purpose does not match.
    assert stored != lookup_hash(PHONE, "subscriber.phone")
    assert stored == lookup_hash(PHONE, PHONE_PURPOSE)


# --- key rotation -----------------------------------------------------------------------------------


@contextmanager
def app_with_keys(app: Flask, *keys: str) -> Iterator[Flask]:
    """Another process on the same database, started with these encryption keys."""
    other = create_app(replace(app.config["SETTINGS"], encryption_keys=tuple(keys)))
    other.test_client_class = CSRFClient
    try:
        yield other
    finally:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


def raw_tokens() -> dict[str, list[Any]]:
    tokens = {}
    for table, columns in encrypted_columns().items():
        raw = sql_table(table, sql_column("id"), *(sql_column(c) for c in columns))
        query = select(*(raw.c[c] for c in columns)).order_by(raw.c.id)
        tokens[table] = [tuple(r) for r in db.session.execute(query)]
    return tokens


def test_keys_rotate_re_encrypts_everything_with_the_new_key(app: Flask, records: dict[str, Any]) -> None:
    old_key = app.config["SETTINGS"].encryption_keys[0]
    new_key = Fernet.generate_key().decode()
    before = raw_tokens()
    db.session.remove()

    # The CLI runs in the current app context when there is one: give it the new process's.
    with app_with_keys(app, new_key, old_key) as both, both.app_context():
        result = both.test_cli_runner().invoke(args=["keys", "rotate"])
        assert result.exit_code == 0, result.output
        assert "case_file: 1 rows re-encrypted" in result.output

    user_id, case_id, shelter_id = records["ids"]
    with app_with_keys(app, new_key) as only_new, only_new.app_context():
        after = raw_tokens()
        case = db.session.get(Case, case_id)
        shelter = db.session.get(Shelter, shelter_id)
        user = db.session.get(User, user_id)
        assert case is not None and shelter is not None and user is not None
        assert (case.alias, case.phone) == (ALIAS, PHONE)
        assert (shelter.name, shelter.address) == (SHELTER, ADDRESS)
        assert (user.display_name, user.totp_secret) == (DISPLAY_NAME, records["totp_secret"])
        # The advocate signs in (the TOTP key was rotated too) and reads the case.
        client = only_new.test_client()
        login(client, user)
        assert ALIAS in text_of(client.get(f"/cases/{case_id}"))
        db.session.remove()

    for table, rows in before.items():
        for old_row, new_row in zip(rows, after[table], strict=True):
            for old_token, new_token in zip(old_row, new_row, strict=True):
                assert (old_token is None) == (new_token is None)
                if old_token is not None:
                    assert old_token != new_token, table

    # The old key alone no longer opens anything.
    with app_with_keys(app, old_key) as only_old, only_old.app_context():
        with pytest.raises(RuntimeError, match="cannot be decrypted") as refused:
            db.session.get(Case, case_id)
        assert ALIAS not in str(refused.value)
        assert "gAAAAA" not in str(refused.value)
        db.session.rollback()


def test_keys_generate_prints_a_usable_fernet_key(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["keys", "generate"])
    assert result.exit_code == 0
    Fernet(result.output.strip())


class _CountingFernet:
    """The app's MultiFernet, counting its decryptions."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.decrypted = inner, 0

    def encrypt(self, data: bytes) -> bytes:
        return self.inner.encrypt(data)  # type: ignore[no-any-return]

    def decrypt(self, token: bytes) -> bytes:
        self.decrypted += 1
        return self.inner.decrypt(token)  # type: ignore[no-any-return]


def test_a_request_decrypts_each_stored_value_once_and_keeps_it_no_longer(app: Flask) -> None:
    """A list names the same advocate in every row: one decryption per request, and the
    plaintext is gone with the request (a worker, outside any request, decrypts every time)."""
    from advocacy.types import decrypt_token

    counting = _CountingFernet(app.extensions["advocacy.fernet"])
    app.extensions["advocacy.fernet"] = counting
    token = counting.encrypt(b"Ruth Advocate").decode("ascii")
    with app.test_request_context("/"):
        assert [decrypt_token(token) for _ in range(50)] == ["Ruth Advocate"] * 50
        assert counting.decrypted == 1
    with app.test_request_context("/"):
        assert decrypt_token(token) == "Ruth Advocate"
        assert counting.decrypted == 2  # a new request decrypts again
    with app.app_context():
        decrypt_token(token), decrypt_token(token)
        assert counting.decrypted == 4  # no request: nothing kept
        # A worker's long app context, with request contexts opened inside it to render
        # a text: each keeps its plaintexts, none carries them over to the next.
        for _ in range(2):
            with app.test_request_context("/"):
                decrypt_token(token), decrypt_token(token)
        assert counting.decrypted == 6
