"""Pushing to a partner: Standard Webhooks signatures, and the guard on the push URL.

Signatures are checked with the real ``standardwebhooks`` library, as a
partner would.  The SSRF guard is given a fake resolver, so no test touches
the network.
"""

from __future__ import annotations

import base64
import socket
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from advocacy.clock import FrozenClock, use_clock
from advocacy.errors import Refused
from advocacy.handoff.webhooks import (
    SECRET_PREFIX,
    check_push_url,
    headers,
    new_secret,
    now_timestamp,
    pinned_address,
    sign,
)

BODY = (
    b'{"event_type":"victim_contacted","record_id":"5b0c8f0e-8d3e-4d1e-9a51-0c2f7a4f2b11","schema_version":1}'
)
MSG_ID = "msg_2f1c7a9e0b4d4c55"


def now() -> int:
    return int(time.time())


# --------------------------------------------------------------------------
# Signing, verified by the partner's library
# --------------------------------------------------------------------------


def test_a_new_secret_is_whsec_and_32_random_bytes() -> None:
    secret = new_secret()
    assert secret.startswith(SECRET_PREFIX)
    assert len(base64.b64decode(secret.removeprefix(SECRET_PREFIX))) == 32
    assert new_secret() != secret
    Webhook(secret)  # the partner's library accepts it


def test_the_signature_is_the_one_the_library_computes() -> None:
    secret = new_secret()
    timestamp = now()
    expected = Webhook(secret).sign(MSG_ID, datetime.fromtimestamp(timestamp, tz=UTC), BODY.decode())
    assert sign(secret, MSG_ID, timestamp, BODY) == expected
    assert expected.startswith("v1,")


def test_partner_verifies_a_push_signed_with_its_secret() -> None:
    secret = new_secret()
    sent = headers([secret], MSG_ID, now(), BODY)
    assert set(sent) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert sent["webhook-id"] == MSG_ID
    assert Webhook(secret).verify(BODY, sent)["event_type"] == "victim_contacted"


def test_during_a_rotation_partners_with_the_old_or_the_new_secret_both_verify() -> None:
    old, new = new_secret(), new_secret()
    sent = headers([new, old], MSG_ID, now(), BODY)
    assert len(sent["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(BODY, sent)
    Webhook(new).verify(BODY, sent)
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        Webhook(new_secret()).verify(BODY, sent)


def test_after_the_rotation_the_old_secret_no_longer_verifies() -> None:
    old, new = new_secret(), new_secret()
    sent = headers([new], MSG_ID, now(), BODY)
    Webhook(new).verify(BODY, sent)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(BODY, sent)


def test_a_changed_body_fails_verification() -> None:
    secret = new_secret()
    sent = headers([secret], MSG_ID, now(), BODY)
    tampered = BODY.replace(b"victim_contacted", b"victim_unreachable")
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        Webhook(secret).verify(tampered, sent)


def test_a_changed_id_or_timestamp_fails_verification() -> None:
    secret = new_secret()
    sent = headers([secret], MSG_ID, now(), BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY, {**sent, "webhook-id": "msg_other"})
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY, {**sent, "webhook-timestamp": str(int(sent["webhook-timestamp"]) + 1)})


def test_a_replayed_push_with_an_old_timestamp_fails() -> None:
    secret = new_secret()
    sent = headers([secret], MSG_ID, now() - 10 * 60, BODY)
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(secret).verify(BODY, sent)


def test_a_secret_as_raw_bytes_signs_like_its_whsec_form() -> None:
    raw = bytes(range(32))
    text = SECRET_PREFIX + base64.b64encode(raw).decode()
    assert sign(raw, MSG_ID, 1_700_000_000, BODY) == sign(text, MSG_ID, 1_700_000_000, BODY)
    assert sign(text.removeprefix(SECRET_PREFIX), MSG_ID, 1_700_000_000, BODY) == sign(
        text, MSG_ID, 1_700_000_000, BODY
    )
    Webhook(raw).verify(BODY, headers([raw], MSG_ID, now(), BODY))


def test_the_same_secret_twice_gives_one_signature() -> None:
    secret = new_secret()
    assert " " not in headers([secret, secret], MSG_ID, now(), BODY)["webhook-signature"]


@pytest.mark.parametrize(
    "secret",
    [
        "whsec_" + base64.b64encode(b"short").decode(),
        "whsec_not base64!",
        "whsec_",
        b"0123456789",
        bytes(65),
    ],
)
def test_a_weak_or_malformed_secret_is_a_configuration_error(secret: str | bytes) -> None:
    with pytest.raises(ValueError, match="secret"):
        sign(secret, MSG_ID, now(), BODY)


@pytest.mark.parametrize("msg_id", ["", "msg.1", "msg\r\nX-Injected: 1", "msg 1", "m" * 129])
def test_a_webhook_id_cannot_break_the_signed_text_or_the_header(msg_id: str) -> None:
    with pytest.raises(ValueError, match="webhook id"):
        sign(new_secret(), msg_id, now(), BODY)


def test_only_bytes_are_signed_and_timestamps_are_whole_seconds() -> None:
    secret = new_secret()
    with pytest.raises(TypeError):
        sign(secret, MSG_ID, now(), BODY.decode())  # type: ignore[arg-type]
    for bad in (-1, 1.5, True, "1700000000"):
        with pytest.raises(ValueError, match="timestamp"):
            sign(secret, MSG_ID, bad, BODY)  # type: ignore[arg-type]


def test_headers_need_a_sequence_of_secrets() -> None:
    with pytest.raises(ValueError):
        headers([], MSG_ID, now(), BODY)
    with pytest.raises(ValueError):
        headers(new_secret(), MSG_ID, now(), BODY)  # type: ignore[arg-type]


def test_the_attempts_timestamp_comes_from_the_apps_clock() -> None:
    assert abs(now_timestamp() - time.time()) < 5
    app = Flask(__name__)
    with app.app_context(), use_clock(FrozenClock(datetime(2026, 3, 4, 9, 30, tzinfo=UTC))):
        assert now_timestamp() == int(datetime(2026, 3, 4, 9, 30, tzinfo=UTC).timestamp())


# --------------------------------------------------------------------------
# The push URL: no request forgery into the agency's network
# --------------------------------------------------------------------------

PUBLIC_V4 = "93.184.216.34"
PUBLIC_V6 = "2606:2800:220:1:248:1893:25c8:1946"


class FakeDNS:
    """getaddrinfo with a fixed table, recording what it was asked."""

    def __init__(self, table: dict[str, Sequence[str]]) -> None:
        self.table = dict(table)
        self.asked: list[tuple[str, int]] = []

    def __call__(self, host: str, port: int, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        self.asked.append((host, port))
        if host not in self.table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        out = []
        for address in self.table[host]:
            if ":" in address:
                out.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0)))
            else:
                out.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)))
        return out


def dns(**extra: Sequence[str]) -> FakeDNS:
    table: dict[str, Sequence[str]] = {
        "hooks.example.org": [PUBLIC_V4, PUBLIC_V6],
        "xn--bcher-kva.example": [PUBLIC_V4],
        "localhost": ["127.0.0.1", "::1"],
        "rebind.example.com": ["127.0.0.1"],
        "mixed.example.com": [PUBLIC_V4, "10.0.0.7"],
        "metadata-proxy.example.com": ["169.254.169.254"],
        "mapped.example.com": ["::ffff:192.168.1.10"],
        "cgnat.example.com": ["100.64.12.1"],
        "ula.example.com": ["fd00:ec2::254"],
        "empty.example.com": [],
    }
    table.update({k.replace("_", "."): v for k, v in extra.items()})
    return FakeDNS(table)


def refused(url: str, *, production: bool = True, resolve: Callable[..., Any] | None = None) -> str:
    with pytest.raises(Refused) as caught:
        check_push_url(url, production=production, resolve=resolve or dns())
    assert caught.value.field == "push_url"
    return str(caught.value.message)


def test_a_partners_https_url_is_accepted_and_made_canonical() -> None:
    resolver = dns()
    assert check_push_url("HTTPS://Hooks.Example.ORG./tracking?v=1", production=True, resolve=resolver) == (
        "https://hooks.example.org/tracking?v=1"
    )
    assert resolver.asked == [("hooks.example.org", 443)]
    assert check_push_url("https://hooks.example.org:443", production=True, resolve=dns()) == (
        "https://hooks.example.org/"
    )


def test_an_international_host_name_is_checked_in_its_ascii_form() -> None:
    resolver = dns()
    assert check_push_url("https://bücher.example/hook", production=True, resolve=resolver) == (
        "https://xn--bcher-kva.example/hook"
    )
    assert resolver.asked == [("xn--bcher-kva.example", 443)]


def test_production_pushes_only_over_https() -> None:
    assert "https://" in refused("http://hooks.example.org/hook")


def test_development_allows_http_to_public_hosts_and_to_the_developers_own_machine() -> None:
    for url in (
        "http://hooks.example.org:8080/hook",
        "http://localhost:8000/hook",
        "http://127.0.0.1:8000/hook",
        "http://[::1]:8000/hook",
    ):
        assert check_push_url(url, production=False, resolve=dns()).startswith("http://")


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.5/hook",
        "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://rebind.example.com.lan/",
        "http://mixed.example.com/",
    ],
)
def test_development_still_refuses_the_private_network(url: str) -> None:
    refused(url, production=False)


def test_loopback_is_refused_in_production() -> None:
    for url in ("https://localhost/", "https://127.0.0.1/", "https://[::1]/", "https://rebind.example.com/"):
        refused(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://user:secret@hooks.example.org/",
        "https://hooks.example.org@evil.example/",
        "https://@hooks.example.org/",
    ],
)
def test_a_url_with_a_user_name_or_password_is_refused(url: str) -> None:
    assert "user name or password" in refused(url, resolve=dns(evil_example=[PUBLIC_V4]))


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "127.0.0.1",
        "127.255.255.254",
        "169.254.169.254",
        "0.0.0.0",  # noqa: S104 (a URL host to refuse, not a bind address)
        "100.64.0.1",
        "100.127.255.254",
        "224.0.0.251",
        "239.255.255.250",
        "255.255.255.255",
        "240.0.0.1",
        "192.0.2.10",
        "198.18.0.1",
        "[::1]",
        "[::]",
        "[fe80::1]",
        "[fc00::1]",
        "[fd12:3456:789a::1]",
        "[fec0::1]",
        "[ff02::1]",
        "[::ffff:127.0.0.1]",
        "[::ffff:10.0.0.1]",
        "[::ffff:169.254.169.254]",
        "[2002:7f00:1::1]",
        "[2002:c0a8:101::1]",
        "[64:ff9b::a00:1]",
        "[2001:0:4136:e378:8000:63bf:3fff:fdd2]",
        "[2001:db8::1]",
        "[::127.0.0.1]",
    ],
)
def test_a_private_loopback_link_local_multicast_or_reserved_address_is_refused(address: str) -> None:
    assert "private, local or reserved" in refused(f"https://{address}/hook")


def test_a_public_address_literal_is_accepted() -> None:
    assert (
        check_push_url(f"https://{PUBLIC_V4}/hook", production=True, resolve=dns())
        == f"https://{PUBLIC_V4}/hook"
    )
    assert check_push_url(f"https://[{PUBLIC_V6}]/hook", production=True, resolve=dns()) == (
        f"https://[{PUBLIC_V6}]/hook"
    )


@pytest.mark.parametrize(
    "host",
    [
        "2130706433",
        "0x7f.1",
        "0x7f000001",
        "0177.0.0.1",
        "017700000001",
        "127.1",
        "127.0.1",
        "0x7f.0x0.0x0.0x1",
        "127.0.0.1.",
        "1.2.3.4.5",
        "3232235777",
        "00000000000000000000000000000000000127.0.0.1",
    ],
)
@pytest.mark.parametrize("production", [True, False])
def test_an_address_written_as_a_disguised_number_is_refused(host: str, production: bool) -> None:
    scheme = "https" if production else "http"
    assert "unusual form" in refused(f"{scheme}://{host}/", production=production)


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "LOCALHOST.",
        "api.localhost",
        "printer.local",
        "db.localdomain",
        "metadata.google.internal",
        "metadata",
        "instance-data",
        "router.lan",
        "nas.home.arpa",
        "wiki.intranet",
        "1.0.0.127.in-addr.arpa",
        "intranet",
    ],
)
def test_local_and_internal_host_names_are_refused(host: str) -> None:
    refused(f"https://{host}/hook", resolve=dns(**{host.replace(".", "_"): [PUBLIC_V4]}))


@pytest.mark.parametrize(
    "host",
    [
        "rebind.example.com",
        "mixed.example.com",
        "metadata-proxy.example.com",
        "mapped.example.com",
        "cgnat.example.com",
        "ula.example.com",
    ],
)
def test_a_host_that_resolves_to_any_private_address_is_refused(host: str) -> None:
    assert "resolves to a private" in refused(f"https://{host}/hook")


def test_a_host_that_does_not_resolve_is_refused() -> None:
    assert "could not be found" in refused("https://nowhere.example.net/hook")
    assert "could not be found" in refused("https://empty.example.com/hook")


def test_an_ipv6_answer_with_a_scope_is_refused() -> None:
    def scoped(host: str, port: int, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("2606:2800:220:1::1", port, 0, 2))]

    refused("https://hooks.example.org/", resolve=scoped)


def test_production_pushes_only_to_port_443() -> None:
    assert "443" in refused("https://hooks.example.org:8443/hook")
    assert "443" in refused("https://hooks.example.org:22/")
    assert check_push_url("http://hooks.example.org:8443/", production=False, resolve=dns()) == (
        "http://hooks.example.org:8443/"
    )


@pytest.mark.parametrize(
    "url",
    [
        "",
        "hooks.example.org/hook",
        "ftp://hooks.example.org/",
        "file:///etc/passwd",
        "gopher://hooks.example.org:70/",
        "javascript:alert(1)",
        "https:///hook",
        "https://hooks.example.org:99999/",
        "https://hooks.example.org:0/",
        "https://hooks.example.org/hook#top",
        "https://hooks.example.org/hook#",
        "https://hooks.example.org\\@evil.example/",
        "https://hooks.example.org/ hook",
        "https://hooks.example.org/\r\nHost: evil",
        "https://hooks_example.org/",
        "https://hooks.example.org%2F@evil/",
        "https://[fe80::1%25eth0]/",
        "https://[not-an-address]/",
        "https://" + "a" * 2050 + ".example.org/",
    ],
)
def test_urls_that_parsers_read_differently_or_that_are_not_urls_are_refused(url: str) -> None:
    refused(url)


def test_refusals_are_translated_sentences_for_the_admin() -> None:
    with pytest.raises(Refused) as caught:
        check_push_url("http://hooks.example.org/", production=True, resolve=dns())
    assert str(caught.value.message) == "The push URL must start with https://."
    assert str(caught.value) == "The push URL must start with https://."


# --------------------------------------------------------------------------
# DNS rebinding: checked again at connect time, and pinned
# --------------------------------------------------------------------------


def test_pinned_address_is_the_checked_address_to_connect_to() -> None:
    assert pinned_address("https://hooks.example.org/hook", dns()) == PUBLIC_V4
    assert pinned_address(f"https://[{PUBLIC_V6}]/hook", dns()) == PUBLIC_V6


def test_a_partner_host_that_rebinds_to_the_metadata_address_after_saving_is_refused_at_connect_time() -> (
    None
):
    resolver = dns(partner_example_net=[PUBLIC_V4])
    url = check_push_url("https://partner.example.net/hook", production=True, resolve=resolver)
    resolver.table["partner.example.net"] = ["169.254.169.254"]
    with pytest.raises(Refused):
        pinned_address(url, resolver)
    assert resolver.asked == [("partner.example.net", 443), ("partner.example.net", 443)]


def test_pinned_address_follows_the_development_rules_when_asked() -> None:
    assert pinned_address("http://localhost:8000/", dns(), production=False) in ("127.0.0.1", "::1")
    with pytest.raises(Refused):
        pinned_address("http://localhost:8000/", dns())
