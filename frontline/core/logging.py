"""Log records carry the request id; in production they are JSON, one object per line.

``LOG_FORMAT=json`` (the production default) writes each record as one JSON object:
``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message``, ``request_id`` and, for
the request log (``frontline.request``), ``method``, ``path``, ``route``, ``status``,
``duration_ms`` and ``user_id``. Only the fields named here are written: a record's
other attributes (a request object, headers) never reach the log. ``LOG_FORMAT=text``
keeps the one-line human format.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

# Extra attributes a record may carry that the JSON line includes (an allowlist).
EXTRA_FIELDS = (
    "method",
    "path",
    "route",
    "status",
    "duration_ms",
    "user_id",
    "task",
    "task_id",
)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log shippers (Vector, Fluent Bit, Loki, Elastic…)."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id_var.get(),
        }
        for name in EXTRA_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def logging_config(*, log_format: str, level: str) -> dict:
    """The LOGGING setting for ``log_format`` json or text (see settings.py)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "frontline.core.logging.RequestIdFilter"}},
        "formatters": {
            "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
            "json": {"()": "frontline.core.logging.JsonFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                "filters": ["request_id"],
            },
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            # In JSON, our request log (with the request id and route) replaces runserver's.
            **({"django.server": {"level": "WARNING"}} if log_format == "json" else {}),
            # axes logs every sign-in at INFO; failures and lockouts are WARNING.
            "axes": {"level": "WARNING"},
        },
    }
