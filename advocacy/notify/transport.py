"""The one way a text leaves the app: a :class:`Sender`, console or Twilio.

The worker (later) hands a sender a number, a body and the Twilio options,
and gets back a :class:`SendResult` whose ``outcome`` says what to do with
the reminder row.  The outcomes are chosen for what may be done next, not
for what went wrong:

=================  ===========================================================
``sent``           Twilio accepted it; the SID is known.  Wait for callbacks.
``opted_out``      21610: the number replied STOP.  End the subscription.
``invalid_number`` 21211, 21614: not a number Twilio can text.  End it.
``rate_limited``   20429 or HTTP 429.  Retry with backoff (``retry_after``).
``server_error``   HTTP 5xx.  Retry with backoff.
``not_sent``       The connection was never made (refused, DNS, connect
                   timeout): Twilio cannot have the message.  Retry with
                   backoff.
``unknown``        A timeout or a broken connection after the request may
                   have reached Twilio, or an unreadable answer: the text may
                   have been sent.  Never resend blindly: :func:`reconcile`.
``failed``         Any other 4xx (``error_code`` says which).  Not retried.
=================  ===========================================================

Twilio's own message (``exc.msg``) is never kept: it repeats the number
("The 'To' number +1612... is not valid").  Neither sender logs a number or
a body; the console sender logs a message id and a segment count.

Threads: a ``twilio.rest.Client`` is not thread-safe (its ``requests``
session and the HTTP client's last-request slots are shared, unguarded
state), so a :class:`TwilioSender` belongs to the thread that made it and
refuses to be used from another.  A worker builds one per thread.

What the real HTTP client raises: ``TwilioHttpClient`` lets the
``requests`` exceptions through (``ConnectTimeout``, ``ReadTimeout``,
``ConnectionError``) and ``Client`` does not wrap them; an HTTP error
status becomes ``TwilioRestException`` (or ``TwilioServiceException`` for
an RFC 9457 body), with ``status`` and ``code``.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any, Protocol

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client
from urllib3.exceptions import MaxRetryError, NewConnectionError

from advocacy import clock
from advocacy.notify.segments import SegmentInfo, measure

log = logging.getLogger(__name__)

#: Twilio's ValidityPeriod range, in seconds (error 90007 outside it).
MIN_VALIDITY = 1
MAX_VALIDITY = 36_000
#: How long one API call may take before it is abandoned (and ``unknown``).
DEFAULT_TIMEOUT = 10.0

# The twilio library logs each request's URL and query parameters at INFO:
# for the Messages list that is the victim's number.  Its HTTP client logs
# to this logger instead, which lets nothing below WARNING through.
_QUIET = logging.getLogger("advocacy.notify.twilio_http")
_QUIET.setLevel(logging.WARNING)


class Outcome(StrEnum):
    SENT = "sent"
    OPTED_OUT = "opted_out"
    INVALID_NUMBER = "invalid_number"
    RATE_LIMITED = "rate_limited"
    SERVER_ERROR = "server_error"
    NOT_SENT = "not_sent"
    UNKNOWN = "unknown"
    FAILED = "failed"

    @property
    def retry(self) -> bool:
        """Whether the same message may be sent again later (with backoff)."""
        return self in (Outcome.RATE_LIMITED, Outcome.SERVER_ERROR, Outcome.NOT_SENT)


OPTED_OUT_CODES = frozenset({21610})
INVALID_NUMBER_CODES = frozenset({21211, 21614})
RATE_LIMIT_CODES = frozenset({20429})


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    sid: str | None = None
    #: Twilio's message status when accepted ("queued", "accepted"...).
    status: str | None = None
    #: Twilio's error code (or the HTTP status when Twilio gave none).
    error_code: int | None = None
    #: Seconds Twilio asked us to wait (Retry-After), when it said.
    retry_after: float | None = None


class Sender(Protocol):
    """What the worker sends through.  Exactly one of
    ``messaging_service_sid`` (production: the agency's Messaging Service)
    and ``from_number`` (a development account) is given."""

    def send(
        self,
        to: str,
        body: str,
        *,
        status_callback: str | None = None,
        validity_seconds: int | None = None,
        messaging_service_sid: str | None = None,
        from_number: str | None = None,
    ) -> SendResult: ...


def check_send_arguments(
    to: str,
    body: str,
    *,
    validity_seconds: int | None,
    messaging_service_sid: str | None,
    from_number: str | None,
) -> None:
    """Programming errors, refused before anything is sent (``ValueError``)."""
    if not to.startswith("+") or not to[1:].isdigit():
        raise ValueError("send to an E.164 number")
    if not body:
        raise ValueError("an SMS needs a body")
    if bool(messaging_service_sid) == bool(from_number):
        raise ValueError("give exactly one of messaging_service_sid and from_number")
    if validity_seconds is not None and not MIN_VALIDITY <= validity_seconds <= MAX_VALIDITY:
        raise ValueError(f"validity_seconds must be {MIN_VALIDITY} to {MAX_VALIDITY}")


# --- Console --------------------------------------------------------------------


@dataclass(frozen=True)
class ConsoleMessage:
    """A text the console sender "sent", for the staff outbox page."""

    sid: str
    to: str = field(repr=False)
    body: str = field(repr=False)
    info: SegmentInfo
    created_at: datetime
    status_callback: str | None = None
    validity_seconds: int | None = None
    messaging_service_sid: str | None = None
    from_number: str | None = None


def fake_sid() -> str:
    """A Message SID of Twilio's shape: "SM" and 32 hexadecimal digits."""
    return "SM" + secrets.token_hex(16)


class ConsoleSender:
    """Sends nothing: keeps each message in :attr:`outbox` (the development
    outbox page reads it) and logs one line with its id and segment count."""

    def __init__(self, outbox: list[ConsoleMessage] | None = None) -> None:
        self.outbox: list[ConsoleMessage] = outbox if outbox is not None else []
        self._lock = threading.Lock()

    def send(
        self,
        to: str,
        body: str,
        *,
        status_callback: str | None = None,
        validity_seconds: int | None = None,
        messaging_service_sid: str | None = None,
        from_number: str | None = None,
    ) -> SendResult:
        check_send_arguments(
            to,
            body,
            validity_seconds=validity_seconds,
            messaging_service_sid=messaging_service_sid,
            from_number=from_number,
        )
        message = ConsoleMessage(
            sid=fake_sid(),
            to=to,
            body=body,
            info=measure(body),
            created_at=clock.now(),
            status_callback=status_callback,
            validity_seconds=validity_seconds,
            messaging_service_sid=messaging_service_sid,
            from_number=from_number,
        )
        with self._lock:
            self.outbox.append(message)
        log.info(
            f"console SMS {message.sid}: {message.info.segments} segment(s)",
            extra={"action": "sms.console", "count": message.info.segments},
        )
        return SendResult(Outcome.SENT, sid=message.sid, status="queued")


# --- Twilio ---------------------------------------------------------------------


class SlotMissed(Exception):
    """Raised before a request leaves when the sender's rate slot has passed:
    nothing was sent, so the text may be sent in a later slot."""


class _KeepsLastResponse(HttpClient):
    """Delegates to the real HTTP client and keeps the last response, whose
    headers (Retry-After) a ``TwilioRestException`` does not carry.  With
    ``not_after`` set (epoch seconds), a request that would start later
    raises :class:`SlotMissed` instead: the last moment before the network,
    after the library's own work, is where the rate's slot is checked."""

    def __init__(self, inner: HttpClient) -> None:
        super().__init__(inner.logger, False, inner.timeout)
        self.inner = inner
        self.last: Response | None = None
        self.not_after: float | None = None

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
        self.last = None
        if self.not_after is not None and clock.wall_seconds() > self.not_after:
            raise SlotMissed
        self.last = self.inner.request(
            method,
            uri,
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )
        return self.last


def make_client(
    account_sid: str,
    auth_token: str,
    *,
    http_client: HttpClient | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Client:
    """A ``twilio.rest.Client`` that cannot hang forever and logs no number.

    Without ``http_client`` it is Twilio's own, with a timeout (the
    library's default is none) and a logger that drops its INFO lines.
    """
    if not account_sid or not auth_token:
        raise ValueError("a Twilio client needs an account SID and an auth token")
    http = http_client or TwilioHttpClient(timeout=timeout, logger=_QUIET)
    return Client(account_sid, auth_token, http_client=http)


def _retry_after(response: Response | None) -> float | None:
    if response is None or not response.headers:
        return None
    headers = {str(k).lower(): v for k, v in dict(response.headers).items()}
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(str(value))
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - clock.now()).total_seconds())


def classify_error(status: int, code: int | None, retry_after: float | None = None) -> SendResult:
    """The outcome of an HTTP error answer to a create request."""
    if code in OPTED_OUT_CODES:
        return SendResult(Outcome.OPTED_OUT, error_code=code)
    if code in INVALID_NUMBER_CODES:
        return SendResult(Outcome.INVALID_NUMBER, error_code=code)
    if code in RATE_LIMIT_CODES or status == 429:
        return SendResult(Outcome.RATE_LIMITED, error_code=code or status, retry_after=retry_after)
    if status >= 500:
        return SendResult(Outcome.SERVER_ERROR, error_code=code or status, retry_after=retry_after)
    return SendResult(Outcome.FAILED, error_code=code or status)


def _never_connected(exc: BaseException) -> bool:
    """True only when the request certainly never left: a connect timeout, or
    a connection that could not be opened (refused, no route, DNS)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if not isinstance(exc, requests.exceptions.ConnectionError):
        return False
    for arg in exc.args:
        reason = arg.reason if isinstance(arg, MaxRetryError) else arg
        if isinstance(reason, NewConnectionError):
            return True
    return False


class TwilioSender:
    """Sends through ``twilio.rest.Client``; one per thread (see the module)."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        http_client: HttpClient | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        inner = http_client or TwilioHttpClient(timeout=timeout, logger=_QUIET)
        self._http = _KeepsLastResponse(inner)
        self.client = make_client(account_sid, auth_token, http_client=self._http)
        self._thread = threading.get_ident()

    def send(
        self,
        to: str,
        body: str,
        *,
        status_callback: str | None = None,
        validity_seconds: int | None = None,
        messaging_service_sid: str | None = None,
        from_number: str | None = None,
        not_after: float | None = None,
    ) -> SendResult:
        """One Messages create.  ``not_after``: see :class:`SlotMissed` (raised
        through, nothing sent)."""
        if threading.get_ident() != self._thread:
            raise RuntimeError("a TwilioSender is used only by the thread that created it")
        check_send_arguments(
            to,
            body,
            validity_seconds=validity_seconds,
            messaging_service_sid=messaging_service_sid,
            from_number=from_number,
        )
        options: dict[str, Any] = {"to": to, "body": body}
        if messaging_service_sid:
            options["messaging_service_sid"] = messaging_service_sid
        else:
            options["from_"] = from_number
        if status_callback:
            options["status_callback"] = status_callback
        if validity_seconds is not None:
            options["validity_period"] = validity_seconds
        self._http.not_after = not_after
        try:
            message = self.client.messages.create(**options)
        except (TwilioRestException, TwilioServiceException) as exc:
            return classify_error(int(exc.status), _int(exc.code), _retry_after(self._http.last))
        except requests.exceptions.RequestException as exc:
            return SendResult(Outcome.NOT_SENT if _never_connected(exc) else Outcome.UNKNOWN)
        except (TwilioException, OSError, ValueError):
            # An answer we cannot read (a 2xx without JSON, a proxy's page):
            # the message may exist.
            return SendResult(Outcome.UNKNOWN)
        finally:
            self._http.not_after = None
        if not message.sid:
            return SendResult(Outcome.UNKNOWN)
        return SendResult(Outcome.SENT, sid=message.sid, status=message.status)


def _int(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None


# --- Status callbacks -------------------------------------------------------------


class CallbackOutcome(StrEnum):
    """What a failed or undelivered status callback asks of the app."""

    #: 30003 (unreachable: phone off or out of coverage): retry once, later.
    RETRY_LATER = "retry_later"
    #: 30005 (unknown number), 30006 (landline or unreachable carrier), and
    #: 21211/21614 if they ever arrive here: end the subscription.
    INVALID_NUMBER = "invalid_number"
    #: 30007 (filtered by the carrier as spam): an advocate reviews the wording.
    FILTERED = "filtered"
    #: 21610: the number has opted out.
    OPTED_OUT = "opted_out"
    #: 30036: it waited in Twilio's queue past its validity period, which
    #: ends before the event: it will never arrive; call the victim.
    EXPIRED = "expired"
    #: Anything else: shown to the advocate with its code.
    FAILED = "failed"


_CALLBACK_CODES = {
    30003: CallbackOutcome.RETRY_LATER,
    30005: CallbackOutcome.INVALID_NUMBER,
    30006: CallbackOutcome.INVALID_NUMBER,
    21211: CallbackOutcome.INVALID_NUMBER,
    21614: CallbackOutcome.INVALID_NUMBER,
    30007: CallbackOutcome.FILTERED,
    21610: CallbackOutcome.OPTED_OUT,
    30036: CallbackOutcome.EXPIRED,
}


def classify_callback(error_code: int | str | None) -> CallbackOutcome:
    """The outcome of a status callback's ``ErrorCode`` (a form field, so a
    string; missing on an undelivered message is ``failed``)."""
    code = _int(error_code)
    return _CALLBACK_CODES.get(code, CallbackOutcome.FAILED) if code is not None else CallbackOutcome.FAILED


#: Twilio message statuses in the order they can happen; a callback never
#: moves a message to a lower rank (callbacks arrive out of order).
STATUS_RANK = {
    "accepted": 1,
    "scheduled": 1,
    "queued": 2,
    "sending": 3,
    "sent": 4,
    "delivered": 5,
    "undelivered": 5,
    "failed": 5,
    "canceled": 5,
    "read": 6,
}
FINAL_STATUSES = frozenset({"delivered", "undelivered", "failed", "canceled", "read"})


def furthest_status(current: str | None, incoming: str) -> str:
    """The status to keep when ``incoming`` arrives on top of ``current``."""
    if current is None:
        return incoming
    return incoming if STATUS_RANK.get(incoming, 0) > STATUS_RANK.get(current, 0) else current


# --- Reconciliation -----------------------------------------------------------------


@dataclass(frozen=True)
class SentMessage:
    """A message Twilio holds for a number, as the Messages list reports it."""

    sid: str
    status: str | None
    date_created: datetime | None
    date_sent: datetime | None
    error_code: int | None
    messaging_service_sid: str | None
    from_number: str | None
    to: str | None = field(repr=False)
    body: str | None = field(repr=False)


def reconcile(
    client: Client,
    to: str,
    since: datetime,
    *,
    messaging_service_sid: str | None = None,
    from_number: str | None = None,
    skew: timedelta = timedelta(minutes=2),
    limit: int = 200,
) -> list[SentMessage]:
    """The messages Twilio created for ``to`` since ``since`` (newest first),
    to resolve an ``unknown`` send without sending again.

    Filtered on ``To`` by Twilio and on the creation time here: Twilio's
    ``DateSent`` filter is by day and skips messages still queued (they
    have no send date yet), which are exactly the ones a crash leaves
    behind.  ``skew`` allows for the two clocks; ``limit`` bounds the pages
    read (Twilio lists newest first, 50 a page).  The caller matches the
    body or the time it recorded at the claim.
    """
    if since.tzinfo is None:
        raise ValueError("since must be an aware datetime")
    earliest = since - skew
    found: list[SentMessage] = []
    records: Iterable[Any] = client.messages.stream(to=to, limit=limit, page_size=min(limit, 50))
    for record in records:
        created = record.date_created
        if created is None or created < earliest:
            continue
        if messaging_service_sid and record.messaging_service_sid != messaging_service_sid:
            continue
        if from_number and record.from_ != from_number:
            continue
        found.append(
            SentMessage(
                sid=record.sid,
                status=record.status,
                date_created=created,
                date_sent=record.date_sent,
                error_code=record.error_code,
                messaging_service_sid=record.messaging_service_sid,
                from_number=record.from_,
                to=record.to,
                body=record.body,
            )
        )
    return found
