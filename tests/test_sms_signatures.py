"""Webhooks are believed only when Twilio signed them for our public URL."""

from __future__ import annotations

import pytest
from twilio.request_validator import HMAC_SHA256, RequestValidator
from werkzeug.datastructures import MultiDict
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from advocacy.notify.signatures import is_valid_signature, request_is_from_twilio, webhook_url

TOKEN = "test-auth-token-0123456789abcdef"
PUBLIC = "https://advocacy.example.org"
STATUS = {
    "MessageSid": "SM" + "a" * 32,
    "MessageStatus": "delivered",
    "AccountSid": "AC" + "0" * 32,
    "To": "+16125550100",
}


def sign(url: str, params, token: str = TOKEN, algorithm: str | None = None) -> str:
    return RequestValidator(token).compute_signature(url, params, algorithm)


def webhook(
    path="/notify/twilio/status",
    query="",
    form=None,
    signature=None,
    *,
    internal="http://10.0.0.5:8000",
    content_type="application/x-www-form-urlencoded",
    method="POST",
    headers=None,
):
    """The request as the app behind the proxy sees it: the proxy's address."""
    form = STATUS if form is None else form
    all_headers = dict(headers or {})
    if signature is not None:
        all_headers["X-Twilio-Signature"] = signature
    if content_type == "application/x-www-form-urlencoded":
        builder = EnvironBuilder(
            method=method, base_url=internal, path=path, query_string=query, data=form, headers=all_headers
        )
    else:
        builder = EnvironBuilder(
            method=method,
            base_url=internal,
            path=path,
            query_string=query,
            data="{}",
            content_type=content_type,
            headers=all_headers,
        )
    return Request(builder.get_environ())


def check(request, tokens=TOKEN):
    return request_is_from_twilio(request, auth_tokens=tokens, public_base_url=PUBLIC)


def test_a_callback_signed_for_the_public_url_is_accepted():
    url = f"{PUBLIC}/notify/twilio/status"
    assert check(webhook(signature=sign(url, STATUS)))


def test_a_bad_signature_is_refused():
    url = f"{PUBLIC}/notify/twilio/status"
    good = sign(url, STATUS)
    bad = ("A" if good[0] != "A" else "B") + good[1:]
    assert not check(webhook(signature=bad))


def test_a_missing_signature_is_refused():
    assert not check(webhook(signature=None))
    assert not check(webhook(signature=""))


def test_a_signature_for_another_url_is_refused():
    assert not check(webhook(signature=sign(f"{PUBLIC}/notify/twilio/inbound", STATUS)))
    assert not check(webhook(signature=sign("https://evil.example.net/notify/twilio/status", STATUS)))


def test_the_request_host_behind_the_proxy_is_not_trusted():
    # Signed for the address the app sees (or a forged Host header): refused,
    # because Twilio never called that address.
    internal_url = "http://10.0.0.5:8000/notify/twilio/status"
    assert not check(webhook(signature=sign(internal_url, STATUS)))
    forged = webhook(
        signature=sign("https://attacker.example/notify/twilio/status", STATUS),
        headers={"Host": "attacker.example", "X-Forwarded-Host": "attacker.example"},
    )
    assert not check(forged)


def test_a_changed_field_breaks_the_signature():
    url = f"{PUBLIC}/notify/twilio/status"
    signature = sign(url, STATUS)
    assert not check(webhook(form={**STATUS, "MessageStatus": "failed"}, signature=signature))
    assert not check(webhook(form={**STATUS, "ErrorCode": "30006"}, signature=signature))


def test_the_query_string_is_part_of_what_is_signed():
    url = f"{PUBLIC}/notify/twilio/status?agency=3&kind=reminder"
    assert check(webhook(query="agency=3&kind=reminder", signature=sign(url, STATUS)))
    assert not check(webhook(query="agency=4&kind=reminder", signature=sign(url, STATUS)))


def test_a_public_url_with_a_path_prefix_and_port():
    request = webhook(signature=sign("https://example.org:8443/advocacy/notify/twilio/status", STATUS))
    assert request_is_from_twilio(
        request, auth_tokens=TOKEN, public_base_url="https://example.org:8443/advocacy/"
    )


def test_twilio_signing_with_or_without_the_default_port_both_pass():
    # The validator accepts both forms, since Twilio's own signing varies.
    assert check(webhook(signature=sign("https://advocacy.example.org:443/notify/twilio/status", STATUS)))


def test_repeated_fields_are_signed_one_by_one():
    form = MultiDict([("Body", "C"), ("From", "+16125550100"), ("MediaUrl", "b"), ("MediaUrl", "a")])
    url = f"{PUBLIC}/notify/twilio/inbound"
    signature = sign(url, form)
    assert check(webhook(path="/notify/twilio/inbound", form=form, signature=signature))
    fewer = MultiDict([("Body", "C"), ("From", "+16125550100"), ("MediaUrl", "b")])
    assert not check(webhook(path="/notify/twilio/inbound", form=fewer, signature=signature))


def test_a_rotated_token_still_validates_during_the_overlap():
    url = f"{PUBLIC}/notify/twilio/status"
    old_signature = sign(url, STATUS, token="old-token-aaaaaaaaaaaaaaaaaaaaaaa")
    assert check(webhook(signature=old_signature), tokens=[TOKEN, "old-token-aaaaaaaaaaaaaaaaaaaaaaa"])
    assert not check(webhook(signature=old_signature), tokens=[TOKEN])


def test_a_shared_key_signature_uses_the_algorithm_twilio_names():
    url = f"{PUBLIC}/notify/twilio/status"
    signature = sign(url, STATUS, algorithm=HMAC_SHA256)
    settings = {"X-Twilio-Webhooks-Signature-Settings": "key=webhooks_sharedkey_1,algorithm=HMAC_SHA256"}
    assert check(webhook(signature=signature, headers=settings))
    assert not check(webhook(signature=signature))  # read as SHA-1 without the header


@pytest.mark.parametrize(
    "request_",
    [
        pytest.param(lambda s: webhook(method="GET", signature=s), id="GET"),
        pytest.param(lambda s: webhook(content_type="application/json", signature=s), id="JSON"),
    ],
)
def test_only_form_posts_are_accepted(request_):
    url = f"{PUBLIC}/notify/twilio/status"
    assert not check(request_(sign(url, STATUS)))


def test_no_token_validates_nothing():
    url = f"{PUBLIC}/notify/twilio/status"
    assert not check(webhook(signature=sign(url, STATUS, token="x")), tokens=[""])
    assert not is_valid_signature([], url, STATUS, sign(url, STATUS))


@pytest.mark.parametrize(
    ("base", "path", "query", "url"),
    [
        ("https://a.org", "/notify/s", b"", "https://a.org/notify/s"),
        ("https://a.org/", "/notify/s", b"x=1", "https://a.org/notify/s?x=1"),
        ("https://a.org/app", "notify/s", "x=%2B1", "https://a.org/app/notify/s?x=%2B1"),
    ],
)
def test_webhook_url_joins_the_public_base_and_the_raw_query(base, path, query, url):
    assert webhook_url(base, path, query) == url
