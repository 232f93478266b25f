"""Is this webhook really from Twilio?  ``X-Twilio-Signature``, checked.

Twilio signs the full URL it requested plus the POSTed form fields with the
account's auth token (``twilio.request_validator.RequestValidator`` does the
arithmetic; this module decides *what* to check).  Behind a reverse proxy
the request's own scheme and host are the proxy's view ("http://10.0.0.5:8000"),
not what Twilio called, and a ``Host`` or ``X-Forwarded-*`` header is
whatever the sender chose, so neither is trusted: the URL is rebuilt from
the configured public base URL (``ADVOCACY_PUBLIC_BASE_URL``, which
includes any path prefix the app is mounted under) plus the request's path
and raw query string.

Only form-encoded POSTs are accepted: status callbacks and inbound
messages are always that, and a JSON body would be signed differently
(``bodySHA256``).  Several tokens may be given, newest first, so a token
rotation (Twilio's secondary auth token) does not drop webhooks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from twilio.request_validator import (
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)
from werkzeug.wrappers import Request

FORM = "application/x-www-form-urlencoded"


def webhook_url(public_base_url: str, path: str, query_string: str | bytes = b"") -> str:
    """The URL Twilio requested, as it signed it: the public base, the path
    the app routed, and the query string exactly as it arrived."""
    if isinstance(query_string, bytes):
        query_string = query_string.decode("latin-1")
    url = public_base_url.rstrip("/") + "/" + path.lstrip("/")
    return f"{url}?{query_string}" if query_string else url


def is_valid_signature(
    auth_tokens: str | Sequence[str],
    url: str,
    params: Mapping[str, Any],
    signature: str | None,
    *,
    signature_settings: str | None = None,
) -> bool:
    """Whether ``signature`` signs ``url`` and ``params`` with one of the tokens.

    ``params`` may be a werkzeug ``MultiDict`` (repeated fields are signed
    one by one).  ``signature_settings`` is the
    ``X-Twilio-Webhooks-Signature-Settings`` header, which names the
    algorithm when Twilio signs with a shared key; without it, HMAC-SHA1.
    """
    if not signature:
        return False
    tokens = [auth_tokens] if isinstance(auth_tokens, str) else list(auth_tokens)
    algorithm = get_signature_algorithm(signature_settings)
    return any(
        RequestValidator(token).validate(url, params, signature, algorithm) for token in tokens if token
    )


def request_is_from_twilio(
    request: Request, *, auth_tokens: str | Sequence[str], public_base_url: str
) -> bool:
    """The check a webhook view makes before reading anything else: False
    means answer 403 and change nothing."""
    if request.method != "POST" or request.mimetype != FORM:
        return False
    url = webhook_url(public_base_url, request.path, request.query_string)
    return is_valid_signature(
        auth_tokens,
        url,
        request.form,
        request.headers.get(SIGNATURE_HEADER),
        signature_settings=request.headers.get(SIGNATURE_SETTINGS_HEADER),
    )
