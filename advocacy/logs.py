"""Structured logs that carry no personal data and no secrets.

Only the fields named in :data:`ALLOWED_FIELDS` leave a log record; anything
else a caller attaches is dropped, so adding ``extra={"phone": ...}`` by
mistake cannot leak.  Werkzeug's access log (which prints client IPs and query
strings) is silenced in favour of :func:`advocacy.security.log_request`.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

ALLOWED_FIELDS = (
    "request_id",
    "method",
    "endpoint",
    "status",
    "duration_ms",
    "user_id",
    "actor_id",
    "action",
    "object_type",
    "count",
    "command",
)


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage() if not record.args else record.msg,
        }
        for name in ALLOWED_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info and record.exc_info[0] is not None:
            # Type and traceback lines only; exception messages can carry values.
            entry["error"] = record.exc_info[0].__name__
            entry["trace"] = self.formatStack(_frames(record))
        return json.dumps(entry, ensure_ascii=False)


def _frames(record: logging.LogRecord) -> str:
    import traceback

    _type, _value, tb = record.exc_info or (None, None, None)
    return "".join(traceback.format_tb(tb)) if tb else ""


def configure_logging(level: str) -> None:
    root = logging.getLogger("advocacy")
    if not any(isinstance(h.formatter, JSONFormatter) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JSONFormatter())
        root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
