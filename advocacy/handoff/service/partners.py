"""Partners and their keys: API tokens (hashed, shown once) and webhook signing secrets.

Both kinds of key rotate without downtime: rotating issues a new key and
lets the old one work until the end of :data:`GRACE_PERIOD`, so the partner
can switch at its own pace.  Revoking ends a key at once.  Every change is
audited; no key ever enters the audit log, a log line or a page after the
one that shows it once.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from advocacy import clock
from advocacy.access import get_scoped, scoped
from advocacy.actor import Actor
from advocacy.audit.service import record as audit
from advocacy.errors import Refused
from advocacy.extensions import db
from advocacy.handoff import webhooks
from advocacy.handoff.models import Partner, PartnerToken, WebhookSecret
from advocacy.handoff.vocabulary import EventType
from advocacy.roles import Role

#: How long the old key keeps working after a rotation.
GRACE_PERIOD = timedelta(days=7)
#: A new token's lifetime unless the admin chooses another.
TOKEN_DAYS = 365
MAX_TOKEN_DAYS = 730
TOKEN_PREFIX = "hop_"  # noqa: S105 (a marker that makes a leaked token recognisable, not a secret)
#: What a partner's token may do on the API.
SCOPES = frozenset({"handoff:read", "handoff:ack"})


@dataclass(frozen=True)
class Issued:
    """A key as it is shown once: the plaintext, and the row that keeps only its hash."""

    plaintext: str
    row: PartnerToken | WebhookSecret


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _event_types(values: Iterable[str]) -> list[str]:
    chosen = set(values)
    known = [e.value for e in EventType]
    if not chosen or not chosen <= set(known):
        raise Refused(_("Choose at least one event type from the list."), field="event_types")
    return [v for v in known if v in chosen]


def _push_url(url: str | None, *, production: bool, resolve: webhooks.Resolver | None) -> str | None:
    url = (url or "").strip()
    if not url:
        return None
    if resolve is None:
        return webhooks.check_push_url(url, production=production)
    return webhooks.check_push_url(url, production=production, resolve=resolve)


def list_partners(actor: Actor) -> list[Partner]:
    stmt = scoped(actor, select(Partner), Partner.agency_id, Role.ADMIN).order_by(Partner.name, Partner.id)
    return list(db.session.scalars(stmt))


def get_partner(actor: Actor, partner_id: int) -> Partner:
    """A partner, for its agency's admins."""
    return get_scoped(actor, Partner, partner_id, Role.ADMIN)


def partners_for_cases(actor: Actor, agency_id: int) -> list[Partner]:
    """The partners an advocate may hand off to: those of the case's agency."""
    stmt = scoped(actor, select(Partner), Partner.agency_id).where(Partner.agency_id == agency_id)
    return list(db.session.scalars(stmt.order_by(Partner.name, Partner.id)))


def create_partner(
    actor: Actor,
    name: str,
    event_types: Iterable[str],
    push_url: str | None = None,
    *,
    production: bool = True,
    resolve: webhooks.Resolver | None = None,
) -> Partner:
    agency_id = actor.agency_for(Role.ADMIN)
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise Refused(_("Enter the partner's name (up to 120 characters)."), field="name")
    partner = Partner(
        agency_id=agency_id,
        name=name,
        event_types=_event_types(event_types),
        push_url=_push_url(push_url, production=production, resolve=resolve),
        pseudonym_key=base64.b64encode(secrets.token_bytes(32)).decode("ascii"),
    )
    db.session.add(partner)
    db.session.flush()
    audit(actor, "handoff.partner_created", "handoff_partner", partner.id, agency_id=agency_id)
    return partner


def update_partner(
    actor: Actor,
    partner: Partner,
    name: str,
    event_types: Iterable[str],
    push_url: str | None,
    *,
    production: bool = True,
    resolve: webhooks.Resolver | None = None,
) -> Partner:
    get_partner(actor, partner.id)
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise Refused(_("Enter the partner's name (up to 120 characters)."), field="name")
    chosen = _event_types(event_types)
    new_url = _push_url(push_url, production=production, resolve=resolve)
    partner.name = name
    partner.event_types = chosen
    if new_url != partner.push_url or new_url is None:
        partner.push_disabled_at = None
    partner.push_url = new_url
    db.session.flush()
    audit(actor, "handoff.partner_updated", "handoff_partner", partner.id, agency_id=partner.agency_id)
    return partner


# --- API tokens ----------------------------------------------------------------------------


def tokens(partner: Partner) -> list[PartnerToken]:
    stmt = select(PartnerToken).where(PartnerToken.partner_id == partner.id)
    return list(db.session.scalars(stmt.order_by(PartnerToken.created_at.desc(), PartnerToken.id.desc())))


def issue_token(actor: Actor, partner: Partner, days: int = TOKEN_DAYS) -> Issued:
    """A new token for the partner: the plaintext is returned once and never stored."""
    get_partner(actor, partner.id)
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise Refused(_("A token lasts from 1 to %(max)d days.", max=MAX_TOKEN_DAYS), field="days")
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    row = PartnerToken(
        partner_id=partner.id,
        agency_id=partner.agency_id,
        token_hash=_hash(plaintext),
        prefix=plaintext[:10],
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    db.session.add(row)
    db.session.flush()
    audit(actor, "handoff.token_issued", "handoff_token", row.id, agency_id=partner.agency_id)
    return Issued(plaintext, row)


def rotate_token(actor: Actor, partner: Partner, days: int = TOKEN_DAYS) -> Issued:
    """A new token; every other valid token of the partner ends after the grace period."""
    now = clock.now()
    issued = issue_token(actor, partner, days)
    for token in tokens(partner):
        if token.id != issued.row.id and token.valid_at(now):
            token.expires_at = min(token.expires_at, now + GRACE_PERIOD)
    db.session.flush()
    return issued


def revoke_token(actor: Actor, partner: Partner, token_id: int) -> PartnerToken:
    get_partner(actor, partner.id)
    token = next((t for t in tokens(partner) if t.id == token_id), None)
    if token is None:
        from advocacy.errors import NotFound

        raise NotFound()
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        token.revoked_by = actor.user_id
        db.session.flush()
        audit(actor, "handoff.token_revoked", "handoff_token", token.id, agency_id=partner.agency_id)
    return token


def authenticate(plaintext: str) -> Actor | None:
    """The partner actor of a bearer token, or None when it is unknown, expired or revoked."""
    if not plaintext.startswith(TOKEN_PREFIX) or len(plaintext) > 100:
        return None
    token = db.session.scalar(select(PartnerToken).where(PartnerToken.token_hash == _hash(plaintext)))
    if token is None or not token.valid_at(clock.now()):
        return None
    return Actor.partner(token.partner_id, token.agency_id, SCOPES)


# --- webhook signing secrets ---------------------------------------------------------------


def secrets_of(partner: Partner) -> list[WebhookSecret]:
    stmt = select(WebhookSecret).where(WebhookSecret.partner_id == partner.id)
    return list(db.session.scalars(stmt.order_by(WebhookSecret.created_at.desc(), WebhookSecret.id.desc())))


def signing_secrets(partner: Partner, now: datetime | None = None) -> list[str]:
    """The secrets a push is signed with now: the newest first, and any still in its grace period."""
    now = now or clock.now()
    return [s.secret for s in secrets_of(partner) if s.valid_at(now)]


def rotate_secret(actor: Actor, partner: Partner) -> Issued:
    """A new signing secret (the first one, or the next): every other current one retires after the grace period."""
    get_partner(actor, partner.id)
    now = clock.now()
    for old in secrets_of(partner):
        if old.valid_at(now):
            old.retires_at = min(old.retires_at or now + GRACE_PERIOD, now + GRACE_PERIOD)
    plaintext = webhooks.new_secret()
    row = WebhookSecret(partner_id=partner.id, agency_id=partner.agency_id, secret=plaintext, created_at=now)
    db.session.add(row)
    db.session.flush()
    audit(actor, "handoff.secret_rotated", "handoff_webhook_secret", row.id, agency_id=partner.agency_id)
    return Issued(plaintext, row)


def revoke_secret(actor: Actor, partner: Partner, secret_id: int) -> WebhookSecret:
    get_partner(actor, partner.id)
    row = next((s for s in secrets_of(partner) if s.id == secret_id), None)
    if row is None:
        from advocacy.errors import NotFound

        raise NotFound()
    now = clock.now()
    if row.valid_at(now):
        row.retires_at = now
        db.session.flush()
        audit(actor, "handoff.secret_revoked", "handoff_webhook_secret", row.id, agency_id=partner.agency_id)
    return row
