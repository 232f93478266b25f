"""``flask`` commands for operators.

Each command is its own unit of work (:func:`advocacy.uow.unit_of_work`):
it commits what it did, or nothing when it fails.  A command acts as the
system (:meth:`advocacy.actor.Actor.system`), for the agency it names or for
the whole deployment when it does maintenance.

Development-only commands (``flask demo totp``, ``flask demo password``) are
not registered at all in production, so they cannot be run there by mistake.
"""

from __future__ import annotations

import getpass
import sys

import click
from cryptography.fernet import Fernet
from flask import Flask, current_app
from sqlalchemy import select

from advocacy.actor import Actor
from advocacy.extensions import db
from advocacy.intake.models import DRAFT_DAYS
from advocacy.uow import unit_of_work


def init_app(app: Flask) -> None:
    app.cli.add_command(agency_cli)
    app.cli.add_command(user_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(sessions_cli)
    app.cli.add_command(shelters_cli)
    app.cli.add_command(intake_cli)
    app.cli.add_command(keys_cli)
    app.cli.add_command(i18n_cli)
    demo = demo_cli if not app.config["SETTINGS"].is_production else demo_prod_cli
    app.cli.add_command(demo)


@click.group("agency", help="Agencies (tenants).")
def agency_cli() -> None:
    pass


@agency_cli.command("create")
@click.argument("slug")
@click.argument("name")
def agency_create(slug: str, name: str) -> None:
    from advocacy.auth.service import create_agency

    with unit_of_work():
        agency = create_agency(name=name, slug=slug)
    click.echo(f"agency {agency.slug} created (id {agency.id})")


@click.group("user", help="Staff accounts.")
def user_cli() -> None:
    pass


@user_cli.command("create-admin")
@click.option("--agency", "agency_slug", required=True, help="Slug of the agency.")
@click.option("--username", required=True)
@click.option("--name", "display_name", required=True, help="Name shown to colleagues.")
def user_create_admin(agency_slug: str, username: str, display_name: str) -> None:
    """Create an agency admin; the password is asked for, never taken as an argument."""
    from advocacy.auth.models import Agency, Role
    from advocacy.auth.service import create_user

    agency = db.session.scalar(select(Agency).where(Agency.slug == agency_slug))
    if agency is None:
        raise click.ClickException(f"no agency with slug {agency_slug!r}")
    password = (
        getpass.getpass("Password (12 or more characters): ")
        if sys.stdin.isatty()
        else sys.stdin.readline().rstrip("\n")
    )
    try:
        with unit_of_work():
            actor = Actor.system("cli:user-create-admin", agency.id)
            user = create_user(actor, username, display_name, password, [(agency, Role.ADMIN)])
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"admin {user.username} created; they set up two-step sign-in at first login")


@click.group("audit", help="The tamper-evident audit log.")
def audit_cli() -> None:
    pass


@audit_cli.command("verify")
@click.option(
    "--expect-head",
    "expect_heads",
    multiple=True,
    metavar="CHAIN/LENGTH/HEAD",
    help="A head kept outside the database (the expect_head of a logged checkpoint); repeatable.",
)
@click.option("--no-checkpoint", is_flag=True, help="Verify only; sign no new checkpoints.")
def audit_verify(expect_heads: tuple[str, ...], no_checkpoint: bool) -> None:
    """Verify every audit chain and the availability history; sign a checkpoint of each.

    Run it regularly (hourly, from cron or a timer): each run compares every
    chain with the newest checkpoint, so a chain cut short since then fails
    and says by how many entries.  Exit status 1 when any chain fails.
    """
    from advocacy.audit.verify import Expected, verify_chains, write_checkpoints

    try:
        expected = [Expected.parse(value) for value in expect_heads]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--expect-head") from exc
    with unit_of_work():
        verification = verify_chains(expected)
        if not no_checkpoint:
            write_checkpoints(verification)
    for report in verification.chains:
        if report.ok:
            click.echo(f"{report.chain} intact: {report.checked} entries, head {report.token()}")
        elif report.missing:
            click.echo(
                f"{report.chain} SHORTENED: {report.missing} entries missing at the end "
                f"({report.checked} remain)"
            )
        elif report.first_bad_id is not None:
            click.echo(
                f"{report.chain} BROKEN at entry {report.first_bad_id} "
                f"(after {report.checked} good entries): {report.problem}"
            )
        else:
            click.echo(f"{report.chain} BROKEN: {report.problem}")
    for chain in sorted({e.chain for e in expected} - {r.chain for r in verification.chains}):
        click.echo(f"{chain} BROKEN: no such chain")
    if verification.ok:
        click.echo(
            f"audit chains intact: {verification.checked} entries in {len(verification.chains)} chains"
        )
    else:
        click.echo("audit chains BROKEN: tell the security contact; keep the database as it is")
        sys.exit(1)


@click.group("sessions", help="Signed-in sessions.")
def sessions_cli() -> None:
    pass


@sessions_cli.command("purge")
def sessions_purge() -> None:
    """Delete ended and expired session records (run daily, from cron or a timer)."""
    from advocacy.auth.service import purge_sessions

    with unit_of_work():
        purged = purge_sessions()
    click.echo(f"{purged} ended or expired sessions deleted")


@click.group("shelters", help="The shelter network.")
def shelters_cli() -> None:
    pass


@shelters_cli.command("expire-holds")
def shelters_expire_holds() -> None:
    """Free the beds of holds past their time.

    Every board and every bed change does this first, so nobody ever sees a
    hold past its time; run it every few minutes (cron or a timer) so that
    holds also end on a night when nobody opens a board.  Any number of
    processes may run it at once.
    """
    from advocacy.shelters.service import expire_holds

    total = 0
    while True:
        with unit_of_work():  # one batch at a time: a long night's work commits as it goes
            ended = expire_holds()
        if not ended:
            break
        total += ended
    click.echo(f"{total} expired holds ended")


@click.group("intake", help="Intakes and cases.")
def intake_cli() -> None:
    pass


@intake_cli.command("purge-drafts")
@click.option("--days", default=DRAFT_DAYS, show_default=True, type=click.IntRange(1, 365))
def intake_purge_drafts(days: int) -> None:
    """Delete unfinished intakes nobody has changed for DAYS days (run daily)."""
    from advocacy.intake.service import purge_stale_drafts

    with unit_of_work():
        purged = purge_stale_drafts(Actor.system("cli:purge-drafts"), days=days)
    click.echo(f"{purged} unfinished intakes deleted")


@intake_cli.command("reindex-names")
def intake_reindex_names() -> None:
    """Rebuild the name index of every case (after the hash key changed)."""
    from advocacy.intake.service.names import reindex_all

    with unit_of_work():
        done = reindex_all()
    click.echo(f"{done} cases indexed")


@click.group("keys", help="Encryption keys for personal data.")
def keys_cli() -> None:
    pass


@keys_cli.command("generate")
def keys_generate() -> None:
    """Print a new Fernet key, to put first in ADVOCACY_ENCRYPTION_KEYS."""
    click.echo(Fernet.generate_key().decode())


@keys_cli.command("rotate")
def keys_rotate() -> None:
    """Re-encrypt every encrypted column with the first (newest) key."""
    from advocacy.crypto import rotate_all

    counts = rotate_all()
    for table, n in counts.items():
        click.echo(f"{table}: {n} rows re-encrypted")
    click.echo(
        "done; the old key can be removed from ADVOCACY_ENCRYPTION_KEYS once every process runs with the new list"
    )


@click.group("i18n", help="Language catalogs.")
def i18n_cli() -> None:
    pass


@i18n_cli.command("extract")
def i18n_extract() -> None:
    """Write translations/messages.pot from the strings in advocacy/ and templates/."""
    from pathlib import Path

    from advocacy.i18n import extract_template

    root = Path(current_app.root_path).parent
    (root / "translations" / "messages.pot").write_bytes(extract_template(root))
    click.echo("extracted translations/messages.pot")


@i18n_cli.command("update")
def i18n_update() -> None:
    """Merge translations/messages.pot into every registered language's catalog."""
    from pathlib import Path

    from advocacy.i18n import update_catalogs

    base = Path(current_app.config["BABEL_TRANSLATION_DIRECTORIES"])
    click.echo("updated: " + " ".join(update_catalogs(base)))


@i18n_cli.command("compile")
def i18n_compile() -> None:
    """Compile every catalog to .mo (build output, never committed)."""
    from pathlib import Path

    from advocacy.i18n import compile_catalogs

    base = Path(current_app.config["BABEL_TRANSLATION_DIRECTORIES"])
    click.echo("compiled: " + " ".join(compile_catalogs(base)))


@i18n_cli.command("coverage")
def i18n_coverage() -> None:
    from advocacy.i18n import catalog_coverage, registry

    for tag, (done, total) in catalog_coverage().items():
        pct = 100.0 * done / total if total else 0.0
        click.echo(f"{tag:4} {registry()[tag].english:12} {done:4}/{total:<4} {pct:5.1f}%")


@click.group("demo", help="Demo data for development.")
def demo_cli() -> None:
    pass


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="Do nothing when any agency exists.")
def demo_load(if_empty: bool) -> None:
    from advocacy.demo import load_demo

    with unit_of_work():
        logins = load_demo(if_empty=if_empty)
    if logins is None:
        click.echo("demo data already present; nothing loaded")
        return
    click.echo("Demo data loaded. These passwords are shown only now:")
    for username, role, password in logins:
        click.echo(f"  {username:14} {role:14} {password}")
    click.echo("Sign in at http://127.0.0.1:5000, then get the 6-digit code with: make code user=<username>")


@demo_cli.command("totp")
@click.argument("username")
def demo_totp(username: str) -> None:
    """Print a demo user's current TOTP code (development only)."""
    from advocacy.auth.service import find_user, totp_now

    user = find_user(username)
    if user is None or not user.totp_secret:
        raise click.ClickException(f"no user {username!r} with two-step sign-in")
    click.echo(totp_now(user))


@demo_cli.command("password")
@click.argument("username")
def demo_password(username: str) -> None:
    """Give a demo user a new random password and print it (development only)."""
    from advocacy.auth.service import change_password, find_user, random_passphrase

    user = find_user(username)
    if user is None:
        raise click.ClickException(f"no user {username!r}")
    password = random_passphrase()
    with unit_of_work():
        change_password(Actor.system("cli:demo-password"), user, password)
    click.echo(password)


@click.group("demo", help="Demo data is not available in production.")
def demo_prod_cli() -> None:
    if current_app:
        raise click.ClickException("demo commands do not exist in production")
