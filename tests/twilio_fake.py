"""A Twilio that lives in the test: an ``HttpClient`` for the real client.

Tests build the real ``twilio.rest.Client`` (through
:class:`advocacy.notify.transport.TwilioSender` or ``make_client``) with a
:class:`RecordingHttpClient`, so everything the library does (URLs, form
encoding, error parsing, paging) runs for real; only the network is
replaced.  The client records every request with its time, and answers
with the responses a test queued, or from a function of the request; a
queued exception is raised, the way ``TwilioHttpClient`` lets the
``requests`` exceptions through.

The JSON shapes follow the 2010-04-01 API as the library parses it
(``twilio/rest/api/v2010/account/message/__init__.py`` and
``twilio/base/page.py``).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlencode

import requests
from twilio.http import HttpClient
from twilio.http.response import Response
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)

ACCOUNT_SID = "AC" + "0" * 31 + "1"
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
SERVICE_SID = "MG" + "0" * 31 + "2"
FROM_NUMBER = "+16125550150"
API = "https://api.twilio.com/2010-04-01"
MESSAGES_URL = f"{API}/Accounts/{ACCOUNT_SID}/Messages.json"


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    url: str
    params: dict[str, Any]
    data: dict[str, Any]
    headers: dict[str, str]
    auth: tuple[str, str] | None
    timeout: float | None
    #: ``time.monotonic()`` when the request arrived (for rate tests).
    at: float
    #: Wall-clock time of arrival, UTC.
    wall: datetime


Reply = Response | BaseException
Responder = Callable[[RecordedRequest], Reply]


class RecordingHttpClient(HttpClient):
    """Records requests; answers from a queue of replies or a responder.

    ``latency`` seconds are slept before each answer (a slow Twilio).
    Thread-safe, so several workers may share one in a test (each with its
    own ``Client``).
    """

    def __init__(
        self,
        replies: Iterable[Reply] = (),
        *,
        responder: Responder | None = None,
        latency: float = 0.0,
    ) -> None:
        super().__init__(logger=None, is_async=False, timeout=None)  # type: ignore[arg-type]
        self.replies: deque[Reply] = deque(replies)
        self.responder = responder
        self.latency = latency
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()

    def queue(self, *replies: Reply) -> RecordingHttpClient:
        with self._lock:
            self.replies.extend(replies)
        return self

    def request(
        self,
        method: str,
        uri: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        recorded = RecordedRequest(
            method=method.upper(),
            url=uri,
            params=dict(params or {}),
            data=dict(data or {}),
            headers=dict(headers or {}),
            auth=auth,
            timeout=timeout,
            at=time.monotonic(),
            wall=datetime.now(UTC),
        )
        with self._lock:
            self.requests.append(recorded)
            reply: Reply | None = self.replies.popleft() if self.replies else None
        if reply is None:
            if self.responder is None:
                raise AssertionError(f"unexpected request {method} {uri}: nothing queued")
            reply = self.responder(recorded)
        if self.latency:
            time.sleep(self.latency)
        if isinstance(reply, BaseException):
            raise reply
        return reply

    @property
    def last(self) -> RecordedRequest:
        return self.requests[-1]


# --- Responses ------------------------------------------------------------------


def rfc2822(at: datetime) -> str:
    return format_datetime(at.astimezone(UTC), usegmt=False).replace("-0000", "+0000")


def message_json(
    *,
    sid: str = "SM" + "a" * 32,
    to: str = "+16125550100",
    body: str = "Reminder: your appointment is Tue 3 Dec at 9:00 AM. Reply C to confirm.",
    status: str = "queued",
    created: datetime | None = None,
    sent: datetime | None = None,
    error_code: int | None = None,
    messaging_service_sid: str | None = SERVICE_SID,
    from_number: str | None = None,
) -> dict[str, Any]:
    created = created or datetime.now(UTC)
    return {
        "account_sid": ACCOUNT_SID,
        "api_version": "2010-04-01",
        "body": body,
        "date_created": rfc2822(created),
        "date_sent": rfc2822(sent) if sent else None,
        "date_updated": rfc2822(created),
        "direction": "outbound-api",
        "error_code": error_code,
        "error_message": None,
        "from": from_number,
        "messaging_service_sid": messaging_service_sid,
        "num_media": "0",
        "num_segments": "0" if messaging_service_sid else "1",
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": status,
        "subresource_uris": {"media": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}/Media.json"},
        "to": to,
        "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json",
    }


def created(**fields: Any) -> Response:
    """201 Created, as Twilio answers a successful Messages create."""
    return Response(201, json.dumps(message_json(**fields)), {"Content-Type": "application/json"})


def error(
    status: int, code: int | None, message: str = "error", headers: dict[str, str] | None = None
) -> Response:
    """Twilio's legacy error body: code, message, more_info, status."""
    body: dict[str, Any] = {"message": message, "more_info": "", "status": status}
    if code is not None:
        body["code"] = code
        body["more_info"] = f"https://www.twilio.com/docs/errors/{code}"
    return Response(status, json.dumps(body), {"Content-Type": "application/json", **(headers or {})})


def problem(status: int, code: int, title: str = "Problem") -> Response:
    """An RFC 9457 problem body (newer Twilio APIs)."""
    body = {
        "type": f"https://www.twilio.com/docs/errors/{code}",
        "title": title,
        "status": status,
        "code": code,
    }
    return Response(status, json.dumps(body), {"Content-Type": "application/problem+json"})


def message_page(
    messages: list[dict[str, Any]],
    *,
    to: str,
    page: int = 0,
    page_size: int = 50,
    next_page_uri: str | None = None,
) -> Response:
    """A page of the Messages list: records under "messages", paging keys beside."""
    base = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    query = urlencode({"To": to, "PageSize": page_size})
    body = {
        "messages": messages,
        "end": page * page_size + max(len(messages) - 1, 0),
        "first_page_uri": f"{base}?{query}&Page=0",
        "next_page_uri": next_page_uri,
        "page": page,
        "page_size": page_size,
        "previous_page_uri": f"{base}?{query}&Page={page - 1}" if page else None,
        "start": page * page_size,
        "uri": f"{base}?{query}&Page={page}",
    }
    return Response(200, json.dumps(body), {"Content-Type": "application/json"})


# --- Network failures, as requests raises them ------------------------------------


def read_timeout() -> requests.exceptions.ReadTimeout:
    """The request went out; no answer in time (it may have been sent).
    Built as requests' adapter builds it, around urllib3's error."""
    return requests.exceptions.ReadTimeout(
        ReadTimeoutError(None, "/", "Read timed out. (read timeout=10.0)")  # type: ignore[arg-type]
    )


def connect_timeout() -> requests.exceptions.ConnectTimeout:
    """The connection was never made."""
    reason = ConnectTimeoutError(None, "Connection to api.twilio.com timed out. (connect timeout=10.0)")
    return requests.exceptions.ConnectTimeout(MaxRetryError(None, "/", reason))  # type: ignore[arg-type]


def connection_refused() -> requests.exceptions.ConnectionError:
    reason = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")  # type: ignore[arg-type]
    return requests.exceptions.ConnectionError(MaxRetryError(None, "/", reason))  # type: ignore[arg-type]


def connection_dropped() -> requests.exceptions.ConnectionError:
    """Twilio closed the connection after reading the request: maybe sent."""
    reason = ProtocolError("Connection aborted.", ConnectionResetError(104, "Connection reset by peer"))
    return requests.exceptions.ConnectionError(reason)
