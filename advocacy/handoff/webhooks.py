"""Pushing hand-off records to a partner: Standard Webhooks signatures and the SSRF guard.

Signing follows the Standard Webhooks specification
(https://www.standardwebhooks.com/): the signature is an HMAC-SHA256, keyed
with the base64-decoded part of a ``whsec_...`` secret, over
``"{webhook-id}.{webhook-timestamp}.{body}"``, sent as ``v1,<base64>`` in the
``webhook-signature`` header.  During a secret rotation the header carries
one signature per valid secret, separated by spaces, so a partner that still
holds the old secret and one that already holds the new one both verify.  A
partner verifies with any Standard Webhooks library, for example
``standardwebhooks.Webhook(secret).verify(body, headers)`` in Python.

The webhook id must be the same on every retry of one delivery (use the
outbox row's id), so that a partner can drop a duplicate; the timestamp is
that of the attempt, so that a captured request cannot be replayed later.

The push URL is typed by an agency admin, so before anything is sent to it
:func:`check_push_url` makes sure it cannot reach the agency's own network or
the cloud provider's metadata service (server-side request forgery).  The
rules, and why:

* **Scheme.**  In production only ``https://``: the body is a record about a
  victim.  In development ``http://`` too, so a developer can run a receiver
  on their own machine.
* **Port.**  In production only 443 (or none): a partner's webhook receiver
  is a web server, and other ports are how an internal service is probed.
  In development any port.
* **No user name or password** in the URL (``https://user:pw@host``): it is
  the classic way to make a URL look like one host and go to another, and a
  credential in a stored URL would be shown on every settings page.
* **No fragment**, no backslash, no whitespace or control characters: they
  mean something different to different URL parsers, and nothing is
  silently rewritten.
* **Host names**: never ``localhost`` or a name under ``.localhost``,
  ``.local``, ``.localdomain``, ``.internal`` (``metadata.google.internal``),
  ``.home.arpa``, ``.lan``, ``.intranet``, ``.corp``, ``.home`` or the
  reverse-lookup zones, never a bare ``metadata`` or ``instance-data``, and
  in production never a single-label name (``http://printer/``), which
  resolves through the server's search domains to an internal host.  In
  development ``localhost`` is allowed.
* **Addresses**: the host, or *every* address it resolves to, must be a
  public unicast address.  Refused: private (10/8, 172.16/12, 192.168/16),
  loopback (127/8, ::1) except in development, link-local (169.254/16, the
  metadata address 169.254.169.254, fe80::/10), multicast, reserved,
  unspecified (0.0.0.0, ::), CGNAT (100.64/10), documentation and
  benchmarking ranges, unique-local IPv6 (fc00::/7), site-local IPv6
  (fec0::/10), and IPv6 addresses that embed a refused IPv4 address
  (IPv4-mapped ``::ffff:127.0.0.1``, 6to4 ``2002::/16``, NAT64
  ``64:ff9b::/96``, Teredo).  Every resolved address is checked because the
  HTTP client may connect to any of them.
* **Numbers in disguise**: an IPv4 address written any other way than four
  decimal numbers (``http://2130706433/``, ``http://0x7f.1/``,
  ``http://0177.0.0.1/``, ``http://127.1/``) is refused outright, as is a
  name whose last label is all digits: resolvers read these as addresses,
  people do not.  An IPv6 zone (``[fe80::1%25eth0]``) is refused.

**DNS rebinding.**  A name that resolved to a public address when the admin
saved it can resolve to 127.0.0.1 a second later.  So the check is not done
once: the sender must call :func:`pinned_address` at every attempt, at
connect time, and connect to the address it returns (sending the host name
for TLS and in ``Host``), never resolving the name a second time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import re
import secrets as _secrets
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from flask_babel import lazy_gettext as _l

from advocacy import clock
from advocacy.errors import Refused

__all__ = [
    "SECRET_PREFIX",
    "check_push_url",
    "headers",
    "new_secret",
    "now_timestamp",
    "pinned_address",
    "sign",
]

SECRET_PREFIX = "whsec_"  # noqa: S105 (the specification's prefix, not a secret)
#: The specification asks for secrets of 24 to 64 random bytes.
SECRET_BYTES = 32
_MIN_SECRET_BYTES, _MAX_SECRET_BYTES = 24, 64
# What a webhook id may hold: it is sent in a header and signed as text.
_MESSAGE_ID = re.compile(r"[A-Za-z0-9_\-:]{1,128}")

Secret = bytes | str


# --------------------------------------------------------------------------
# Signing
# --------------------------------------------------------------------------


def new_secret() -> str:
    """A fresh signing secret, ``whsec_`` and 32 random bytes in base64: shown once to the admin."""
    return SECRET_PREFIX + base64.b64encode(_secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def _key(secret: Secret) -> bytes:
    """The HMAC key of a secret, read as the Standard Webhooks libraries read it.

    A ``str`` is ``whsec_`` and base64 (the prefix may be left off); ``bytes``
    are the key itself.  A key shorter than 24 bytes or longer than 64 is a
    configuration mistake and raises ValueError.
    """
    if isinstance(secret, str):
        encoded = secret.removeprefix(SECRET_PREFIX)
        try:
            key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
        except (binascii.Error, ValueError) as error:
            raise ValueError("a webhook secret is whsec_ followed by base64") from error
    elif isinstance(secret, bytes):
        key = secret
    else:
        raise TypeError("a webhook secret is str or bytes")
    if not _MIN_SECRET_BYTES <= len(key) <= _MAX_SECRET_BYTES:
        raise ValueError(f"a webhook secret holds {_MIN_SECRET_BYTES} to {_MAX_SECRET_BYTES} bytes")
    return key


def sign(secret: Secret, msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256 of "{msg_id}.{timestamp}.{body}">`` for one secret."""
    if not _MESSAGE_ID.fullmatch(msg_id):
        raise ValueError("a webhook id is 1 to 128 letters, digits, '_', '-' or ':'")
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
        raise ValueError("a webhook timestamp is whole seconds since 1970")
    if not isinstance(body, bytes):
        raise TypeError("sign the bytes that are sent, not a str or an object")
    signed = f"{msg_id}.{timestamp}.".encode("ascii") + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def headers(secrets: Sequence[Secret], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers, with one signature per secret still valid.

    Pass the new secret and the old one during a rotation's grace period; a
    partner's verifier accepts the request if any signature matches its secret.
    """
    if isinstance(secrets, str | bytes) or not secrets:
        raise ValueError("sign with a sequence of at least one secret")
    signatures = dict.fromkeys(sign(secret, msg_id, timestamp, body) for secret in secrets)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signatures),
    }


def now_timestamp() -> int:
    """The ``webhook-timestamp`` of an attempt made now, from the app's one clock."""
    return int(clock.now().timestamp())


# --------------------------------------------------------------------------
# The push URL (SSRF)
# --------------------------------------------------------------------------

Resolver = Callable[..., Sequence[tuple[Any, ...]]]

_BLOCKED_NAMES = frozenset(
    ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback", "metadata", "instance-data")
)
_BLOCKED_SUFFIXES = (
    ".localhost",
    ".local",
    ".localdomain",
    ".internal",
    ".intranet",
    ".corp",
    ".home",
    ".lan",
    ".home.arpa",
    ".in-addr.arpa",
    ".ip6.arpa",
)
_LOOPBACK_NAMES = frozenset(("localhost", "ip6-localhost", "ip6-loopback", "localhost.localdomain"))
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_DOTTED_QUAD = re.compile(r"(?:0|[1-9]\d{0,2})(?:\.(?:0|[1-9]\d{0,2})){3}")
# Anything a resolver might read as an IPv4 number: digits, hex, octal, fewer parts.
_NUMERIC_HOST = re.compile(r"(?i)(?:0x[0-9a-f]*|\d+)(?:\.(?:0x[0-9a-f]*|\d+)){0,3}\.?")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_FORBIDDEN_CHARACTERS = re.compile(r"[\s\\\x00-\x1f\x7f]")


@dataclass(frozen=True)
class PushTarget:
    """A checked push URL: where to send (``url``) and which address to connect to."""

    url: str
    host: str
    port: int
    address: str


def _refuse(message: Any) -> Refused:
    return Refused(message, field="push_url")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries, if it is one of the forms that do."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """A public unicast address: one a partner's server can have and the agency's network cannot."""
    if (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    ):
        return False
    if isinstance(address, ipaddress.IPv4Address):
        return address not in _CGNAT
    if address.is_site_local or address in _NAT64_LOCAL:
        return False
    embedded = _embedded_ipv4(address)
    return embedded is None or _is_public(embedded)


def _allowed(address: ipaddress.IPv4Address | ipaddress.IPv6Address, *, production: bool) -> bool:
    if _is_public(address):
        return True
    if production:
        return False
    # Development: a receiver on the developer's own machine.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def _host_name(raw: str, *, production: bool) -> str:
    """The host as ASCII, lowercase, without a trailing dot; Refused if it names an inside host."""
    try:
        host = raw.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError as error:
        raise _refuse(_l("The push URL's host name is not valid.")) from error
    labels = host.split(".")
    if not host or len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise _refuse(_l("The push URL's host name is not valid."))
    if labels[-1].isdigit():
        raise _refuse(_l("The push URL's host is a number in an unusual form: write the host name instead."))
    if production and len(labels) == 1:
        raise _refuse(_l("The push URL must name a public host, such as hooks.example.org."))
    if not production and host in _LOOPBACK_NAMES:
        return host
    if host in _BLOCKED_NAMES or host.endswith(_BLOCKED_SUFFIXES):
        raise _refuse(_l("The push URL must name a public host, not a local or internal one."))
    return host


def _check(url: str, *, production: bool, resolve: Resolver) -> PushTarget:
    if not isinstance(url, str) or not url or len(url) > 2048 or _FORBIDDEN_CHARACTERS.search(url):
        raise _refuse(_l("The push URL is not a valid URL."))
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise _refuse(_l("The push URL is not a valid URL.")) from error
    scheme = parts.scheme.lower()
    if production and scheme != "https":
        raise _refuse(_l("The push URL must start with https://."))
    if scheme not in ("https", "http"):
        raise _refuse(_l("The push URL must start with https:// or, in development, http://."))
    if "@" in parts.netloc:
        raise _refuse(_l("The push URL must not contain a user name or password."))
    if parts.fragment or url.endswith("#"):
        raise _refuse(_l("The push URL must not contain a #fragment."))
    raw_host = parts.hostname
    if not raw_host:
        raise _refuse(_l("The push URL has no host."))
    default_port = 443 if scheme == "https" else 80
    port = default_port if port is None else port
    if production and port != 443:
        raise _refuse(_l("The push URL must use the standard HTTPS port, 443."))
    if port == 0:
        raise _refuse(_l("The push URL is not a valid URL."))

    literal: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None
    if parts.netloc.rsplit("@", 1)[-1].startswith("["):
        if "%" in raw_host:
            raise _refuse(_l("The push URL must not name a network interface (an IPv6 zone)."))
        try:
            literal = ipaddress.IPv6Address(raw_host)
        except ValueError as error:
            raise _refuse(_l("The push URL is not a valid URL.")) from error
    elif _NUMERIC_HOST.fullmatch(raw_host):
        if not _DOTTED_QUAD.fullmatch(raw_host):
            raise _refuse(
                _l("The push URL's host is a number in an unusual form: write the host name instead.")
            )
        try:
            literal = ipaddress.IPv4Address(raw_host)
        except ValueError as error:
            raise _refuse(_l("The push URL is not a valid URL.")) from error

    if literal is not None:
        if not _allowed(literal, production=production):
            raise _refuse(_l("The push URL points to a private, local or reserved network address."))
        host = raw_host
        addresses = [literal]
    else:
        host = _host_name(raw_host, production=production)
        addresses = _resolve(host, port, resolve)
        if not all(_allowed(a, production=production) for a in addresses):
            raise _refuse(_l("The push URL's host resolves to a private, local or reserved network address."))

    netloc = f"[{host}]" if isinstance(literal, ipaddress.IPv6Address) else host
    if port != default_port:
        netloc = f"{netloc}:{port}"
    checked = urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))
    return PushTarget(checked, host, port, str(addresses[0]))


def _resolve(host: str, port: int, resolve: Resolver) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        infos = resolve(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:  # socket.gaierror is an OSError
        raise _refuse(_l("The push URL's host could not be found.")) from error
    addresses: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = []
    for info in infos:
        sockaddr = info[4]
        text = str(sockaddr[0]).split("%", 1)[0]
        try:
            address = ipaddress.ip_address(text)
        except ValueError as error:
            raise _refuse(_l("The push URL's host could not be found.")) from error
        if len(sockaddr) >= 4 and sockaddr[3]:
            # An IPv6 answer with a scope: an interface-local address.
            raise _refuse(_l("The push URL's host resolves to a private, local or reserved network address."))
        addresses.append(address)
    if not addresses:
        raise _refuse(_l("The push URL's host could not be found."))
    return list(dict.fromkeys(addresses))


def check_push_url(url: str, *, production: bool, resolve: Resolver = socket.getaddrinfo) -> str:
    """``url`` made canonical, if a push may be sent to it; Refused (field ``push_url``) if not.

    Run it when the admin saves the URL, and again before every attempt
    through :func:`pinned_address` (DNS rebinding).  ``resolve`` has the
    signature of :func:`socket.getaddrinfo`; tests pass a fake, so no test
    touches the network.
    """
    return _check(url, production=production, resolve=resolve).url


def pinned_address(url: str, resolve: Resolver = socket.getaddrinfo, *, production: bool = True) -> str:
    """The checked IP address to connect to for this attempt, resolved once, now.

    Connect to this address and send the URL's host name for TLS (SNI and
    certificate check) and in ``Host``; do not let the HTTP client resolve
    the name again, or a rebinding DNS server can answer differently.
    """
    return _check(url, production=production, resolve=resolve).address
