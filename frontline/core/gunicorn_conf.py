"""gunicorn settings for ``frontline serve`` in production (``--config python:…``).

Command-line flags (bind, workers) win over these. Imports nothing from Django.
"""

from __future__ import annotations

import os

from frontline.core.logging import logging_config

# gunicorn's own lines (worker boot, timeouts) in the same format as the application's.
logconfig_dict = logging_config(
    log_format=os.environ.get("LOG_FORMAT", "json"), level=os.environ.get("LOG_LEVEL", "INFO")
)
# Replace the handlers gunicorn installs on its loggers before applying this (else
# each line would be written twice, once in gunicorn's own text format).
logconfig_dict["loggers"]["gunicorn.error"] = {"handlers": ["console"], "propagate": False}
logconfig_dict["loggers"]["gunicorn.access"] = {"handlers": ["console"], "propagate": False}
# A worker silent this long is killed and replaced (a stuck request, not a slow one).
timeout = int(os.environ.get("WEB_TIMEOUT", "60"))
graceful_timeout = 30
# Recycle workers now and then so that a slow leak never grows without bound.
max_requests = int(os.environ.get("WEB_MAX_REQUESTS", "2000"))
max_requests_jitter = max_requests // 10


def child_exit(server, worker):
    """Drop a dead worker's live gauges from the shared metrics folder."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
