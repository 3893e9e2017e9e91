"""Structured logs: one JSON object a line on standard error, no secrets.

Each line has `time`, `level`, `event` and the event's fields. Fields are
chosen by the code that logs, never copied from a request: ids, the
workspace, stage, status, counts, durations, and fixed one-line reasons.
Never the access token, the HMAC key, a plan or callback URL (a pre-signed
archive URL is itself a credential) or a report path (its token is the
report's only protection). httpx logs each request's URL at INFO: its logger
is kept at WARNING.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import Any

LOGGER = "planguard.runtask"
log = logging.getLogger(LOGGER)


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "event": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            doc.update(fields)
        if record.name != LOGGER:
            doc["logger"] = record.name
        if record.exc_info and record.exc_info[0] is not None:
            # The type only: a message or traceback may quote a request.
            doc["exception"] = record.exc_info[0].__name__
        return json.dumps(doc, ensure_ascii=False, sort_keys=False, default=str)


def event(name: str, **fields: Any) -> None:
    """Log `name` with `fields` (values chosen by the caller: never a secret)."""
    log.info(name, extra={"fields": fields})


def warning(name: str, **fields: Any) -> None:
    log.warning(name, extra={"fields": fields})


def error(name: str, **fields: Any) -> None:
    log.error(name, extra={"fields": fields})


def setup(stream: Any = None) -> logging.Handler:
    """JSON lines for planguard's and uvicorn's loggers; httpx's request lines off."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonLines())
    for name in (LOGGER, "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(logging.INFO)
        logger.propagate = False
    for name in ("httpx", "httpcore", "uvicorn.access"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return handler
